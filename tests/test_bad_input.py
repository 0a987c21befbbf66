"""The bad input catalogue: every way a user, a file or a run can go wrong, one test each.

Each case must end in an exception of a documented type whose message names the
problem (the file, the line, the parameter, the allowed range), or in a correct result
that is reported; never a crash, a hang, a huge allocation or a silently wrong answer.
"""
import gzip
import io
import json
import logging
import os
import pathlib
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from w2v import Config, CorpusError, ModelFileError, TrainingDiverged, Word2Vec, build_corpus
from w2v.core import train as _kernels
from w2v.data import corpus as corpus_module
from w2v.training.checkpoint import CheckpointError, list_checkpoints
from w2v.io import load_word2vec_format

SENTENCES = [["the", "king", "rules", "the", "land"], ["the", "queen", "rules", "the", "sea"],
             ["a", "king", "and", "a", "queen"]] * 20


@pytest.fixture(scope="module")
def small_model():
    return Word2Vec(SENTENCES, min_count=1, vector_size=8, epochs=2, workers=1, seed=1,
                    progress=False)


@pytest.fixture()
def model_file(small_model, tmp_path):
    path = tmp_path / "model.npz"
    small_model.save(path)
    return path


def write(path, data: bytes):
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------- corpus paths
def test_missing_corpus_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"corpus file not found: .*nothing\.txt"):
        build_corpus(tmp_path / "nothing.txt", Config())


def test_corpus_path_is_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"corpus path is a directory, not a file"):
        build_corpus(tmp_path, Config())


def test_unreadable_corpus_file(tmp_path, monkeypatch):
    path = write(tmp_path / "secret.txt", b"a b c\n")
    if os.geteuid() == 0:          # root reads anything: make open() refuse as it would
        def refuse(name, *args, **kwargs):
            raise PermissionError(13, "Permission denied", os.fspath(name))
        monkeypatch.setattr(corpus_module, "open", refuse, raising=False)
    else:
        path.chmod(0)
    with pytest.raises(PermissionError, match=r"not readable \(permission denied\): .*secret\.txt"):
        build_corpus(path, Config(min_count=1))


def test_truncated_compressed_corpus(tmp_path):
    packed = gzip.compress(b"the king rules\n" * 5000)
    path = write(tmp_path / "cut.txt.gz", packed[: len(packed) // 2])
    with pytest.raises(CorpusError, match=r"cut\.txt\.gz: cannot read: .*end-of-stream"):
        build_corpus(path, Config(min_count=1))


# ---------------------------------------------------------------- corpus contents
def test_empty_corpus(tmp_path):
    path = write(tmp_path / "empty.txt", b"")
    with pytest.raises(CorpusError, match=r"empty\.txt: empty vocabulary.*min_count=5.*0 tokens"):
        build_corpus(path, Config())


def test_whitespace_only_corpus(tmp_path):
    path = write(tmp_path / "blank.txt", b" \n\t\r\n\n   \n")
    with pytest.raises(CorpusError, match=r"blank\.txt: empty vocabulary"):
        build_corpus(path, Config(min_count=1))


def test_every_word_below_min_count(tmp_path):
    path = write(tmp_path / "rare.txt", b"a b c d\n" * 4)
    with pytest.raises(CorpusError, match=r"rare\.txt: empty vocabulary: no word occurs at least "
                                          r"min_count=5 times in 16 tokens"):
        build_corpus(path, Config(min_count=5))


def test_corpus_shorter_than_a_window_still_trains():
    model = Word2Vec([["a", "b", "c"]] * 3, min_count=1, window=10, vector_size=4, epochs=1,
                     workers=1, sample=0, progress=False)
    assert model.last_report.windows == 9 and np.isfinite(model.W_in).all()


def test_a_tiny_corpus_subsampled_to_nothing_is_reported(caplog):
    with caplog.at_level(logging.WARNING, logger="w2v.training.trainer"):
        model = Word2Vec([["a", "b", "c"]] * 3, min_count=1, vector_size=4, epochs=1, workers=1,
                         progress=False)
    assert model.last_report.windows == 0
    assert "epoch 1 trained nothing: subsampling (sample=0.001) dropped every word" in caplog.text


def test_corpus_without_a_single_context_window():
    with pytest.raises(ValueError, match="no sentence has two or more vocabulary words"):
        Word2Vec([["a"], ["b"], ["a"], ["b"]], min_count=1, progress=False)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])   # the byte scanner and the text reader
def test_invalid_bytes_are_an_error_naming_file_line_and_the_choice(tmp_path, encoding):
    path = write(tmp_path / "bad.txt", b"fine words\nmore fine words\nbad \xff\xfe bytes\n")
    with pytest.raises(CorpusError, match=rf"bad\.txt: bytes that are not valid {encoding} on "
                                          rf"line 3 \(byte offset 31.*encoding_errors='replace'"):
        build_corpus(path, Config(min_count=1, encoding=encoding))


def test_invalid_bytes_read_with_replace_are_reported(tmp_path, caplog):
    path = write(tmp_path / "bad.txt", b"ok \xff\n ok x\xfe\n")
    with caplog.at_level(logging.WARNING, logger="w2v.data.corpus"):
        _, vocab = build_corpus(path, Config(min_count=1, encoding_errors="replace"))
    assert vocab.index_to_key == ["ok", "x\ufffd", "\ufffd"]
    assert "2 tokens (2 distinct words) held invalid utf-8 or NUL bytes" in caplog.text
    assert "encoding_errors='replace'" in caplog.text


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_nul_bytes_are_an_error_naming_the_line(tmp_path, encoding):
    path = write(tmp_path / "binary.txt", b"some text\nthen a\x00nul\n")
    with pytest.raises(CorpusError, match=r"binary\.txt: NUL byte on line 2 \((byte|character) "
                                          r"offset 16\).*encoding_errors"):
        build_corpus(path, Config(min_count=1, encoding=encoding))
    _, vocab = build_corpus(path, Config(min_count=1, encoding=encoding, encoding_errors="ignore"))
    assert "anul" in vocab


