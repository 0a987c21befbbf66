"""Checkpoints and resume: the state they hold, atomic writes, kill -9 and --resume."""
import numpy as np
import pytest

from w2v.core import train as _kernels


def _arrays(vocab=50, dim=8):
    rng = np.random.default_rng(0)
    W_in = rng.normal(0, 0.1, (vocab, dim)).astype(np.float32)
    W_out = np.zeros_like(W_in)
    counts = np.arange(vocab, 0, -1).astype(np.float64)
    from w2v.data.sampling import NegativeSampler, keep_probabilities
    sampler = NegativeSampler(counts)
    ids = rng.integers(0, vocab, 2000).astype(np.int32)
    starts = np.arange(0, 2001, 100).astype(np.int64)
    return _kernels.TrainingArrays(tables={"in": W_in, "out": W_out}, moments=None,
                                   keep_prob=keep_probabilities(counts, 0), ids=ids,
                                   sentence_starts=starts, alias_prob=sampler.alias_prob,
                                   alias_index=sampler.alias_index, window=3, negative=4)


def test_worker_rng_state_round_trips_and_continues_the_stream():
    arrays = _arrays()
    a, b = _kernels.Worker(arrays, 5, 0), _kernels.Worker(arrays, 5, 0)
    assert a.get_rng_state() == b.get_rng_state() != 0
    assert _kernels.Worker(arrays, 5, 1).get_rng_state() != a.get_rng_state()
    _kernels.train_chunk(arrays, a, 0, 10, 0.01, 0.01)
    assert a.get_rng_state() != b.get_rng_state()        # training drew numbers
    b.set_rng_state(a.get_rng_state())
    assert b.get_rng_state() == a.get_rng_state()
    for bad in (0, -1, 2**64, 1.5, True, "7"):
        with pytest.raises(ValueError, match="RNG state"):
            b.set_rng_state(bad)


# ------------------------------------------------------------------------ helpers
import _thread
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from w2v import Word2Vec
from w2v.training.checkpoint import CheckpointError, CheckpointWriter, list_checkpoints

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_same_model(a, b):
    assert a.index_to_key == b.index_to_key
    assert a.tables().keys() == b.tables().keys()
    for name, table in a.tables().items():
        np.testing.assert_array_equal(table, b.tables()[name])
    for m, n in zip(a.adam_moments() or (), b.adam_moments() or ()):
        np.testing.assert_array_equal(m, n)
    assert a.adam_step == b.adam_step and a.train_runs == b.train_runs
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert [h["words"] for h in a.history] == [h["words"] for h in b.history]


def keep_every_checkpoint(monkeypatch, into):
    """Copy each checkpoint aside as it is written (the directory keeps only two)."""
    save = CheckpointWriter.save

    def spy(self, *args, **kwargs):
        path = save(self, *args, **kwargs)
        if path and path not in [p for p, _ in into]:
            copy = os.path.join(str(into.folder), f"kept-{len(into):03d}.npz")
            shutil.copy(path, copy)
            into.append((copy, args[:2]))
        return path
    monkeypatch.setattr(CheckpointWriter, "save", spy)


class Kept(list):
    def __init__(self, folder):
        super().__init__()
        self.folder = folder


def resume_from(copy, tmp_path, corpus, **overrides):
    directory = tmp_path / f"resume-{os.path.basename(copy)}"
    directory.mkdir()
    shutil.copy(copy, directory / "checkpoint-000001.npz")
    model = Word2Vec.resume(directory, corpus, **overrides)
    return model.train(progress=False)


