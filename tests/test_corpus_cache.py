"""The id stream in a file (corpus_cache, and past the memory budget a temporary file):
the same stream as in memory, bit-identical training, reuse that is checked, and every
way a cache file can be wrong."""
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v import Config, CorpusCacheError, Word2Vec, build_corpus
from w2v.data import cache as cache_module
from w2v.data import corpus as corpus_module

SENTENCES = [sentence for i in range(40) for sentence in (
    ["the", "king", "rules", "the", "land"], ["the", "queen", "rules", "the", "sea"],
    ["a", "king", "and", "a", "queen", f"rare{i % 7}"])]


def same_corpus(a, b):
    assert np.array_equal(a.ids, b.ids)
    assert np.array_equal(a.sentence_starts, b.sentence_starts)
    assert a.stats == b.stats


def build(source, tmp_path=None, name="ids.cache", **settings):
    config = Config(**settings, **({"corpus_cache": str(tmp_path / name)} if tmp_path else {}))
    return build_corpus(source, config)


# ------------------------------------------------------------- the same stream
@pytest.mark.parametrize("settings", [
    {},                                                   # UTF-8 byte scanner, one pass
    {"min_count": 800},                                   # out-of-vocabulary words dropped
    {"min_count": 800, "max_sentence_length": 3},         # ... and long lines split
    {"encoding": "latin-1", "min_count": 800},            # the str path
    {"max_vocab_size": 100, "min_count": 800},            # two passes, fixed vocabulary
])
def test_file_stream_equals_memory_stream(toy_corpus, tmp_path, settings):
    memory, vocab = build(toy_corpus, **settings)
    cached, cached_vocab = build(toy_corpus, tmp_path, **settings)
    spilled, _ = build(toy_corpus, corpus_memory_fraction=0.0, **settings)
    reused, reused_vocab = build(toy_corpus, tmp_path, **settings)
    for other in (cached, spilled, reused):
        same_corpus(memory, other)
    for other in (cached_vocab, reused_vocab):
        assert other.index_to_key == vocab.index_to_key
        assert np.array_equal(other.counts, vocab.counts)
    assert cached.cache_path == reused.cache_path == str(tmp_path / "ids.cache")
    assert not cached.ids.flags.writeable and memory.ids.flags.writeable
    assert os.listdir(tmp_path) == ["ids.cache"]          # no partial file left behind


def test_iterable_stream_equals_memory_stream_and_is_rebuilt_each_time(tmp_path, caplog):
    memory, _ = build(SENTENCES, min_count=2, max_sentence_length=4)
    cached, _ = build(SENTENCES, tmp_path, min_count=2, max_sentence_length=4)
    same_corpus(memory, cached)
    with caplog.at_level(logging.WARNING):
        again, _ = build(SENTENCES, tmp_path, min_count=2, max_sentence_length=4)
    same_corpus(memory, again)
    assert "not a file, so the cache cannot be checked" in caplog.text


def test_spilling_midway_keeps_the_stream(toy_corpus, monkeypatch):
    """The budget passed after some chunks: those go to the file first, in order."""
    monkeypatch.setattr(corpus_module, "CHUNK_IDS", 1000)
    monkeypatch.setattr(corpus_module, "available_memory", lambda: 4 * 50_000 * 10)
    memory, _ = build(toy_corpus, min_count=800, corpus_memory_fraction=1.0)
    spilled, _ = build(toy_corpus, min_count=800, corpus_memory_fraction=0.1)
    same_corpus(memory, spilled)


@pytest.mark.parametrize("optimizer,sg", [("adam", False), ("sgd", True)])
def test_training_from_the_cache_is_bit_identical(toy_corpus, tmp_path, optimizer, sg):
    settings = dict(workers=1, seed=5, epochs=1, optimizer=optimizer, sg=sg, min_count=300,
                    vector_size=16, progress=False)
    memory = Word2Vec(toy_corpus, **settings)
    memory.train(progress=False)
    for _ in ("written", "reused"):
        cached = Word2Vec(toy_corpus, corpus_cache=str(tmp_path / "c"), **settings)
        cached.train(progress=False)
        assert cached.corpus.cache_path is not None
        assert np.array_equal(memory.W_in, cached.W_in)
        assert np.array_equal(memory.W_out, cached.W_out)
        assert memory.history == [dict(h, seconds=m["seconds"]) for h, m in
                                  zip(cached.history, memory.history)]
    spilled = Word2Vec(toy_corpus, corpus_memory_fraction=0.0, **settings)
    spilled.train(progress=False)
    assert np.array_equal(memory.W_in, spilled.W_in)


def test_reuse_reads_no_text(toy_corpus, tmp_path, monkeypatch, caplog):
    build(toy_corpus, tmp_path)
    monkeypatch.setattr(corpus_module, "_scan_utf8_file", None)   # reading would fail
    with caplog.at_level(logging.INFO):
        corpus, vocab = build(toy_corpus, tmp_path)
    assert "reused" in caplog.text and corpus.n_words == 194_797