def test_utf16_file_read_as_utf8_is_not_silently_garbage(tmp_path):
    path = write(tmp_path / "utf16.txt", "the king rules\n".encode("utf-16"))
    with pytest.raises(CorpusError, match="utf16.txt: (bytes that are not valid utf-8|NUL byte)"):
        build_corpus(path, Config(min_count=1))
    _, vocab = build_corpus(path, Config(min_count=1, encoding="utf-16"))
    assert vocab.index_to_key == ["king", "rules", "the"]


def test_crlf_tabs_and_unicode_whitespace_split_as_str_split(tmp_path, monkeypatch):
    text = "a\r\nb\tc\u00a0d\u2003e\u3000f\x0bg\x1fh\u2028i\u0085j \r\n\r\n\tk\r"
    path = write(tmp_path / "ws.txt", text.encode("utf-8"))
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 4)
    corpus, vocab = build_corpus(path, Config(min_count=1))
    s = corpus.sentence_starts
    got = [[vocab.index_to_key[i] for i in corpus.ids[s[k]:s[k + 1]]] for k in range(corpus.n_sentences)]
    assert got == [line.split() for line in text.split("\n") if line.split()]
    assert not any("\r" in w for w in vocab.index_to_key)


_MEASURE = """
import resource, sys, time
from w2v import Config, build_corpus
start = time.perf_counter()
corpus, vocab = build_corpus(sys.argv[1], Config(min_count=1))
print(corpus.n_words, corpus.n_sentences, len(vocab), time.perf_counter() - start,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _build_in_a_fresh_process(path):
    # cwd: the folder of the file, so that `import w2v` is the installed package
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                         text=True, timeout=120, cwd=os.path.dirname(path))
    assert out.returncode == 0, out.stderr
    words, sentences, vocab, seconds, peak_mb = out.stdout.split()
    return int(words), int(sentences), int(vocab), float(seconds), int(peak_mb)


def test_a_single_100_mb_line_is_split_quickly_in_little_memory(tmp_path):
    block = b" ".join(b"word%05d" % (i % 5000) for i in range(100000)) + b" "   # 1 MB
    path = tmp_path / "one_line.txt"
    with open(path, "wb") as f:
        for _ in range(100):
            f.write(block)
    words, sentences, vocab, seconds, peak_mb = _build_in_a_fresh_process(path)
    path.unlink()
    assert words == 10_000_000 and vocab == 5000
    assert sentences == 1000                 # split into max_sentence_length pieces, none dropped
    assert seconds < 20 and peak_mb < 400, (seconds, peak_mb)


def test_a_single_100_mb_token_is_read_in_linear_time(tmp_path):
    path = tmp_path / "one_token.txt"
    with open(path, "wb") as f:
        for _ in range(100):
            f.write(b"x" * 1_000_000)
    words, sentences, vocab, seconds, peak_mb = _build_in_a_fresh_process(path)
    path.unlink()
    assert (words, sentences, vocab) == (1, 1, 1)
    assert seconds < 20 and peak_mb < 800, (seconds, peak_mb)


def test_vocabulary_too_large_for_max_vocab_size_is_pruned_and_reported(caplog):
    sentences = [["the", "of", "and"] * 30 + [f"rare{i}" for i in range(50)]]
    with caplog.at_level(logging.WARNING, logger="w2v.data.corpus"):
        corpus, vocab = build_corpus(sentences, Config(min_count=1, max_vocab_size=10))
    assert len(vocab) <= 10 and vocab.count("the") == 30
    assert corpus.stats.vocab_prunes >= 1
    assert "pruned" in caplog.text and "max_vocab_size=10" in caplog.text
    assert "vocabulary pruned" in corpus.stats.summary()


def test_sentences_that_are_strings_or_hold_non_strings():
    with pytest.raises(TypeError, match="corpus item 0 is a str, not a list of tokens"):
        build_corpus(["one sentence as a string"], Config(min_count=1))
    with pytest.raises(TypeError, match="tokens must be str, got int 3"):
        build_corpus([["a", 3]], Config(min_count=1))


def test_unknown_text_encoding(tmp_path):
    path = write(tmp_path / "c.txt", b"a b\n")
    with pytest.raises(ValueError, match="encoding='klingon': unknown text encoding"):
        build_corpus(path, Config(min_count=1, encoding="klingon"))


# --------------------------------------------------------------- hyperparameters
@pytest.mark.parametrize("name,value,allowed", [
    ("vector_size", 0, ">= 1"), ("vector_size", -5, ">= 1"), ("window", 0, ">= 1"),
    ("negative", -1, ">= 0"), ("min_count", 0, ">= 1"), ("max_sentence_length", 0, ">= 1"),
    ("lr", 0.0, "> 0"), ("lr", -0.01, "> 0"), ("min_lr", 1.0, r"in \[0, lr=0.01\]"),
    ("alpha", 0.0, "> 0"), ("min_alpha", -1.0, r"in \[0, alpha=0.075\]"),
    ("beta1", 1.0, r"in \[0, 1\)"), ("beta1", -0.1, r"in \[0, 1\)"), ("beta2", 1.0, r"in \[0, 1\)"),
    ("eps", 0.0, "> 0"), ("epochs", 0, ">= 1"), ("workers", 0, ">= 1"), ("sample", -1e-3, ">= 0"),
    ("batch_words", 0, ">= 1"), ("chunk_words", 0, ">= 1"), ("seed", -1, r"in \[0, 2\*\*63\)"),
    ("max_vocab_size", 1, ">= 2"), ("max_final_vocab", 0, ">= 1"),
    ("ns_exponent", float("inf"), "finite"), ("lr", float("nan"), "finite"),
    ("optimizer", "adagrad", "one of"), ("encoding_errors", "skip", "one of"),
    ("checkpoint_every", "5", "a number and a unit"), ("checkpoint_every", "0 epochs", ">= 1"),
    ("checkpoint_every", "1.5 epochs", "whole number"), ("checkpoint_every", "0s", "> 0"),
])
def test_hyperparameter_out_of_range_names_it_and_the_range(name, value, allowed):
    with pytest.raises(ValueError, match=rf"^{name}=.* is out of range: .*{allowed}"):
        Config(**{name: value})


@pytest.mark.parametrize("name,value", [
    ("vector_size", 10.5), ("window", "5"), ("epochs", True), ("lr", "fast"), ("workers", 1.0),
    ("negative", None),
])
def test_hyperparameter_of_the_wrong_type(name, value):
    with pytest.raises(TypeError, match=rf"{name} must be an? (integer|number), got"):
        Config(**{name: value})


def test_unknown_hyperparameter_name():
    with pytest.raises(TypeError, match="windw"):
        Word2Vec(windw=3)
    with pytest.raises(TypeError, match="unknown hyperparameter.*windw"):
        Config().replace(windw=3)


def test_training_arguments_out_of_range(toy_corpus):
    model = Word2Vec(workers=1).build_vocab(toy_corpus)
    with pytest.raises(ValueError, match=r"epochs=0 is out of range: must be >= 1"):
        model.train(epochs=0)
    with pytest.raises(TypeError, match="callback 3 is not callable"):
        model.train(callbacks=[3])


def test_command_line_values_out_of_range_are_one_line(tmp_path, capsys):
    from w2v.cli import main
    with pytest.raises(SystemExit) as stop:
        main(["train", str(tmp_path / "c.txt"), "--checkpoint-every", "10"])
    assert stop.value.code == 2
    assert "checkpoint_every='10' is out of range" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err
    assert "error: corpus file not found" in err and "Traceback" not in err


# ----------------------------------------------------------------------- queries
def test_query_with_an_unknown_word(small_model):
    with pytest.raises(KeyError, match="'emperor' not in vocabulary"):
        small_model.most_similar(positive=["king", "emperor"])
    with pytest.raises(KeyError, match="'emperor' not in vocabulary"):
        small_model["emperor"]


def test_query_with_empty_lists(small_model):
    with pytest.raises(ValueError, match="at least one positive or negative word"):
        small_model.most_similar(positive=[], negative=[])
    with pytest.raises(ValueError, match="at least two words"):
        small_model.doesnt_match([])
    with pytest.raises(TypeError, match="positive must be a word, an id, or a list"):
        small_model.most_similar(positive=3.5)


@pytest.mark.parametrize("bad", [-1, 10**9])
def test_ids_out_of_range(small_model, bad):
    with pytest.raises(IndexError, match=rf"index {bad} out of range \[0, {len(small_model)}\)"):
        small_model.vector(bad)
    with pytest.raises(IndexError, match="out of range"):
        small_model[np.array([0, bad])]
    with pytest.raises(IndexError, match="out of range"):
        small_model.similarity(0, bad)


@pytest.mark.parametrize("restrict", [0, -5, 2.5])
def test_restrict_vocab_out_of_range(small_model, restrict):
    with pytest.raises(ValueError, match=rf"restrict_vocab={restrict!r} is out of range: must be >= 1"):
        small_model.most_similar("king", restrict_vocab=restrict)


# --------------------------------------------------------------------- divergence
def _poison_in_epoch_2(monkeypatch, model):
    """Put a NaN in W_in before the third chunk of epoch 2, as a blown-up update would."""
    from w2v.training.trainer import chunk_bounds
    n_chunks = len(chunk_bounds(model.corpus.sentence_starts, model.config.chunk_words)) - 1
    real, calls = _kernels.train_chunk, [0]

    def train_chunk(arrays, worker, *args):
        calls[0] += 1
        if calls[0] == n_chunks + 3:
            model.W_in[0, 0] = np.nan
        return real(arrays, worker, *args)
    monkeypatch.setattr(_kernels, "train_chunk", train_chunk)


def test_divergence_stops_with_a_clear_error_and_rolls_back_to_the_last_epoch(toy_corpus, monkeypatch):
    model = Word2Vec(workers=1, epochs=3, seed=2).build_vocab(toy_corpus)
    _poison_in_epoch_2(monkeypatch, model)
    after_epoch_1 = []

    def keep(m, stats):
        if stats.epoch == 1:
            after_epoch_1.append([a.copy() for a in (m.W_in, m.W_out, *m.adam_moments())]
                                 + [m.adam_step])
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch 2: a chunk's loss is nan; lower "
                                               r"the learning rate \(lr=0.01\); the model was "
                                               r"rolled back to the start of epoch 2"):
        model.train(progress=False, callbacks=[keep])
    *arrays, step = after_epoch_1[0]
    for got, good in zip((model.W_in, model.W_out, *model.adam_moments()), arrays):
        np.testing.assert_array_equal(got, good)
    assert model.adam_step == step and len(model.history) == 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_divergence_rolls_a_subword_model_back_to_the_last_epoch(toy_corpus, monkeypatch, optimizer):
    # the copy holds only the rows training moves (words and their n-grams): the rollback
    # must still give back every array as it was, the unused buckets included
    from w2v.training import checkpoint
    model = Word2Vec(optimizer=optimizer, workers=1, epochs=3, seed=2, minn=3, maxn=5,
                     bucket=20_000).build_vocab(toy_corpus)
    _poison_in_epoch_2(monkeypatch, model)
    monkeypatch.setattr(checkpoint.GoodState, "CHUNK_ROWS", 1000)    # several chunks
    written = []
    real_remember = checkpoint.GoodState.remember

    def remember(self):
        real_remember(self)
        written.append(self.spill.tell())
    monkeypatch.setattr(checkpoint.GoodState, "remember", remember)
    after_epoch_1 = []

    def keep(m, stats):
        if stats.epoch == 1:
            after_epoch_1.append([a.copy() for a in (m.W_in, m.W_out, *(m.adam_moments() or ()))])
    model.W_in[-1] = 7.0                 # an unused bucket row: not copied, still kept
    with pytest.raises(TrainingDiverged, match=r"rolled back to the start of epoch 2"):
        model.train(progress=False, callbacks=[keep])
    for got, good in zip((model.W_in, model.W_out, *(model.adam_moments() or ())), after_epoch_1[0]):
        np.testing.assert_array_equal(got, good)
    assert (model.W_in[-1] == 7.0).all()
    used = len(np.unique(model.subword_table()[1]))
    assert used < len(model.W_in) // 2
    parts = 3 if optimizer == "adam" else 1
    assert written[0] == 4 * model.config.vector_size * parts * (used + len(model.W_out))


def test_divergence_rolls_back_to_the_last_checkpoint(toy_corpus, tmp_path, monkeypatch):
    model = Word2Vec(optimizer="sgd", workers=1, epochs=3, seed=2).build_vocab(toy_corpus)
    _poison_in_epoch_2(monkeypatch, model)
    with pytest.raises(TrainingDiverged, match=r"epoch 2: .*rolled back to the checkpoint "
                                               r".*checkpoint-000002\.npz \(epoch 1, sentence 0"):
        model.train(progress=False, checkpoint_dir=tmp_path / "ck")
    newest = list_checkpoints(tmp_path / "ck")[-1][1]
    good = Word2Vec.load(newest)
    np.testing.assert_array_equal(model.W_in, good.W_in)
    assert np.isfinite(model.W_in).all() and model.history == good.history


def test_divergence_from_a_far_too_large_learning_rate(toy_corpus):
    model = Word2Vec(optimizer="sgd", alpha=1e10, min_alpha=1e10, workers=1, epochs=2,
                     seed=2).build_vocab(toy_corpus)
    start = model.W_in.copy()
    with pytest.raises(TrainingDiverged, match=r"epoch 1: a chunk's loss is (nan|inf).*alpha=10000000000.0\)"):
        model.train(progress=False)
    np.testing.assert_array_equal(model.W_in, start)
    assert not model.W_out.any() and model.history == []


def test_divergence_without_rollback_says_the_arrays_are_poisoned(toy_corpus):
    model = Word2Vec(optimizer="sgd", alpha=1e10, min_alpha=1e10, workers=1, epochs=1,
                     rollback_on_divergence=False).build_vocab(toy_corpus)
    with pytest.raises(TrainingDiverged, match="rollback_on_divergence is off: the arrays now hold NaN"):
        model.train(progress=False)


# -------------------------------------------------------------------- model files
def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model file not found: .*gone\.npz"):
        Word2Vec.load(tmp_path / "gone.npz")


def test_model_path_is_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="model path is a directory"):
        Word2Vec.load(tmp_path)


def test_truncated_model_file(model_file, tmp_path):
    data = model_file.read_bytes()
    for cut in (0, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path = write(tmp_path / "cut.npz", data[:cut])
        with pytest.raises(ModelFileError, match=r"cut\.npz: not a readable w2v model file"):
            Word2Vec.load(path)


def test_corrupted_model_file(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    rng = np.random.default_rng(0)
    for _ in range(20):
        damaged = bytearray(data)
        for at in rng.integers(0, len(data), 3):
            damaged[at] ^= 1 << int(rng.integers(0, 8))
        path = write(tmp_path / "flipped.npz", bytes(damaged))
        try:
            Word2Vec.load(path)                   # a flip in an unchecked spot may be harmless
        except ModelFileError as e:
            assert "flipped.npz" in str(e)


def _npz(path, members):
    """A zip of .npy members written by hand: {name: raw .npy bytes}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, raw in members.items():
            z.writestr(name + ".npy", raw)
    return path


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_header(shape, descr="<f4"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def test_npy_header_lying_about_its_shape_is_refused_before_allocating(model_file, tmp_path):
    import tracemalloc
    with np.load(model_file) as npz:
        members = {name: _npy(npz[name]) for name in npz.files}
        data = npz["W_in"].tobytes()
    members["W_in"] = _npy_header((10**7, 10**7)) + data      # 400 TB if believed
    path = _npz(tmp_path / "lying.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"lying\.npz: member 'W_in.npy' says shape "
                                                 r"\(10000000, 10000000\).*more than its"):
            Word2Vec.load(path)
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()


def test_zip_entries_claiming_more_than_the_file_holds(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    with zipfile.ZipFile(model_file) as z:
        info = z.getinfo("W_in.npy")
    # the central directory's uncompressed size of W_in, raised to 2 GB
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"W_in.npy"))
    assert central > 0
    data[central + 24:central + 28] = (2**31).to_bytes(4, "little")
    path = write(tmp_path / "claims.npz", bytes(data))
    with pytest.raises(ModelFileError, match=r"claims\.npz: (its members claim \d+ bytes, more than "
                                             r"the file's|not a readable)"):
        Word2Vec.load(path)
    assert info.file_size < 2**31


