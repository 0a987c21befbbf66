"""What a newcomer meets in the first hour (the surprises of the newcomer issue): the source
folder shadowing the installed package, logs in a file, and the small ones."""
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from w2v import Config, Word2Vec
from w2v.cli import main
from w2v.training.report import EpochStats, ProgressLog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = ["--epochs", "2", "--workers", "1", "--vector-size", "8"]


def test_an_unbuilt_source_folder_says_what_to_do(tmp_path):
    """`python -m w2v` from a checkout whose compiled modules are not built (they are
    installed elsewhere): one clear message, not `No module named 'w2v._scan'`."""
    shutil.copytree(os.path.join(ROOT, "w2v"), tmp_path / "w2v",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-m", "w2v", "--help"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "build_ext --inplace" in out.stderr and "source folder" in out.stderr


def test_logs_to_a_file_give_a_line_per_epoch_as_it_ends(small_corpus, tmp_path):
    """stdout/stderr redirected to a file: no tqdm states on a \\r line; the epoch lines
    appear as epochs end (so a long run can be followed with tail -f)."""
    with open(tmp_path / "log.txt", "w") as log:
        out = subprocess.run([sys.executable, "-m", "w2v", "train", str(small_corpus), "-o",
                              str(tmp_path / "m.npz"), *TRAIN], cwd=tmp_path, stdout=log,
                             stderr=subprocess.STDOUT, timeout=300)
    assert out.returncode == 0
    text = (tmp_path / "log.txt").read_text()
    assert "\r" not in text
    assert text.count("epoch 1/2 done: loss") == 1 and text.count("epoch 2/2 done: loss") == 1


def test_progress_log_lines_within_a_long_epoch(caplog):
    now = [0.0]
    log = ProgressLog(epochs=3, epoch_words=1000, every=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="w2v.training"):
        log.epoch_begins()
        for words in range(100, 1001, 100):
            now[0] += 3.0                                   # 3 s per 100 words
            log.during(0, words, windows=words, loss=2.0 * words, lr=0.01)
        log.epoch_done(1, EpochStats(epoch=1, loss=2.0, words=1000, windows=1000, seconds=30.0,
                                     lr=0.01))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3                  # at 12 s and 24 s (10 s apart at least), the end
    assert lines[0].startswith("epoch 1/3:  40.0%") and "loss 2.0000" in lines[0]
    assert lines[-1].startswith("epoch 1/3 done: loss 2.0000, 1,000 words, 30.0 s")


def test_no_progress_bar_when_not_a_terminal_nor_when_turned_off(small_corpus, capsys):
    Word2Vec(str(small_corpus), workers=1, epochs=1, vector_size=8)       # stderr is not a tty
    Word2Vec(str(small_corpus), workers=1, epochs=1, vector_size=8, progress=False)
    assert "\r" not in capsys.readouterr().err


def test_resuming_a_finished_run_trains_nothing(small_corpus, tmp_path, capsys, caplog):
    ck = str(tmp_path / "ck")
    assert main(["train", str(small_corpus), "-o", str(tmp_path / "m.npz"), "--checkpoint-dir",
                 ck, "--no-progress", *TRAIN]) == 0
    before = Word2Vec.load(tmp_path / "m.npz")
    capsys.readouterr()
    with caplog.at_level(logging.INFO):
        assert main(["train", str(small_corpus), "-o", str(tmp_path / "again.npz"),
                     "--checkpoint-dir", ck, "--resume"]) == 0
    said = capsys.readouterr().out + "\n".join(r.getMessage() for r in caplog.records)
    assert "finished" in said and "epoch 3 of 2" not in said
    again = Word2Vec.load(tmp_path / "again.npz")
    assert len(again.history) == 2
    np.testing.assert_array_equal(again.W_in, before.W_in)


def test_resume_is_announced_once_and_times_add_up(small_corpus, tmp_path, capsys, caplog):
    ck = str(tmp_path / "ck")
    model = Word2Vec(workers=1, epochs=3, vector_size=8, progress=False, checkpoint_dir=ck)
    model.build_vocab(str(small_corpus))
    stop = [lambda m, stats: (_ for _ in ()).throw(KeyboardInterrupt) if stats.epoch == 1 else None]
    with pytest.raises(KeyboardInterrupt):
        model.train(callbacks=stop)
    capsys.readouterr()
    with caplog.at_level(logging.INFO):
        assert main(["train", str(small_corpus), "-o", str(tmp_path / "m.npz"),
                     "--checkpoint-dir", ck, "--resume", "--no-progress"]) == 0
    out = capsys.readouterr().out
    said = out + "\n".join(r.getMessage() for r in caplog.records)
    assert said.count("resuming") == 1
    assert "before the resume" in out and "this command took" in out


def test_numpy_integers_and_gensim_ints_are_accepted():
    config = Config(epochs=np.int64(3), window=np.int32(4), sg=1, hs=0, alpha=np.float32(0.05))
    assert config.epochs == 3 and type(config.epochs) is int and config.sg is True
    assert isinstance(config.alpha, float)


def test_unknown_hyperparameters_name_the_nearest_known_one():
    with pytest.raises(TypeError, match="'vectorsize' \\(did you mean 'vector_size'\\?\\)"):
        Word2Vec(vectorsize=50)
    with pytest.raises(TypeError, match="did you mean 'negative'"):
        Config().replace(negatives=5)


def test_version_and_a_mistyped_command(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("w2v ")
    assert main(["trian", "corpus.txt"]) == 1
    assert "did you mean `w2v train`" in capsys.readouterr().err


def test_a_truncated_model_is_reported_as_a_damaged_model(trained_models, tmp_path, capsys):
    path = tmp_path / "m.npz"
    trained_models["sgd"].save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert main(["similar", str(path), "king"]) == 1
    err = capsys.readouterr().err
    assert "header" not in err and "m.npz" in err


@pytest.mark.parametrize("argv", [["evaluate", "M", "--analogies", "q.txt", "--restrict-vocab", "0"],
                                  ["plot", "M", "--top", "-1"], ["similar", "M", "king", "-n", "0"]])
def test_out_of_range_counts_are_refused(argv, trained_models, tmp_path, capsys):
    path = tmp_path / "m.npz"
    trained_models["sgd"].save(path)
    argv = [str(path) if a == "M" else a for a in argv]
    with pytest.raises(SystemExit):
        main(argv)
    assert "must be >= 1" in capsys.readouterr().err


def test_plot_checks_the_words_before_writing_anything(trained_models, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "m.npz"
    trained_models["sgd"].save(path)
    assert main(["plot", str(path), "-o", str(tmp_path / "p"), "--words", "king", "zzzz", "queen"]) == 1
    assert not (tmp_path / "p").exists() or not os.listdir(tmp_path / "p")


def test_cli_errors_name_the_cli_flag(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good words here\nbad \xff\xfe bytes\n" * 10)
    assert main(["train", str(bad), "--min-count", "1", "--no-progress"]) == 1
    assert "--encoding-errors replace" in capsys.readouterr().err
    vectors = tmp_path / "v.txt"
    vectors.write_bytes(b"2 2\nok 1 2\nb\xffd 3 4\n")
    assert main(["similar", str(vectors), "ok"]) == 1
    assert "--unicode-errors replace" in capsys.readouterr().err
    assert main(["similar", str(vectors), "ok", "--unicode-errors", "replace"]) == 0
