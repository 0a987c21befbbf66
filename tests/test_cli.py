import os
import subprocess
import sys

import numpy as np

from w2v import Word2Vec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_train_script_writes_model_and_vectors(toy_corpus, tmp_path):
    out = run(os.path.join(ROOT, "scripts", "train.py"), toy_corpus, "--output", "m.npz",
              "--save-vectors", "v.bin", "--epochs", "2", "--workers", "1", "--no-progress",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "vocabulary:" in out.stdout and "M words/s" in out.stdout
    assert "man : king = woman : ?" in out.stdout and "  king:" in out.stdout
    model = Word2Vec.load(tmp_path / "m.npz")
    assert model.config.epochs == 2 and len(model.history) == 2
    header = (tmp_path / "v.bin").read_bytes().split(b"\n", 1)[0]
    assert header == f"{len(model)} 100".encode()


def test_module_entry_point_and_flags(toy_corpus, tmp_path):
    out = run("-m", "w2v", toy_corpus, "--optimizer", "sgd", "--vector-size", "16",
              "--epochs", "1", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    model = Word2Vec.load(tmp_path / "toy_corpus.w2v.npz")
    assert model.config.optimizer == "sgd" and model.W_in.shape[1] == 16
    assert np.isfinite(model.W_in).all()


def test_help_and_bad_flags(tmp_path):
    out = run("-m", "w2v", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "similar MODEL WORD" in out.stdout and "export MODEL" in out.stdout
    out = run("-m", "w2v", "train", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "--vector-size" in out.stdout and "--batch-words" in out.stdout
    out = run(os.path.join(ROOT, "scripts", "train.py"), "--help", cwd=tmp_path)
    assert out.returncode == 0 and "--vector-size" in out.stdout and "--plot" in out.stdout
    out = run("-m", "w2v", "corpus.txt", "--window", "0", cwd=tmp_path)
    assert out.returncode == 2 and "window=0 is out of range" in out.stderr


def test_ctrl_c_stops_at_a_chunk_and_saves_what_was_trained(tmp_path):
    import signal
    import time
    # a corpus big enough to be still training after the start-up
    corpus = tmp_path / "big.txt"
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(2000)])
    with open(corpus, "w") as f:
        for _ in range(400):
            f.write(" ".join(words[rng.zipf(1.3, 5000) % 2000]) + "\n")
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "train.py"), str(corpus), "--epochs",
         "1000", "--no-progress", "--workers", "2", "--chunk-words", "2000", "--output", "m.npz"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)                          # reading takes well under a second
    assert process.poll() is None, process.communicate()[0]
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130, out
    assert "interrupted: saving what was trained so far" in out
    model = Word2Vec.load(tmp_path / "m.npz")
    assert model.history and model.history[-1]["words"] > 0
    assert model.history[-1]["complete"] is False
    assert np.isfinite(model.W_in).all()


def test_bad_corpus_is_one_clear_line_not_a_traceback(tmp_path):
    out = run("-m", "w2v", "missing.txt", cwd=tmp_path)
    assert out.returncode == 1
    assert "error: corpus file not found" in out.stderr and "Traceback" not in out.stderr
    (tmp_path / "rare.txt").write_text("a b c\n")
    out = run("-m", "w2v", "rare.txt", cwd=tmp_path)
    assert out.returncode == 1 and "empty vocabulary" in out.stderr and "Traceback" not in out.stderr