def test_a_given_vocabulary_must_match(toy_corpus, tmp_path, caplog):
    model = Word2Vec(toy_corpus, min_count=800, progress=False, corpus_cache=str(tmp_path / "c"))
    with caplog.at_level(logging.WARNING):
        model.train(toy_corpus, epochs=1, progress=False)          # same vocabulary: reused
    assert "stale" not in caplog.text
    other = Word2Vec(SENTENCES, min_count=1, progress=False)
    with caplog.at_level(logging.WARNING):
        corpus, _ = build_corpus(toy_corpus, Config(corpus_cache=str(tmp_path / "c")),
                                 vocab=other.vocab)
    assert "stale" in caplog.text and "another vocabulary" in caplog.text
    memory, _ = build_corpus(toy_corpus, Config(), vocab=other.vocab)
    same_corpus(memory, corpus)


def test_update_grows_through_the_cache(toy_corpus, tmp_path):
    def grown(**cache):
        model = Word2Vec(SENTENCES, min_count=1, progress=False, **cache)
        model.build_vocab(toy_corpus, update=True)
        return model
    memory, cached = grown(), grown(corpus_cache=str(tmp_path / "c"))
    same_corpus(memory.corpus, cached.corpus)
    assert memory.vocab.index_to_key == cached.vocab.index_to_key


# ------------------------------------------------------------ stale: rebuilt
def test_a_changed_corpus_file_rebuilds_the_cache(tmp_path, caplog):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c a b c a b\n" * 10)
    first, _ = build(str(text), tmp_path, min_count=1)
    text.write_text("a b c d a b c d\n" * 10)
    with caplog.at_level(logging.WARNING):
        second, vocab = build(str(text), tmp_path, min_count=1)
    assert "stale" in caplog.text and "changed since it was built" in caplog.text
    assert "d" in vocab and second.n_words == 80
    same_corpus(second, build(str(text), min_count=1)[0])


@pytest.mark.parametrize("change,reason", [
    ({"min_count": 2}, "another vocabulary"),
    ({"max_sentence_length": 3}, "max_sentence_length 10000 -> 3"),
    ({"encoding_errors": "replace"}, "encoding_errors 'strict' -> 'replace'"),
])
def test_other_settings_rebuild_the_cache(tmp_path, caplog, change, reason):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c a b c a b\n" * 10)
    build(str(text), tmp_path, min_count=1)
    settings = dict({"min_count": 1}, **change)
    with caplog.at_level(logging.WARNING):
        corpus, _ = build(str(text), tmp_path, **settings)
    assert "stale" in caplog.text and reason in caplog.text
    same_corpus(corpus, build(str(text), **settings)[0])


def test_a_cache_of_another_corpus_is_rebuilt_for_this_one(tmp_path, caplog):
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("a b c a b c\n" * 10)
    two.write_text("x y z x y z\n" * 10)
    build(str(one), tmp_path, min_count=1)
    with caplog.at_level(logging.WARNING):
        corpus, vocab = build(str(two), tmp_path, min_count=1)
    assert f"built from {one}, not {two}" in caplog.text
    assert vocab.index_to_key == ["x", "y", "z"]


def test_another_format_version_is_rebuilt(tmp_path, caplog, monkeypatch):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c a b c\n" * 10)
    monkeypatch.setattr(cache_module, "FORMAT_VERSION", 0)
    build(str(text), tmp_path, min_count=1)
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING):
        build(str(text), tmp_path, min_count=1)
    assert "another format version: rebuilding" in caplog.text