# --------------------------------------------------------------- resuming in process
@pytest.mark.parametrize("model", [{}, {"sg": True, "hs": True}, {"hs": True, "negative": 0},
                                   {"sg": True, "shared_negatives": False},
                                   {"sg": True, "minn": 3, "maxn": 4, "bucket": 500}],
                         ids=["cbow", "sg-ns-hs", "cbow-hs", "sg-per-pair", "sg-subwords"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resuming_any_epoch_checkpoint_ends_bit_identical(toy_corpus, tmp_path, monkeypatch,
                                                          optimizer, model):
    plain = Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=4, epochs=3,
                     progress=False, **model)
    kept = Kept(tmp_path)
    keep_every_checkpoint(monkeypatch, kept)
    checkpointed = Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=4, epochs=3,
                            progress=False, checkpoint_dir=tmp_path / "ck", **model)
    assert_same_model(plain, checkpointed)               # checkpointing changes nothing
    assert [position for _, position in kept] == [(0, 0), (1, 0), (2, 0), (3, 0)]
    for copy, _ in kept[:3]:
        assert_same_model(plain, resume_from(copy, tmp_path, toy_corpus))
    finished = resume_from(kept[3][0], tmp_path, toy_corpus)   # nothing left to train
    assert_same_model(plain, finished)
    assert len(finished.last_report.epochs) == 3