def test_model_file_from_a_newer_format_version(model_file, tmp_path):
    with np.load(model_file) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["meta_json"].tobytes())
    meta["format_version"] = 2
    path = tmp_path / "future.npz"
    np.savez(path, **dict(arrays, meta_json=np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(ModelFileError, match=r"future\.npz: model format version 2 is newer than "
                                             r"this w2v reads \(1\); upgrade w2v"):
        Word2Vec.load(path)


class _Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):                  # unpickling would create the file
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def test_model_file_with_pickled_objects_is_refused_without_running_them(model_file, tmp_path):
    marker = tmp_path / "code-ran"
    payload = np.array([_Touch(str(marker))], dtype=object)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, payload, allow_pickle=True)
    with np.load(model_file) as npz:
        members = {name: _npy(npz[name]) for name in npz.files}
    members["meta_json"] = buffer.getvalue()
    path = _npz(tmp_path / "evil.npz", members)
    with pytest.raises(ModelFileError, match=r"evil\.npz: member 'meta_json.npy' holds Python "
                                             r"objects; w2v never unpickles"):
        Word2Vec.load(path)
    assert not marker.exists()
    pickle.loads(pickle.dumps(_Touch(str(tmp_path / "control"))))   # the payload does work
    assert (tmp_path / "control").exists()


