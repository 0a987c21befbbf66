"""The w2v command's subcommands: similar, analogy, evaluate, export, plot."""
import importlib.util
import os

import numpy as np
import pytest

from w2v import Word2Vec, load_vectors
from w2v.cli import main


@pytest.fixture(scope="module")
def model_file(trained_models, tmp_path_factory):
    path = tmp_path_factory.mktemp("cmd") / "toy.npz"
    trained_models["adam"].save(path)
    return str(path)


def test_similar_and_analogy(model_file, capsys):
    assert main(["similar", model_file, "king", "paris", "-n", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("king:\n") and "paris:" in out and out.count("\n  ") == 6
    assert main(["analogy", model_file, "man", "king", "woman", "-n", "1"]) == 0
    assert capsys.readouterr().out.split("\n")[1].split("\t")[0].strip() == "queen"


def test_queries_work_on_word2vec_files_too(trained_models, tmp_path, capsys):
    trained_models["adam"].save_word2vec_format(tmp_path / "v.bin")
    assert main(["similar", str(tmp_path / "v.bin"), "king", "-n", "1"]) == 0
    expected = trained_models["adam"].most_similar("king", topn=1)[0][0]
    assert f"  {expected}\t" in capsys.readouterr().out


def test_unknown_word_is_one_error_line(model_file, capsys):
    assert main(["similar", model_file, "zzzz"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "error: word 'zzzz' not in vocabulary" in captured.err


def test_evaluate_prints_accuracy_and_correlation(model_file, toy_questions, tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\nking\tapples\t1\ncat\tcats\t8\nboy\tgirl\t8\n")
    assert main(["evaluate", model_file, "--analogies", toy_questions, "--pairs", str(pairs),
                 "--sections"]) == 0
    out = capsys.readouterr().out
    assert "analogies (3cosadd, 30000 most frequent): 100.00% (528/528, 0 skipped)" in out
    assert "male-female" in out and "word pairs: spearman" in out and "4 pairs" in out
    with pytest.raises(SystemExit):
        main(["evaluate", model_file])          # neither file: argparse usage error


@pytest.mark.parametrize("fmt,name", [("word2vec", "v.txt"), ("word2vec-bin", "v.bin"),
                                      ("vec", "v.vec")])
def test_export_vector_formats(trained_models, model_file, tmp_path, fmt, name, capsys):
    out = tmp_path / name
    assert main(["export", model_file, "--format", fmt, "-o", str(out)]) == 0
    loaded = load_vectors(out)
    assert loaded.index_to_key == trained_models["adam"].index_to_key
    np.testing.assert_allclose(loaded.vectors, trained_models["adam"].word_vecs, atol=1e-6)


def test_export_projector(trained_models, model_file, tmp_path):
    out = tmp_path / "proj"
    assert main(["export", model_file, "--format", "projector", "-o", str(out)]) == 0
    vectors = np.loadtxt(out / "vectors.tsv", delimiter="\t")
    words = (out / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert words == trained_models["adam"].index_to_key
    np.testing.assert_allclose(vectors, trained_models["adam"].word_vecs, rtol=1e-5, atol=1e-7)


def test_export_default_output_name(model_file):
    assert main(["export", model_file, "--format", "vec"]) == 0
    assert os.path.exists(model_file[:-len(".npz")] + ".vec")


@pytest.mark.skipif(not importlib.util.find_spec("torch"), reason="PyTorch not installed")
def test_export_torch_loads_without_pickle(trained_models, model_file, tmp_path):
    import torch
    out = tmp_path / "v.pt"
    assert main(["export", model_file, "--format", "torch", "-o", str(out)]) == 0
    state = torch.load(out, weights_only=True)
    assert state["words"] == trained_models["adam"].index_to_key
    embedding = torch.nn.Embedding.from_pretrained(state["weight"])
    np.testing.assert_array_equal(embedding.weight.numpy(), trained_models["adam"].word_vecs)


@pytest.mark.skipif(not importlib.util.find_spec("matplotlib"), reason="matplotlib not installed")
def test_plot_writes_loss_and_word_map(model_file, tmp_path, capsys):
    import matplotlib.image
    out = tmp_path / "plots"
    assert main(["plot", model_file, "-o", str(out), "--top", "30"]) == 0
    for name in ("loss.png", "words.png"):
        image = matplotlib.image.imread(out / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 300
        assert image[..., :3].std() > 0.05          # not a blank canvas
    assert main(["plot", model_file, "-o", str(out), "--words", "king", "nosuchword"]) == 1
    assert "not in the vocabulary: 'nosuchword'" in capsys.readouterr().err


def test_pca_puts_the_main_direction_first():
    from w2v.plot import pca_2d
    rng = np.random.default_rng(0)
    points = np.outer(rng.normal(0, 5, 200), [1, 1, 0, 0]) + rng.normal(0, 0.1, (200, 4))
    projected = pca_2d(points)
    assert projected.shape == (200, 2)
    assert projected[:, 0].var() > 100 * projected[:, 1].var()
    np.testing.assert_allclose(projected.mean(axis=0), 0, atol=1e-9)


def test_loss_curve_is_recorded_and_saved(trained_models, model_file):
    model = Word2Vec.load(model_file)
    curve = model.loss_curve
    assert len(curve) >= 5 * 10
    words = [w for w, _ in curve]
    assert words == sorted(words) and words[-1] == sum(h["words"] for h in model.history)
    assert curve[-1][1] < curve[0][1]