# ------------------------------------------------- bad caches: clear errors
@pytest.fixture()
def cache_file(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c a b c a b\n" * 50)
    build(str(text), tmp_path, min_count=1)
    return text, tmp_path / "ids.cache"


def reopen(cache_file):
    text, cache = cache_file
    return build(str(text), cache.parent, name=cache.name, min_count=1)


def test_a_file_that_is_not_a_cache_is_an_error_and_left_alone(cache_file):
    text, cache = cache_file
    cache.write_text("my precious notes\n")
    with pytest.raises(CorpusCacheError, match="is not a w2v corpus cache.*left untouched"):
        reopen(cache_file)
    assert cache.read_text() == "my precious notes\n"


def test_a_truncated_cache_is_an_error(cache_file):
    cache = cache_file[1]
    data = cache.read_bytes()
    cache.write_bytes(data[:-7])
    with pytest.raises(CorpusCacheError, match=r"is truncated: .* delete the file to rebuild"):
        reopen(cache_file)
    cache.write_bytes(data[:100])
    with pytest.raises(CorpusCacheError, match="header is damaged"):
        reopen(cache_file)


def test_a_cache_grown_past_its_header_is_an_error(cache_file):
    cache = cache_file[1]
    cache.write_bytes(cache.read_bytes() + b"\0")
    with pytest.raises(CorpusCacheError, match="longer than its header says"):
        reopen(cache_file)


def test_a_damaged_header_is_an_error(cache_file):
    cache = cache_file[1]
    data = bytearray(cache.read_bytes())
    data[len(cache_module.MAGIC) + 2] = ord("#")
    cache.write_bytes(bytes(data))
    with pytest.raises(CorpusCacheError, match="header is damaged"):
        reopen(cache_file)


def test_a_blank_header_is_an_error(cache_file):
    cache = cache_file[1]
    data = cache.read_bytes()
    cache.write_bytes(b"\0" * cache_module.HEADER_BYTES + data[cache_module.HEADER_BYTES:])
    with pytest.raises(CorpusCacheError, match="header is blank"):
        reopen(cache_file)


def test_changed_ids_fail_the_checksum(cache_file):
    cache = cache_file[1]
    data = bytearray(cache.read_bytes())
    data[cache_module.HEADER_BYTES] ^= 1                       # the first id
    cache.write_bytes(bytes(data))
    with pytest.raises(CorpusCacheError, match="CRC-32 does not match"):
        reopen(cache_file)


def test_a_directory_as_cache_is_an_error(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c a b c\n" * 10)
    (tmp_path / "ids.cache").mkdir()
    with pytest.raises(CorpusCacheError, match="is a directory"):
        build(str(text), tmp_path, min_count=1)


def test_a_failed_build_leaves_no_partial_file(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c\n")
    with pytest.raises(ValueError, match="empty vocabulary"):
        build(str(text), tmp_path, min_count=5)
    assert os.listdir(tmp_path) == ["corpus.txt"]


def test_cache_settings_out_of_range():
    with pytest.raises(ValueError, match=r"corpus_memory_fraction=1.5 is out of range"):
        Config(corpus_memory_fraction=1.5)
    with pytest.raises(TypeError, match="corpus_cache must be a file path"):
        Config(corpus_cache=3)


def test_command_line_cache_and_a_bad_one(toy_corpus, tmp_path):
    cache = tmp_path / "c"
    command = [sys.executable, "-m", "w2v", "train", toy_corpus, "--epochs", "1",
               "--vector-size", "8", "--no-progress", "--corpus-cache", str(cache),
               "-o", str(tmp_path / "m.npz")]
    # cwd=tmp_path: from the repository root `-m w2v` would import the source folder, not
    # the w2v being tested (installed, or found through PYTHONPATH)
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "writing the id stream to the corpus cache" in run.stderr
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "reused" in run.stderr
    cache.write_bytes(cache.read_bytes()[:-1])
    run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "is truncated" in run.stderr.strip().splitlines()[-1]


# -------------------------------------------------------------------- fuzz
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("W2V_FUZZ_EXAMPLES", 60)), deadline=None,
                derandomize=True, database=None)


@FUZZ
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=12), min_size=1, max_size=10),
       st.integers(1, 3), st.integers(1, 5), st.floats(0, 1))
def test_fuzz_the_file_stream_equals_the_memory_stream(tmp_path_factory, sentences, min_count,
                                                       max_sentence_length, fraction):
    if sum(map(len, sentences)) == 0:
        return
    settings_ = dict(min_count=min_count, max_sentence_length=max_sentence_length)
    try:
        memory, _ = build(sentences, **settings_)
    except ValueError:
        return                                            # empty vocabulary
    spilled, _ = build(sentences, corpus_memory_fraction=0.0, **settings_)
    cached, _ = build(sentences, tmp_path_factory.mktemp("c"), **settings_)
    same_corpus(memory, spilled)
    same_corpus(memory, cached)


@pytest.fixture(scope="module")
def pristine_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pristine")
    text = folder / "corpus.txt"
    text.write_text("the king rules the land\nthe queen rules the sea\n" * 20)
    build(str(text), folder, min_count=1)
    return text, (folder / "ids.cache").read_bytes()


@FUZZ
@given(st.data())
def test_fuzz_a_mutated_cache_is_an_error_or_the_same_corpus(tmp_path_factory, pristine_cache, data):
    text, pristine = pristine_cache
    mutated = bytearray(pristine)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        mutated = mutated[:data.draw(st.integers(0, len(mutated)))]
    folder = tmp_path_factory.mktemp("m")
    (folder / "ids.cache").write_bytes(bytes(mutated))
    config = Config(min_count=1, corpus_cache=str(folder / "ids.cache"))
    try:
        corpus, _ = build_corpus(str(text), config)
    except CorpusCacheError:
        return
    same_corpus(corpus, build_corpus(str(text), Config(min_count=1))[0])