@pytest.mark.parametrize("change,match", [
    ({"adam_step": "many"}, "adam_step should be an integer"),
    ({"train_runs": -1}, "train_runs should be an integer"),
    ({"history": {"loss": 1}}, "history should be a list"),
    ({"config": {"vector_size": 0}}, "invalid config.*vector_size=0 is out of range"),
    ({"config": "adam"}, "invalid config"),
    ({"format": "pickle"}, "not a w2v model file"),
])
def test_model_file_with_inconsistent_metadata(model_file, tmp_path, change, match):
    with np.load(model_file) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = dict(json.loads(arrays["meta_json"].tobytes()), **change)
    path = tmp_path / "odd.npz"
    np.savez(path, **dict(arrays, meta_json=np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(ModelFileError, match=rf"odd\.npz: .*{match}"):
        Word2Vec.load(path)


def test_model_file_whose_arrays_disagree_with_the_vocabulary(model_file, tmp_path):
    with np.load(model_file) as npz:
        arrays = {k: npz[k] for k in npz.files}
    path = tmp_path / "short.npz"
    np.savez(path, **dict(arrays, W_out=arrays["W_out"][:-1]))
    with pytest.raises(ModelFileError, match=r"short\.npz: W_out should be float32 of shape"):
        Word2Vec.load(path)
    np.savez(path, **dict(arrays, counts=-arrays["counts"]))
    with pytest.raises(ModelFileError, match=r"counts should hold one integer >= 0 per word"):
        Word2Vec.load(path)
    np.savez(path, **dict(arrays, word_ends=arrays["word_ends"].astype(np.float64)))
    with pytest.raises(ModelFileError, match=r"word offsets do not match the word data"):
        Word2Vec.load(path)


def test_a_file_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match=r"notes\.npz: not a readable w2v model file"):
        Word2Vec.load(write(tmp_path / "notes.npz", b"shopping list: eggs, milk\n"))
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match=r"other\.npz: not a w2v model file \(no metadata\)"):
        Word2Vec.load(path)


