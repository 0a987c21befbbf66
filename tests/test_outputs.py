"""Where commands write (issue: a newcomer's data loss). Three rules, each tested for every
command and every output flag:

1. no output ever replaces an input of the same command (corpus, model);
2. a default output name never replaces an existing file: the next free name is used;
3. every output path is checked before training starts, and a write that fails anyway
   leaves the trained model somewhere the message names.
"""
import os
import stat

import numpy as np
import pytest

from w2v import Word2Vec
from w2v.cli import main
from w2v.paths import OutputPathError, check_output_dir, check_output_file, unused_name
from w2v.training.trainer import Trainer

TRAIN = ["--epochs", "1", "--workers", "1", "--no-progress", "--vector-size", "8"]


@pytest.fixture
def corpus(small_corpus):
    """A small corpus named c2.txt in its own folder (the commands run in that folder)."""
    return small_corpus


@pytest.fixture
def no_training(monkeypatch):
    """Training fails loudly: a check that must come first has not."""
    def train(self):
        raise AssertionError("training started before the outputs were checked")
    monkeypatch.setattr(Trainer, "train", train)


@pytest.fixture(scope="module")
def model_file(trained_models, tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "mydata.npz"
    trained_models["sgd"].save(path)
    return path


def fingerprint(path):
    return path.read_bytes() if path.is_file() else sorted(os.listdir(path))


# --------------------------------------------------------- 1. inputs are never outputs
TRAIN_OUTPUT_FLAGS = [["-o"], ["--save-vectors"], ["--plot"], ["--checkpoint-dir"]]


@pytest.mark.parametrize("flag", TRAIN_OUTPUT_FLAGS, ids=lambda f: f[0])
def test_train_never_writes_over_its_corpus(corpus, flag, no_training, monkeypatch, capsys):
    pytest.importorskip("matplotlib") if flag == ["--plot"] else None
    monkeypatch.chdir(corpus.parent)
    before = corpus.read_bytes()
    for given in (str(corpus), "c2.txt", "./c2.txt", os.path.join("..", corpus.parent.name, "c2.txt")):
        assert main(["train", "c2.txt", *flag, given, *TRAIN]) == 1
        err = capsys.readouterr().err
        assert "c2.txt" in err and ("corpus" in err or "file, not a directory" in err)
    assert corpus.read_bytes() == before


def test_train_refuses_a_link_to_its_corpus(corpus, no_training, monkeypatch, capsys):
    monkeypatch.chdir(corpus.parent)
    os.symlink("c2.txt", "link.txt")
    assert main(["train", "c2.txt", "-o", "link.txt", *TRAIN]) == 1
    assert "corpus" in capsys.readouterr().err


def test_model_and_vectors_may_not_share_a_name(corpus, no_training, monkeypatch, capsys):
    monkeypatch.chdir(corpus.parent)
    assert main(["train", "c2.txt", "-o", "m.bin", "--save-vectors", "m.bin", *TRAIN]) == 1
    assert "both name" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-bin", "vec", "projector", "torch"])
def test_export_never_writes_over_its_model(model_file, fmt, capsys):
    before = model_file.read_bytes()
    assert main(["export", str(model_file), "--format", fmt, "-o", str(model_file)]) == 1
    assert "model" in capsys.readouterr().err
    assert model_file.read_bytes() == before


def test_plot_never_writes_over_its_model(model_file, capsys):
    pytest.importorskip("matplotlib")
    assert main(["plot", str(model_file), "-o", str(model_file)]) == 1
    assert model_file.is_file()


def test_python_api_never_writes_over_the_models_corpus(corpus):
    model = Word2Vec(str(corpus), workers=1, epochs=1, vector_size=8, progress=False)
    before = corpus.read_bytes()
    for save in (model.save, model.save_word2vec_format):
        with pytest.raises(OutputPathError, match="corpus"):
            save(str(corpus))
    assert corpus.read_bytes() == before


# ------------------------------------------- 2. default names never replace a file
@pytest.mark.parametrize("fmt,ext", [("word2vec", ".txt"), ("word2vec-bin", ".bin"),
                                     ("vec", ".vec"), ("projector", "-projector")])
def test_export_default_name_replaces_nothing(trained_models, tmp_path, fmt, ext, capsys):
    """The reported case: train mydata.txt -> mydata.npz, export -> mydata.txt (the corpus)."""
    trained_models["sgd"].save(tmp_path / "mydata.npz")
    existing = tmp_path / f"mydata{ext}"
    if fmt == "projector":
        existing.mkdir()
        (existing / "vectors.tsv").write_text("the user's file\n")
    else:
        existing.write_text("the user's corpus\n")
    before = fingerprint(existing)
    assert main(["export", str(tmp_path / "mydata.npz"), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert fingerprint(existing) == before
    if fmt == "projector":
        assert (existing / "vectors.tsv").read_text() == "the user's file\n"
    written = tmp_path / ("mydata-projector-2" if fmt == "projector" else f"mydata-2{ext}")
    assert written.exists() and str(written) in out and "exists" in out


def test_train_default_model_name_replaces_nothing(corpus, monkeypatch, capsys):
    monkeypatch.chdir(corpus.parent)
    (corpus.parent / "c2.w2v.npz").write_text("an older model the user keeps")
    assert main(["train", "c2.txt", *TRAIN]) == 0
    assert (corpus.parent / "c2.w2v.npz").read_text() == "an older model the user keeps"
    assert Word2Vec.load(corpus.parent / "c2-2.w2v.npz").vocab is not None
    assert "c2-2.w2v.npz" in capsys.readouterr().out


def test_default_plot_directory_replaces_nothing(model_file, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    os.mkdir("mydata-plots")
    (tmp_path / "mydata-plots" / "loss.png").write_text("a picture the user keeps")
    assert main(["plot", str(model_file), "--top", "20"]) == 0
    assert (tmp_path / "mydata-plots" / "loss.png").read_text() == "a picture the user keeps"
    assert (tmp_path / "mydata-plots-2" / "words.png").exists()


def test_an_explicit_existing_output_is_replaced(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    (tmp_path / "m.npz").write_text("old")
    assert main(["train", "c2.txt", "-o", "m.npz", *TRAIN]) == 0
    assert Word2Vec.load(tmp_path / "m.npz").vocab is not None


# ---------------------------------------- 3. outputs checked before training starts
def _unwritable(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    return folder


@pytest.mark.parametrize("flag", TRAIN_OUTPUT_FLAGS, ids=lambda f: f[0])
@pytest.mark.parametrize("where", ["missing-dir", "a-directory", "a-file-as-dir", "unwritable"])
def test_every_train_output_is_checked_before_training(corpus, tmp_path, flag, where, no_training,
                                                       monkeypatch, capsys):
    pytest.importorskip("matplotlib") if flag == ["--plot"] else None
    monkeypatch.chdir(corpus.parent)
    wants_dir = flag in (["--plot"], ["--checkpoint-dir"])
    if where == "unwritable":
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        path = _unwritable(tmp_path) / ("out" if wants_dir else "out.npz")
    elif where == "missing-dir":
        if wants_dir:                       # a directory is created, its parent too
            pytest.skip("missing directories are created")
        path = tmp_path / "nonexistent" / "m.npz"
    elif where == "a-directory":
        if wants_dir:
            pytest.skip("a directory is what these flags want")
        path = tmp_path
    else:
        (tmp_path / "afile").write_text("x")
        path = tmp_path / "afile" / "sub" if wants_dir else tmp_path / "afile" / "m.npz"
    assert main(["train", "c2.txt", *flag, str(path), *TRAIN]) == 1
    assert "error" in capsys.readouterr().err


def test_plot_without_matplotlib_is_refused_before_training(corpus, no_training, monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.chdir(corpus.parent)
    assert main(["train", "c2.txt", "--plot", *TRAIN]) == 1
    assert "matplotlib" in capsys.readouterr().err


def test_a_failing_final_write_rescues_the_model(corpus, tmp_path, monkeypatch, capsys):
    import w2v.io
    real = w2v.io.atomic_write
    monkeypatch.chdir(corpus.parent)

    def disk_full(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "m.npz":
            raise OSError(28, "No space left on device")
        return real(path, *args, **kwargs)
    monkeypatch.setattr(w2v.io, "atomic_write", disk_full)
    assert main(["train", "c2.txt", "-o", "m.npz", *TRAIN]) == 1
    err = capsys.readouterr().err
    assert "No space left" in err and "w2v-rescued-model" in err
    rescued = [name for name in os.listdir(corpus.parent) if name.startswith("w2v-rescued-model")]
    assert len(rescued) == 1 and rescued[0] in err
    assert Word2Vec.load(corpus.parent / rescued[0]).vocab is not None


# ------------------------------------------------------------ the path functions
def test_unused_name_numbers_before_the_first_dot(tmp_path):
    (tmp_path / "toy.w2v.npz").write_text("")
    (tmp_path / "toy-2.w2v.npz").write_text("")
    assert unused_name(tmp_path / "toy.w2v.npz") == str(tmp_path / "toy-3.w2v.npz")
    assert unused_name(tmp_path / "new.npz") == str(tmp_path / "new.npz")
    (tmp_path / "plots.d").mkdir()
    assert unused_name(tmp_path / "plots.d", is_dir=True) == str(tmp_path / "plots.d-2")


def test_check_output_functions(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b")
    with pytest.raises(OutputPathError, match="corpus"):
        check_output_file(tmp_path / "." / "c.txt", "model", [(str(corpus), "corpus")])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output_file(tmp_path / "no" / "m.npz", "model")
    with pytest.raises(IsADirectoryError, match="directory"):
        check_output_file(tmp_path, "model")
    with pytest.raises(NotADirectoryError, match="a file"):
        check_output_dir(corpus, "checkpoint directory")
    with pytest.raises(OutputPathError, match="corpus"):
        check_output_dir(tmp_path, "plot directory", [(str(corpus), "corpus")], files=["c.txt"])
    assert check_output_dir(tmp_path / "new" / "deeper", "checkpoint directory")


# ---------------------------------------------- settings given anywhere are honoured
@pytest.mark.parametrize("where", ["constructor", "train"])
def test_train_settings_are_honoured_wherever_given(corpus, tmp_path, where, capsys):
    calls = []
    settings = dict(callbacks=[lambda model, stats: calls.append(stats.epoch)],
                    checkpoint_dir=str(tmp_path / "ck"), progress=False)
    model = Word2Vec(workers=1, epochs=2, vector_size=8, checkpoint_every="1 epoch",
                     **(settings if where == "constructor" else {}))
    model.build_vocab(str(corpus))
    model.train(**(settings if where == "train" else {}))
    assert calls == [1, 2]
    assert any(name.endswith(".npz") for name in os.listdir(tmp_path / "ck"))
    assert capsys.readouterr().err == ""                 # no progress bar
    model.train(epochs=1)                                # a later call keeps the constructor's
    assert calls == ([1, 2, 3] if where == "constructor" else [1, 2])


def test_conflicting_settings_are_refused(corpus, tmp_path):
    model = Word2Vec(workers=1, epochs=1, vector_size=8, checkpoint_dir=str(tmp_path / "a"),
                     progress=False)
    model.build_vocab(str(corpus))
    with pytest.raises(ValueError, match="checkpoint_dir"):
        model.train(checkpoint_dir=str(tmp_path / "b"))
    with pytest.raises(TypeError, match="callback"):
        Word2Vec(callbacks=[3])
    with pytest.raises(TypeError, match="progress"):
        Word2Vec(progress="no")


# -------------------------------------- frozen pretrained vectors + new words
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_frozen_pretrained_rows_stay_and_new_words_train(trained_models, toy_corpus, tmp_path,
                                                         optimizer):
    source = trained_models["sgd"]
    keep = source.index_to_key[: len(source) // 2]
    rows = np.stack([source[w] for w in keep])
    model = Word2Vec.from_pretrained(rows, keep, freeze=True, optimizer=optimizer, workers=1,
                                     epochs=2, progress=False)
    model.build_vocab(toy_corpus, update=True)
    new = len(model) - len(keep)
    assert new > 0
    initial_new = model.W_in[len(keep):].copy()
    model.train()
    np.testing.assert_array_equal(model.W_in[: len(keep)], rows)        # pretrained: fixed
    moved = np.any(model.W_in[len(keep):] != initial_new, axis=1)
    assert moved.mean() > 0.9                                           # new words: trained
    model.save(tmp_path / "m.npz")
    loaded = Word2Vec.load(tmp_path / "m.npz")
    assert loaded.frozen_rows == len(keep)
    before = loaded.W_in[: len(keep)].copy()
    loaded.train(toy_corpus, epochs=1, progress=False)
    np.testing.assert_array_equal(loaded.W_in[: len(keep)], before)