def test_mid_epoch_checkpoints_resume_bit_identical_with_one_worker(toy_corpus, tmp_path, monkeypatch):
    plain = Word2Vec(toy_corpus, workers=1, seed=6, epochs=2, chunk_words=3000, progress=False)
    calls = [0]

    def every_fifth_chunk(self):
        calls[0] += 1
        return calls[0] % 5 == 0
    monkeypatch.setattr(CheckpointWriter, "time_due", every_fifth_chunk)
    kept = Kept(tmp_path)
    keep_every_checkpoint(monkeypatch, kept)
    Word2Vec(toy_corpus, workers=1, seed=6, epochs=2, chunk_words=3000, progress=False,
             checkpoint_dir=tmp_path / "ck", checkpoint_every="1h")
    middle = [(copy, pos) for copy, pos in kept if pos[1] != 0]
    assert len(middle) >= 6
    for copy, _ in (middle[0], middle[len(middle) // 2], middle[-1]):
        assert_same_model(plain, resume_from(copy, tmp_path, toy_corpus))


def test_ctrl_c_in_the_middle_of_an_epoch_checkpoints_where_it_stopped(toy_corpus, tmp_path, monkeypatch):
    from w2v.core import train as _kernels
    plain = Word2Vec(toy_corpus, optimizer="sgd", workers=1, seed=8, epochs=2, progress=False)
    real, calls = _kernels.train_chunk, [0]

    def train_chunk(*args):
        calls[0] += 1
        if calls[0] == 27:                    # in epoch 2: as if Ctrl-C came now
            _thread.interrupt_main()
        return real(*args)
    monkeypatch.setattr(_kernels, "train_chunk", train_chunk)
    model = Word2Vec(optimizer="sgd", workers=1, seed=8, epochs=2).build_vocab(toy_corpus)
    # a shell starts background jobs with SIGINT ignored, and then interrupt_main() does
    # nothing: this test gets Python's own handler, as an interactive run has
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            model.train(progress=False, checkpoint_dir=tmp_path / "ck")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert model.last_report.interrupted and model.history[-1]["complete"] is False
    monkeypatch.setattr(_kernels, "train_chunk", real)
    resumed = Word2Vec.resume(tmp_path / "ck")
    epoch, sentence = resumed.resume_state.epoch, resumed.resume_state.sentence
    assert epoch == 1 and 0 < sentence < model.corpus.n_sentences
    assert_same_model(plain, resumed.train(progress=False))


def test_interrupted_between_epochs_by_a_callback(toy_corpus, tmp_path):
    plain = Word2Vec(toy_corpus, workers=1, seed=9, epochs=3, progress=False)

    def stop_after_two(model, stats):
        if stats.epoch == 2:
            raise KeyboardInterrupt
    model = Word2Vec(workers=1, seed=9, epochs=3).build_vocab(toy_corpus)
    with pytest.raises(KeyboardInterrupt):
        model.train(progress=False, callbacks=[stop_after_two], checkpoint_dir=tmp_path)
    resumed = Word2Vec.resume(tmp_path)
    assert (resumed.resume_state.epoch, resumed.resume_state.sentence) == (2, 0)
    assert_same_model(plain, resumed.train(progress=False))


def test_resumed_with_more_workers_finishes_a_valid_model(toy_corpus, toy_questions, tmp_path):
    from w2v.evaluation import evaluate_analogies

    def stop_after_one(model, stats):
        if stats.epoch == 1:
            raise KeyboardInterrupt
    model = Word2Vec(workers=1, epochs=5).build_vocab(toy_corpus)
    with pytest.raises(KeyboardInterrupt):
        model.train(progress=False, callbacks=[stop_after_one], checkpoint_dir=tmp_path)
    resumed = Word2Vec.resume(tmp_path, workers=2).train(progress=False)
    assert resumed.last_report.workers == 2 and len(resumed.history) == 5
    assert evaluate_analogies(resumed, toy_questions, restrict_vocab=None)["accuracy"] >= 0.9


def test_time_based_checkpoints_with_two_workers(toy_corpus, tmp_path):
    model = Word2Vec(toy_corpus, workers=2, epochs=2, chunk_words=2000, progress=False,
                     checkpoint_dir=tmp_path, checkpoint_every="0.01s")
    found = list_checkpoints(tmp_path)
    assert len(found) == 2                                 # only the newest two are kept
    last = Word2Vec.resume(tmp_path)
    assert (last.resume_state.epoch, last.resume_state.sentence) == (2, 0)
    np.testing.assert_array_equal(last.W_in, model.W_in)


def test_resume_refuses_a_corpus_of_the_same_size_but_other_content(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the king rules the land\nthe queen rules the sea\n" * 20)
    Word2Vec(str(corpus), min_count=1, epochs=1, workers=1, progress=False,
             checkpoint_dir=tmp_path / "ck")
    corpus.write_text("the land rules the king\nthe queen rules the sea\n" * 20)   # same bytes
    with pytest.raises(CheckpointError, match=r"c\.txt is not the corpus .* was trained on"):
        Word2Vec.resume(tmp_path / "ck")


# --------------------------------------------------------------------- the files
def test_a_checkpoint_is_a_model_file_with_the_run_state(toy_corpus, tmp_path):
    model = Word2Vec(toy_corpus, workers=1, epochs=2, progress=False, checkpoint_dir=tmp_path)
    names = sorted(os.listdir(tmp_path))
    assert names == ["checkpoint-000002.npz", "checkpoint-000003.npz"]   # no temp files
    last = tmp_path / names[-1]
    loaded = Word2Vec.load(last)                  # a checkpoint loads as a model
    np.testing.assert_array_equal(loaded.W_in, model.W_in)
    assert loaded.history == model.history and loaded.train_runs == 0   # the run was open
    with np.load(last) as npz:
        assert npz["rng_states"].dtype == np.uint64 and npz["rng_states"].shape == (1,)
        state = json.loads(npz["meta_json"].tobytes())["checkpoint"]
    assert state["epochs"] == 2 and state["epoch"] == 2 and state["sentence"] == 0
    assert state["corpus"]["path"] == os.path.abspath(toy_corpus)
    assert state["corpus"]["size"] == os.path.getsize(toy_corpus)
    assert len(state["corpus"]["fingerprint"]) == 32
    assert oct(last.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_failed_write_keeps_the_previous_checkpoint_whole(toy_corpus, tmp_path, monkeypatch, caplog):
    import logging

    import w2v.io
    model = Word2Vec(workers=1, epochs=3).build_vocab(toy_corpus)
    real, writes, seen = w2v.io._write_aligned_npz, [0], []

    def savez_dies_on_the_third(f, arrays):
        writes[0] += 1
        if writes[0] == 3:
            f.write(b"half a checkpoint")
            raise OSError(28, "No space left on device")
        return real(f, arrays)

    def look(m, stats):
        seen.append(sorted(os.listdir(tmp_path)))
    monkeypatch.setattr(w2v.io, "_write_aligned_npz", savez_dies_on_the_third)
    with caplog.at_level(logging.ERROR, logger="w2v.training.checkpoint"):
        model.train(progress=False, checkpoint_dir=tmp_path, callbacks=[look])
    assert "could not write the checkpoint" in caplog.text and "No space left" in caplog.text
    assert "training goes on, the last checkpoint is" in caplog.text
    # after epoch 2 the write failed: epoch 1's checkpoint stayed, whole, and no temp file
    assert seen[2] == ["checkpoint-000001.npz", "checkpoint-000002.npz"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-000002.npz", "checkpoint-000003.npz"]
    assert Word2Vec.load(tmp_path / "checkpoint-000002.npz").history == model.history[:1]
    assert len(model.history) == 3 and np.isfinite(model.W_in).all()


# ------------------------------------------------------------ a real kill -9
def _cli(*args):
    # run with cwd=tmp_path: from the repository root, `-m w2v` would import the source
    # tree rather than the installed package
    return [sys.executable, "-m", "w2v", "train", *args]


def _wait_for(path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.005)


TRAIN = ["--epochs", "16", "--workers", "1", "--seed", "5", "--optimizer", "sgd",
         "--no-progress", "--quiet"]


def test_kill_9_mid_training_then_resume_ends_bit_identical(toy_corpus, tmp_path):
    plain = Word2Vec(toy_corpus, epochs=16, workers=1, seed=5, optimizer="sgd", progress=False)
    ck, out = tmp_path / "ck", tmp_path / "model.npz"
    process = subprocess.Popen(_cli(toy_corpus, "-o", str(out), "--checkpoint-dir", str(ck),
                                    "--checkpoint-every", "1-epoch", *TRAIN),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    _wait_for(ck / "checkpoint-000003.npz", process)        # two epochs done
    assert process.poll() is None, "finished before it could be killed"
    process.kill()                                           # SIGKILL: no handler, no cleanup
    process.communicate()
    assert process.returncode == -signal.SIGKILL and not out.exists()
    done = subprocess.run(_cli(toy_corpus, "-o", str(out), "--checkpoint-dir", str(ck),
                               "--resume", *TRAIN), capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    resumed = Word2Vec.load(out)
    assert_same_model(plain, resumed)
    assert len(resumed.history) == 16 and resumed.history[0]["epoch"] == 1


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(toy_corpus, tmp_path):
    ck, out = tmp_path / "ck", tmp_path / "model.npz"
    process = subprocess.Popen(
        _cli(toy_corpus, "-o", str(out), "--checkpoint-dir", str(ck), "--checkpoint-every", "1h",
             "--chunk-words", "2000", *TRAIN), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(ck / "checkpoint-000001.npz", process)        # the run's starting state
    time.sleep(0.3)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    plain = Word2Vec(toy_corpus, epochs=16, workers=1, seed=5, optimizer="sgd", chunk_words=2000,
                     progress=False)
    # what was trained is saved, and checkpointed exactly where it stopped
    trained = sum(h["words"] for h in Word2Vec.load(out).history)
    state = Word2Vec.resume(ck).resume_state
    at = state.epoch * plain.corpus.n_words + int(plain.corpus.sentence_starts[state.sentence])
    assert trained == at > 0
    done = subprocess.run(_cli(toy_corpus, "-o", str(out), "--checkpoint-dir", str(ck),
                               "--resume", *TRAIN), capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert_same_model(plain, Word2Vec.load(out))


def test_a_finished_trainer_is_freed_at_once(toy_corpus, tmp_path):
    """No reference cycle (Trainer -> GoodState / CheckpointWriter -> Trainer) keeps a
    finished Trainer and the arrays it holds alive until the garbage collector runs."""
    import gc
    import weakref

    from w2v import Config, build_corpus
    from w2v.training.trainer import Trainer
    config = Config(workers=2, epochs=1)
    corpus, vocab = build_corpus(toy_corpus, config)
    model = Word2Vec(config=config)
    model.vocab = vocab
    model._init_weights()
    gc.disable()
    try:
        trainer = Trainer(model, corpus, progress=False, checkpoint_dir=tmp_path / "ckpt")
        trainer.train()
        gone = weakref.ref(trainer)
        del trainer
        assert gone() is None
    finally:
        gc.enable()