# ------------------------------------------------------ memory-mapped native files
def _local_header_of(data: bytes, name: bytes) -> int:
    """The offset of the zip local header of member `name`."""
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        length = int.from_bytes(data[at + 26:at + 28], "little")
        if data[at + 30:at + 30 + length] == name:
            return at
        at = data.find(b"PK\x03\x04", at + 4)
    raise AssertionError(f"no local header for {name!r}")


def test_unknown_mmap_mode(model_file):
    with pytest.raises(ValueError, match=r"mmap='r\+': use None \(read into memory\) or 'r'"):
        Word2Vec.load(model_file, mmap="r+")


def test_truncated_model_file_mapped(model_file, tmp_path):
    data = model_file.read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        path = write(tmp_path / "cut.npz", data[:cut])
        with pytest.raises(ModelFileError, match=r"cut\.npz: not a readable w2v model file"):
            Word2Vec.load(path, mmap="r")


def test_mapped_member_whose_local_header_points_past_the_end(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    at = _local_header_of(bytes(data), b"W_in.npy")
    data[at + 28:at + 30] = (65535).to_bytes(2, "little")      # extra field 64 KB long
    path = write(tmp_path / "past.npz", bytes(data))
    with pytest.raises(ModelFileError, match=r"past\.npz: (member 'W_in.npy' (extends past the end "
                                             r"of the file|says shape)|not a readable)"):
        Word2Vec.load(path, mmap="r")


def test_mapped_member_whose_local_header_names_another_file(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    at = _local_header_of(bytes(data), b"W_in.npy")
    data[at + 30:at + 34] = b"W_xx"
    path = write(tmp_path / "renamed.npz", bytes(data))
    with pytest.raises(ModelFileError, match=r"renamed\.npz: .*(names another file|W_xx)"):
        Word2Vec.load(path, mmap="r")


def test_npy_header_lying_about_its_shape_is_refused_before_mapping(model_file, tmp_path):
    import tracemalloc
    with np.load(model_file) as npz:
        members = {name: _npy(npz[name]) for name in npz.files}
        data = npz["W_in"].tobytes()
    members["W_in"] = _npy_header((10**7, 10**7)) + data
    path = _npz(tmp_path / "lying.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"lying\.npz: member 'W_in.npy' says shape "
                                                 r"\(10000000, 10000000\)"):
            Word2Vec.load(path, mmap="r")
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()


def test_pickled_member_is_refused_when_mapping_too(model_file, tmp_path):
    with np.load(model_file) as npz:
        members = {name: _npy(npz[name]) for name in npz.files}
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    members["W_in"] = buffer.getvalue()
    path = _npz(tmp_path / "pickled.npz", members)
    with pytest.raises(ModelFileError, match="never unpickles"):
        Word2Vec.load(path, mmap="r")


def test_training_a_mapped_model(model_file):
    mapped = Word2Vec.load(model_file, mmap="r")
    with pytest.raises(ValueError, match=r"cannot train: W_in, W_out.* are read-only \(a model "
                                         r"loaded with mmap='r'\)"):
        mapped.train(SENTENCES, epochs=1, progress=False)


def test_loading_vectors_as_a_model_and_a_foreign_npz_as_vectors(small_model, tmp_path):
    from w2v import WordVectors
    small_model.wv.__class__(small_model.W_in.copy(), list(small_model.index_to_key)).save(
        tmp_path / "v.npz")
    with pytest.raises(ModelFileError, match=r"v\.npz: holds w2v word vectors \(WordVectors.save\), "
                                             r"not a w2v model .*load it with WordVectors.load"):
        Word2Vec.load(tmp_path / "v.npz")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="no metadata"):
        WordVectors.load(tmp_path / "other.npz")


def test_adding_words_to_a_models_vectors(small_model):
    with pytest.raises(ValueError, match=r"cannot add words to these vectors: they are a Word2Vec "
                                         r"model's W_in; grow the vocabulary with build_vocab"):
        small_model.wv.add_vectors(["emperor"], np.zeros((1, 8), np.float32))


def test_adding_vectors_of_the_wrong_shape_or_kind(tmp_path):
    from w2v import WordVectors
    wv = WordVectors(np.zeros((2, 3), np.float32), ["a", "b"])
    with pytest.raises(ValueError, match=r"2 words need vectors of shape \(2, 3\), got \(2, 4\)"):
        wv.add_vectors(["c", "d"], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        wv.add_vectors(["c"], np.full((1, 3), np.nan))
    with pytest.raises(TypeError, match="words must be str, got int"):
        wv.add_vectors([5], np.zeros((1, 3)))


def test_query_vectors_of_the_wrong_shape_or_type(small_model):
    with pytest.raises(ValueError, match=r"expected a vector of shape \(8,\), got \(3,\)"):
        small_model.wv.similar_by_vector(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="expected a word, an id or a numpy vector, got list"):
        small_model.most_similar(positive=[[0.0] * 8])
    with pytest.raises(TypeError, match=r"positive: \('king', 'x'\) is not a \(word or vector, weight\)"):
        small_model.most_similar(positive=[("king", "x")])


# --------------------------------------------------- vector file reading options
def test_vector_file_options_out_of_range(tmp_path, small_model):
    from w2v import load_vectors
    path = tmp_path / "v.txt"
    small_model.save_word2vec_format(path)
    with pytest.raises(ValueError, match="no_header=True is for text files"):
        load_vectors(path, binary=True, no_header=True)
    with pytest.raises(ValueError, match="datatype=int64 is not a floating point type"):
        load_vectors(path, datatype=np.int64)
    with pytest.raises(ValueError, match=r"limit=-1 is out of range: must be an integer >= 0"):
        load_vectors(path, limit=-1)
    with pytest.raises(ValueError, match="only w2v's native files can be memory-mapped"):
        load_vectors(path, mmap="r")
    with pytest.raises(ValueError, match="encoding='klingon' is not a known text encoding"):
        load_vectors(path, encoding="klingon")


def test_vocabulary_counts_file_missing_a_word(tmp_path, small_model):
    from w2v import WordVectors
    path = tmp_path / "v.txt"
    small_model.save_word2vec_format(path)
    counts = write(tmp_path / "counts.txt", b"the 40\nking 20\n")
    with pytest.raises(ModelFileError, match=r"counts\.txt: \d+ word\(s\) of the vectors have no "
                                             r"count \(first: "):
        WordVectors.load_word2vec_format(path, fvocab=counts)
    bad = write(tmp_path / "bad.txt", b"the forty\n")
    with pytest.raises(ModelFileError, match=r"bad\.txt:1: expected 'word count'"):
        WordVectors.load_word2vec_format(path, fvocab=bad)


def test_headerless_text_file_that_is_empty(tmp_path):
    from w2v import load_vectors
    with pytest.raises(ModelFileError, match="no_header=True but the first line holds no vector"):
        load_vectors(write(tmp_path / "e.txt", b"\n"), no_header=True)


def test_a_word_with_a_lone_surrogate_cannot_be_stored(tmp_path):
    from w2v import WordVectors
    wv = WordVectors(np.zeros((1, 2), np.float32), ["x\ud800"])
    with pytest.raises(ValueError, match=r"word 'x\\ud800' cannot be stored: surrogates not allowed"):
        wv.save(tmp_path / "v.npz")


def test_evaluation_with_restrict_vocab_zero(small_model, tmp_path):
    from w2v.evaluation import evaluate_analogies
    questions = write(tmp_path / "q.txt", b": s\nking queen the a\n")
    with pytest.raises(ValueError, match="restrict_vocab=0 is out of range: must be >= 1"):
        evaluate_analogies(small_model, questions, restrict_vocab=0)


# ------------------------------------------------------------- word2vec C formats
@pytest.fixture()
def vectors_file(small_model, tmp_path):
    path = tmp_path / "v.bin"
    small_model.save_word2vec_format(path)
    return path


def test_word2vec_header_says_more_rows_than_the_file_holds(vectors_file, tmp_path):
    body = vectors_file.read_bytes().split(b"\n", 1)[1]
    path = write(tmp_path / "rows.bin", b"4000000000 8\n" + body)
    with pytest.raises(ModelFileError, match=r"rows\.bin: header says 4000000000 vectors of 8 "
                                             r"dims, more than the file's \d+ bytes can hold"):
        load_word2vec_format(path)


def test_word2vec_header_says_larger_vectors_than_the_file_holds(vectors_file, tmp_path, small_model):
    body = vectors_file.read_bytes().split(b"\n", 1)[1]
    path = write(tmp_path / "dims.bin", f"{len(small_model)} 100000000\n".encode() + body)
    with pytest.raises(ModelFileError, match=r"dims\.bin: header says \d+ vectors of 100000000 dims"):
        load_word2vec_format(path)


def test_word2vec_file_truncated(vectors_file, tmp_path):
    data = vectors_file.read_bytes()
    path = write(tmp_path / "cut.bin", data[: len(data) - 20])
    with pytest.raises(ModelFileError, match=r"cut\.bin: (truncated at vector|header says)"):
        load_word2vec_format(path)


def test_word2vec_bad_header(tmp_path):
    path = write(tmp_path / "h.bin", b"vectors follow\n")
    with pytest.raises(ModelFileError, match=r"h\.bin: header should be 'count dims'"):
        load_word2vec_format(path)


def test_word2vec_text_with_a_value_that_is_not_a_number(tmp_path):
    path = write(tmp_path / "v.txt", b"2 3\nking 0.1 0.2 0.3\nqueen 0.1 zero 0.3\n")
    with pytest.raises(ModelFileError, match=r"v\.txt: line 3 holds a value that is not a number"):
        load_word2vec_format(path, binary=False)
    path = write(tmp_path / "w.txt", b"2 3\nking 0.1 0.2 0.3\nqueen 0.1 0.3\n")
    with pytest.raises(ModelFileError, match=r"w\.txt: line 3 has 2 numbers, expected 3"):
        load_word2vec_format(path, binary=False)


def test_word2vec_word_that_is_not_utf8(tmp_path):
    row = np.zeros(2, "<f4").tobytes()
    path = write(tmp_path / "w.bin", b"1 2\nk\xffng " + row + b"\n")
    with pytest.raises(ModelFileError, match=r"w\.bin: word 0 \(b.k\\xffng.\) is not valid UTF-8 .*; pass unicode_errors"):
        load_word2vec_format(path)
    assert load_word2vec_format(path, unicode_errors="replace")[0] == ["k\ufffdng"]


# ---------------------------------------------------------------- writing files
def test_saving_into_a_missing_directory(small_model, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot write .*model\.npz: directory .*nowhere "
                                                r"does not exist"):
        small_model.save(tmp_path / "nowhere" / "model.npz")


def test_saving_over_a_directory(small_model, tmp_path):
    (tmp_path / "taken.npz").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot write .*taken\.npz: it is a directory"):
        small_model.save(tmp_path / "taken.npz")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_vectors_with_a_word_that_cannot_be_written(tmp_path):
    from w2v.io import save_word2vec_format
    with pytest.raises(ValueError, match="word 'two words' cannot be written: empty or contains whitespace"):
        save_word2vec_format(tmp_path / "v.bin", ["one", "two words"], np.zeros((2, 3)))


# ------------------------------------------------------------------ checkpoints
@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ck")
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n")
    Word2Vec(str(corpus), min_count=1, vector_size=8, epochs=2, workers=1, progress=False,
             checkpoint_dir=directory / "run")
    return corpus, directory / "run"


def test_resume_from_a_directory_without_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint to resume"):
        Word2Vec.resume(tmp_path)
    with pytest.raises(FileNotFoundError, match="checkpoint directory not found"):
        Word2Vec.resume(tmp_path / "missing")


def test_resume_on_another_corpus_is_refused(checkpointed, tmp_path):
    _, run = checkpointed
    other = write(tmp_path / "other.txt", b"completely different words here\n" * 30)
    with pytest.raises(CheckpointError, match=r"other\.txt has [\d,]+ bytes, but .* was trained on "
                                              r".*corpus\.txt of [\d,]+ bytes: not the same corpus"):
        Word2Vec.resume(run, other)
    with pytest.raises(CheckpointError, match="is not the corpus .* was trained on"):
        Word2Vec.resume(run, [["king", "queen"]] * 30)


def test_resume_with_conflicting_hyperparameters_is_refused(checkpointed):
    _, run = checkpointed
    with pytest.raises(CheckpointError, match=r"cannot resume .* with window=2 \(the checkpoint "
                                              r"has 5\): a resumed run keeps the hyperparameters"):
        Word2Vec.resume(run, window=2)
    model = Word2Vec.resume(run, workers=2, window=5)      # same value, or a changeable one
    assert model.config.workers == 2


def test_a_fresh_run_refuses_a_directory_holding_checkpoints(checkpointed):
    corpus, run = checkpointed
    before = sorted(os.listdir(run))
    with pytest.raises(CheckpointError, match=r"already holds checkpoints \(checkpoint-\d+\.npz"
                                              r".*\) of another run: continue it with --resume"):
        Word2Vec(str(corpus), min_count=1, vector_size=8, epochs=1, workers=1, progress=False,
                 checkpoint_dir=run)
    assert sorted(os.listdir(run)) == before


def test_checkpoint_dir_that_is_a_file(tmp_path):
    path = write(tmp_path / "file", b"")
    with pytest.raises(NotADirectoryError, match="checkpoint directory .*file is a file"):
        Word2Vec(SENTENCES, min_count=1, epochs=1, workers=1, progress=False, checkpoint_dir=path)


def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(checkpointed, tmp_path, caplog):
    import shutil
    corpus, run = checkpointed
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (older, _), (newest, path) = list_checkpoints(copy)
    data = pathlib.Path(path).read_bytes()
    pathlib.Path(path).write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="w2v.training.checkpoint"):
        model = Word2Vec.resume(copy, corpus)
    assert model.resume_state.path.endswith(f"checkpoint-{older:06d}.npz")
    assert "trying the checkpoint before it" in caplog.text
    pathlib.Path(model.resume_state.path).write_bytes(b"")
    with pytest.raises(CheckpointError, match="no readable checkpoint"):
        Word2Vec.resume(copy, corpus)


def test_checkpoint_from_a_newer_version(checkpointed, tmp_path):
    import shutil
    corpus, run = checkpointed
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for _, path in list_checkpoints(copy):
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays["meta_json"].tobytes())
        meta["checkpoint"]["format_version"] = 7
        np.savez(path, **dict(arrays, meta_json=np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(CheckpointError, match="checkpoint format version 7 is newer than this w2v "
                                              r"reads \(1\); upgrade w2v"):
        Word2Vec.resume(copy, corpus)


def test_resume_asks_for_an_in_memory_corpus(tmp_path):
    Word2Vec(SENTENCES, min_count=1, vector_size=8, epochs=1, workers=1, progress=False,
             checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match=r"was trained on <list of sentences>, not a file: "
                                              r"pass the same sentences"):
        Word2Vec.resume(tmp_path)
    assert Word2Vec.resume(tmp_path, SENTENCES).resume_state.epochs == 1


# ------------------------------------------------------------ fastText .bin models
def _fasttext_bin(tmp_path, words=("</s>", "king", "queen"), bucket=7, dim=3, **args):
    from w2v.fasttext_bin import FastTextArgs, FastTextModel, write_fasttext_bin
    rng = np.random.default_rng(0)
    model = FastTextModel(FastTextArgs(dim=dim, bucket=bucket, minn=2, maxn=3, **args),
                          list(words), np.arange(len(words), 0, -1),
                          rng.normal(size=(len(words) + bucket, dim)).astype(np.float32),
                          rng.normal(size=(len(words), dim)).astype(np.float32))
    path = tmp_path / "model.bin"
    write_fasttext_bin(path, model)
    return path


FT_ARGS = 8                       # offset of the Args block (after magic and version)
FT_DICT = FT_ARGS + 56            # offset of the dictionary header


def _patch(path, offset, fmt, *values):
    import struct
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, *values)
    path.write_bytes(bytes(data))
    return path


def test_fasttext_bin_truncated_anywhere(tmp_path):
    from w2v import load_vectors
    path = _fasttext_bin(tmp_path)
    data = path.read_bytes()
    for cut in (6, 20, FT_DICT + 10, FT_DICT + 30, len(data) - 200, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated fastText file|not a fastText"):
            load_vectors(path)


@pytest.mark.parametrize("offset,fmt,value,match", [
    (4, "<i", 13, "fastText file format version 13; this reader knows versions 11 and 12"),
    (FT_ARGS, "<i", 0, r"dim 0 out of range \[1, 1048576\]"),
    (FT_ARGS + 28, "<i", 3, "a supervised \\(classification\\) fastText model"),
    (FT_ARGS + 24, "<i", 9, "unknown fastText model 2 or loss 9"),
    (FT_ARGS + 32, "<i", -1, "bucket -1, minn 2, maxn 3 must be >= 0"),
    (FT_ARGS + 32, "<i", 2**31 - 2, "exceed 2\\*\\*31 rows"),
    (FT_DICT, "<i", 4, "dictionary of 4 entries with 3 words and 0 labels"),
    (FT_DICT, "<iii", (4, 3, 1), "holds 1 labels: a supervised model"),
    (FT_DICT + 20, "<q", 5, "a pruned \\(quantised\\) dictionary"),
    (FT_DICT + 20, "<q", -7, "invalid pruneidx_size -7"),
])
def test_fasttext_bin_with_a_bad_header(tmp_path, offset, fmt, value, match):
    from w2v.fasttext_bin import read_fasttext_bin
    values = value if isinstance(value, tuple) else (value,)
    path = _patch(_fasttext_bin(tmp_path), offset, fmt, *values)
    with pytest.raises(ModelFileError, match=match):
        read_fasttext_bin(path)


def test_fasttext_bin_header_claiming_billions_of_words_is_refused_before_allocating(tmp_path):
    import tracemalloc
    from w2v.fasttext_bin import read_fasttext_bin
    path = _patch(_fasttext_bin(tmp_path), FT_DICT, "<ii", 2**31 - 10, 2**31 - 10)
    _patch(path, FT_ARGS + 32, "<i", 0)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="truncated fastText file: a dictionary of "
                                                 "2147483638 words needs"):
            read_fasttext_bin(path)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()


def test_fasttext_bin_dictionary_entries(tmp_path):
    from w2v.fasttext_bin import read_fasttext_bin
    path = _fasttext_bin(tmp_path, words=("</s>", "king", "king"))
    with pytest.raises(ModelFileError, match="the word 'king' occurs twice"):
        read_fasttext_bin(path)
    path = _fasttext_bin(tmp_path)
    data = path.read_bytes()
    end = data.index(b"king\0") + 5
    path.write_bytes(data[:end + 8] + b"\x01" + data[end + 9:])       # entry type: label
    with pytest.raises(ModelFileError, match="entry 1 \\('king'\\) is a label"):
        read_fasttext_bin(path)
    path.write_bytes(data[:end] + (-3).to_bytes(8, "little", signed=True) + data[end + 8:])
    with pytest.raises(ModelFileError, match="'king' has a negative count -3"):
        read_fasttext_bin(path)


def test_fasttext_bin_matrices(tmp_path):
    from w2v.fasttext_bin import read_fasttext_bin
    path = _fasttext_bin(tmp_path)
    data = path.read_bytes()
    input_at = data.index(b"queen\0") + 6 + 9        # the input matrix's quantised flag
    path.write_bytes(data[:input_at] + b"\x01" + data[input_at + 1:])
    with pytest.raises(ModelFileError, match="the input matrix is quantised \\(a .ftz model\\)"):
        read_fasttext_bin(path)
    _patch(path, input_at, "<Bqq", 0, 11, 3)
    with pytest.raises(ModelFileError, match="the input matrix is 11 x 3, expected 10 x 3"):
        read_fasttext_bin(path)
    path.write_bytes(data + b"\0\0")
    with pytest.raises(ModelFileError, match="2 unexpected bytes after the output matrix"):
        read_fasttext_bin(path)


def test_fasttext_bin_missing_or_a_directory(tmp_path):
    from w2v.fasttext_bin import read_fasttext_bin
    with pytest.raises(FileNotFoundError, match="model file not found"):
        read_fasttext_bin(tmp_path / "nothing.bin")
    with pytest.raises(IsADirectoryError, match="model path is a directory"):
        read_fasttext_bin(tmp_path)


def test_writing_a_fasttext_bin_that_cannot_hold_the_model(tmp_path):
    from w2v.fasttext_bin import FastTextArgs, FastTextModel, write_fasttext_bin
    ones = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="holds a NUL byte"):
        write_fasttext_bin(tmp_path / "m.bin", FastTextModel(
            FastTextArgs(dim=2, bucket=0), ["a", "b\0", "c"], [1, 1, 1], ones, ones))
    with pytest.raises(ValueError, match="the input matrix should be 5 x 2"):
        write_fasttext_bin(tmp_path / "m.bin", FastTextModel(
            FastTextArgs(dim=2, bucket=2), ["a", "b", "c"], [1, 1, 1], ones, ones))
    assert not list(tmp_path.iterdir())
