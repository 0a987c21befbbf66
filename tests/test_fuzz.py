"""Property-based tests (hypothesis): random and mutated input to the tokenizer, the
corpus reader, the vocabulary builder and every file loader.

The properties: the byte scanner splits exactly as str.split(); the two corpus readers
agree and never fail but with CorpusError; counts are exact; a loader given any bytes
either returns consistent arrays or raises ModelFileError, never another exception, a
hang or a huge allocation. Example counts stay small so the whole file runs in seconds.
"""
import io
import json
import os
import tempfile
import tracemalloc
import warnings
import zipfile
from collections import Counter

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from w2v import Config, CorpusError, ModelFileError, Word2Vec, WordVectors, build_corpus  # noqa: E402
from w2v.data import corpus as corpus_module  # noqa: E402
from w2v.data._scan import TokenCounter  # noqa: E402
from w2v.io import load_word2vec_format  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("W2V_FUZZ_EXAMPLES", 60)), deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Every character str.split() treats as whitespace, and some look-alikes it does not.
SPACES = [" ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0",
          "\u1680", "\u2000", "\u2005", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_SPACES = ["\u200b", "\u180e", "\ufeff", "\u2060", "\u200c", "\x00", "\u200d"]
text_strategy = st.lists(st.one_of(st.sampled_from(SPACES + NOT_SPACES), st.text(max_size=6)),
                         max_size=40).map("".join)
# Bytes: fragments of valid UTF-8 mixed with stray lead and continuation bytes.
FRAGMENTS = [b"\xe2\x80", b"\xe2", b"\xc2", b"\x80", b"\x85", b"\xa0", b"\xe3\x80", b"\xe1\x9a",
             b"\xe2\x81", b"\xf0\x9f", b"\xed\xa0\x80", b"\xff"]
bytes_strategy = st.lists(st.one_of(text_strategy.map(str.encode), st.sampled_from(FRAGMENTS),
                                    st.binary(max_size=4)), max_size=30).map(b"".join)


def scan(data: bytes):
    counter = TokenCounter()
    ids, ends = counter.scan(data)
    words = counter.word_bytes()
    return [words[i] for i in ids], ends.tolist()


def expected_scan(data: bytes):
    text = data.decode("utf-8", "surrogateescape")       # invalid bytes kept, never spaces
    tokens, ends = [], []
    for line in text.split("\n")[:-1]:
        tokens += line.split()
        ends.append(len(tokens))
    tokens += text.split("\n")[-1].split()
    return [t.encode("utf-8", "surrogateescape") for t in tokens], ends


# ----------------------------------------------------------------------- tokenizer
@FUZZ
@given(text_strategy)
def test_byte_scanner_splits_text_exactly_as_str_split(text):
    assert scan(text.encode("utf-8")) == expected_scan(text.encode("utf-8"))


@FUZZ
@given(bytes_strategy)
@example(b"a\xe2\x80 b")                 # a cut-off sequence before a space (was swallowed)
@example(b"\xe2\xe2\x80\x80x\xf0\x9f\xe2\x80\x80y\xc2\xc2\x85z")
def test_byte_scanner_on_any_bytes_splits_as_str_split_keeping_bad_bytes(data):
    assert scan(data) == expected_scan(data)


@FUZZ
@given(bytes_strategy, bytes_strategy)
def test_known_only_scan_gives_table_ids_and_foreign_tokens_as_they_are(seed_text, data):
    """scan_known (phrase apply): tokens in the table keep their ids, any other token
    gets the next block-local foreign id and its bytes are where starts/lengths say; the
    table does not grow and nothing is counted."""
    counter = TokenCounter()
    counter.scan(seed_text + b"\n")
    table = counter.word_bytes()
    counts = counter.counts_array().tolist()
    base, before = len(table) + 3, counter.tokens
    ids, ends, starts, lengths = counter.scan_known(data, base)
    tokens, expected_ends = expected_scan(data)
    assert (ends - before).tolist() == expected_ends
    foreign = [data[a:a + n] for a, n in zip(starts.tolist(), lengths.tolist())]
    got = [table[i] if i < len(table) else foreign[i - base] for i in ids.tolist()]
    assert got == tokens
    assert [i - base for i in ids.tolist() if i >= base] == list(range(len(foreign)))
    assert all(t not in table for t in foreign)
    assert counter.word_bytes() == table and counter.counts_array().tolist() == counts


# -------------------------------------------------------------------- corpus reader
def _sentences(corpus, vocab):
    s = corpus.sentence_starts
    return [[vocab.index_to_key[i] for i in corpus.ids[s[k]:s[k + 1]]] for k in range(corpus.n_sentences)]


def _read(path, config, text_path=False):
    """(vocab words, counts, sentences) or the CorpusError message."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus_module, "BLOCK_CHARS", 5)      # carries across blocks everywhere
        if text_path:
            patch.setattr(corpus_module, "_is_utf8", lambda encoding: False)
        try:
            corpus, vocab = build_corpus(path, config)
        except CorpusError as e:
            return str(e).split(":")[1].strip()[:12]
    return vocab.index_to_key, vocab.counts.tolist(), _sentences(corpus, vocab)


@FUZZ
@given(bytes_strategy, st.sampled_from(["strict", "replace", "ignore"]))
def test_corpus_readers_agree_on_any_bytes_and_fail_only_with_corpus_error(data, errors):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "c.txt")
        with open(path, "wb") as f:
            f.write(data)
        config = Config(min_count=1, encoding_errors=errors)
        fast, text = _read(path, config), _read(path, config, text_path=True)
        if errors == "strict" and isinstance(fast, str):
            assert isinstance(text, str)    # both fail (a file with NUL and bad bytes may be
            return                          # reported by either problem first)
        assert fast == text
        if isinstance(fast, str):
            assert fast.startswith("empty vocab")   # the only failure left: nothing to read


@FUZZ
@given(st.lists(st.lists(st.text(alphabet="abcé中\U0001F600", min_size=1, max_size=3),
                         max_size=12), max_size=12),
       st.integers(1, 3), st.sampled_from([None, 2, 5]))
def test_vocabulary_counts_match_collections_counter(sentences, min_count, max_final_vocab):
    counts = Counter(w for s in sentences for w in s)
    expected = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    expected = expected[:max_final_vocab] if max_final_vocab else expected
    config = Config(min_count=min_count, max_final_vocab=max_final_vocab)
    if not expected:
        with pytest.raises(CorpusError, match="empty vocabulary"):
            build_corpus(sentences, config)
        return
    for source in ("list", "file"):
        if source == "list":
            corpus, vocab = build_corpus(sentences, config)
        else:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "c.txt")
                with open(path, "w", encoding="utf-8") as f:
                    f.write("".join(" ".join(s) + "\n" for s in sentences))
                corpus, vocab = build_corpus(path, config)
        assert vocab.index_to_key == expected
        assert vocab.counts.tolist() == [counts[w] for w in expected]
        kept = set(expected)
        assert _sentences(corpus, vocab) == [[w for w in s if w in kept] for s in sentences
                                             if any(w in kept for w in s)]
        assert corpus.stats.tokens == sum(counts.values())


@FUZZ
@given(st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=20), min_size=1, max_size=8),
       st.integers(2, 6))
def test_pruned_vocabulary_stays_within_max_vocab_size(sentences, limit):
    counts = Counter(w for s in sentences for w in s)
    try:
        corpus, vocab = build_corpus(sentences, Config(min_count=1, max_vocab_size=limit))
    except CorpusError as e:
        assert "empty vocabulary" in str(e)
        return
    assert len(vocab) <= limit
    assert all(vocab.count(w) <= counts[w] for w in vocab.index_to_key)   # lower bounds
    if len(counts) <= limit:                                              # no prune: exact
        assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == dict(counts)


# ---------------------------------------------------------------------- file loaders
WORDS = ["king", "queen", "r\u00e9gime", "\u4e2d\u6587", "x"]
VECTORS = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


def _word2vec_bytes(binary):
    from w2v.io import save_word2vec_format
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v")
        save_word2vec_format(path, WORDS, VECTORS, binary=binary)
        with open(path, "rb") as f:
            return f.read()


W2V_FILES = {True: _word2vec_bytes(True), False: _word2vec_bytes(False)}


def mutate(data: bytes, draw_ops):
    data = bytearray(data)
    for op, position, value in draw_ops:
        if not data:
            break
        at = position % len(data)
        if op == "flip":
            data[at] ^= 1 << (value % 8)
        elif op == "set":
            data[at] = value % 256
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = bytes([value % 256]) * (1 + value % 5)
        elif op == "delete":
            del data[at:at + 1 + value % 7]
    return bytes(data)


ops = st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                         st.integers(0, 2**20), st.integers(0, 2**16)), min_size=1, max_size=4)


def _load_w2v(data, binary):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v")
        with open(path, "wb") as f:
            f.write(data)
        try:
            words, vectors = load_word2vec_format(path, binary=binary)
        except ModelFileError:
            return None
    assert vectors.dtype == np.float32 and vectors.shape == (len(words), vectors.shape[1])
    return words, vectors


@FUZZ
@given(st.booleans(), ops)
def test_word2vec_loader_on_mutated_files_loads_or_raises_model_file_error(binary, changes):
    _load_w2v(mutate(W2V_FILES[binary], changes), binary)


@FUZZ
@given(st.booleans(), st.binary(max_size=200))
def test_word2vec_loader_on_random_bytes(binary, data):
    _load_w2v(data, binary)


@FUZZ
@given(st.booleans(), st.integers(-2, 10**30), st.integers(-2, 10**30))
@example(True, 0, 10**30)
@example(False, 10**12, 1)
def test_word2vec_header_never_causes_a_huge_allocation(binary, count, dim):
    body = W2V_FILES[binary].split(b"\n", 1)[1]
    tracemalloc.start()
    try:
        loaded = _load_w2v(f"{count} {dim}\n".encode() + body, binary)
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()
    if loaded is not None:
        assert loaded[1].shape == (count, dim)


def _model_file_bytes():
    model = Word2Vec([["a", "b", "c", "a"], ["b", "c", "d"]] * 3, min_count=1, vector_size=4,
                     epochs=1, workers=1, progress=False)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        model.save(path)
        with open(path, "rb") as f:
            buffer.write(f.read())
    return buffer.getvalue()


MODEL_FILE = _model_file_bytes()


def _load_model(data, mmap=None):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        with open(path, "wb") as f:
            f.write(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")       # "could not be memory-mapped"
                model = Word2Vec.load(path, mmap=mmap)
        except ModelFileError:
            return None
        n, dim = len(model.vocab), model.config.vector_size
        assert model.W_in.shape == model.W_out.shape == (n, dim)
        # each row contiguous (with Adam, rows sit beside their moments: a strided table)
        assert model.W_in.dtype == np.float32 and model.W_in.strides[1] == 4
        model.W_in.sum(), model.W_out.sum()           # every mapped page can be read
    return model


def _load_vectors(data, mmap=None):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.npz")
        with open(path, "wb") as f:
            f.write(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wv = WordVectors.load(path, mmap=mmap)
        except ModelFileError:
            return None
        assert wv.vectors.shape == (len(wv), wv.vector_size)
        wv.vectors.sum()
        if len(wv):
            wv.most_similar(wv.index_to_key[0], topn=None)
    return wv


@FUZZ
@given(ops)
def test_native_loader_on_mutated_files_loads_or_raises_model_file_error(changes):
    _load_model(mutate(MODEL_FILE, changes))


@FUZZ
@given(st.binary(max_size=300))
def test_native_loader_on_random_bytes(data):
    _load_model(data)


@FUZZ
@given(ops)
def test_mapped_native_loader_on_mutated_files_loads_or_raises_model_file_error(changes):
    _load_model(mutate(MODEL_FILE, changes), mmap="r")


def _vectors_file_bytes():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.npz")
        WordVectors(VECTORS, list(WORDS), np.arange(5, dtype=np.int64)).save(path)
        with open(path, "rb") as f:
            return f.read()


VECTORS_FILE = _vectors_file_bytes()


@FUZZ
@given(ops, st.sampled_from([None, "r"]))
def test_vectors_loader_on_mutated_files_loads_or_raises_model_file_error(changes, mmap):
    _load_vectors(mutate(VECTORS_FILE, changes), mmap=mmap)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([None, "r"]))
def test_vectors_loader_on_random_bytes(data, mmap):
    _load_vectors(data, mmap=mmap)


def _members():
    with zipfile.ZipFile(io.BytesIO(MODEL_FILE)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


MEMBERS = _members()
shapes = st.lists(st.integers(0, 10**12), max_size=3).map(tuple)
descrs = st.sampled_from(["<f4", ">f4", "<f8", "<i8", "|u1", "<i4", "|b1", "<U3", "|V8", "<c8"])


@FUZZ
@given(st.sampled_from(sorted(MEMBERS)), shapes, descrs, st.booleans())
def test_native_loader_with_altered_npy_headers(name, shape, descr, fortran):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": fortran,
                                                  "shape": shape})
    raw = MEMBERS[name]
    body = raw[raw.index(b"\n") + 1:]
    members = dict(MEMBERS, **{name: header.getvalue() + body})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    tracemalloc.start()
    try:
        _load_model(buffer.getvalue())
        _load_model(buffer.getvalue(), mmap="r")
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children,
                                                                       max_size=3),
    max_leaves=6)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["config", "adam_step", "train_runs", "history",
                                           "format", "format_version", "vector_size", "window",
                                           "optimizer", "workers", "checkpoint_every"]),
                          json_values), min_size=1, max_size=3))
def test_native_loader_with_altered_metadata(changes):
    raw = MEMBERS["meta_json.npy"]
    meta = json.loads(raw[raw.index(b"\n") + 1:].decode())
    for key, value in changes:
        if key in meta:
            meta[key] = value
        elif isinstance(meta["config"], dict):
            meta["config"][key] = value
    encoded = json.dumps(meta).encode()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (len(encoded),)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for member, data in dict(MEMBERS, **{"meta_json.npy": header.getvalue() + encoded}).items():
            z.writestr(member, data)
    _load_model(buffer.getvalue())


# ---------------------------------------------------------- fastText .bin and n-grams
def _fasttext_bin_bytes():
    from w2v.fasttext_bin import FastTextArgs, FastTextModel, write_fasttext_bin
    rng = np.random.default_rng(0)
    words = ["</s>"] + WORDS
    model = FastTextModel(FastTextArgs(dim=3, bucket=11, minn=2, maxn=4), words,
                          np.arange(len(words), 0, -1),
                          rng.normal(size=(len(words) + 11, 3)).astype(np.float32),
                          rng.normal(size=(len(words), 3)).astype(np.float32))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.bin")
        write_fasttext_bin(path, model)
        with open(path, "rb") as f:
            return f.read()


FASTTEXT_FILE = _fasttext_bin_bytes()


def _load_fasttext(data):
    from w2v.vectors import SubwordVectors
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.bin")
        with open(path, "wb") as f:
            f.write(data)
        try:
            wv = SubwordVectors.load_facebook(path)
        except ModelFileError:
            return None
        assert wv.vectors.shape == (len(wv), wv.vector_size)
        assert wv.ngram_vectors.shape[1] == wv.vector_size
        wv.ngram_vectors.sum()                        # every mapped page can be read
        if wv.has_vector("kingdom"):
            assert wv["kingdom"].shape == (wv.vector_size,)
        del wv
    return True


@FUZZ
@given(ops)
def test_fasttext_loader_on_mutated_files_loads_or_raises_model_file_error(changes):
    _load_fasttext(mutate(FASTTEXT_FILE, changes))


@FUZZ
@given(st.binary(max_size=300))
def test_fasttext_loader_on_random_bytes_after_the_magic(data):
    _load_fasttext(FASTTEXT_FILE[:4] + data)


@FUZZ
@given(st.integers(-2, 2**31 - 1), st.integers(-2, 2**31 - 1), st.integers(-2, 2**31 - 1),
       st.integers(-2, 2**31 - 1))
@example(2**31 - 1, 3, 3, 2)
@example(3, 0, 2**31 - 1, 2**31 - 1)
def test_fasttext_header_never_causes_a_huge_allocation(dim, bucket, minn, maxn):
    import struct
    data = bytearray(FASTTEXT_FILE)
    struct.pack_into("<i", data, 8, dim)
    struct.pack_into("<3i", data, 8 + 32, bucket, minn, maxn)
    tracemalloc.start()
    try:
        _load_fasttext(bytes(data))
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20
    finally:
        tracemalloc.stop()


@FUZZ
@given(st.binary(max_size=30), st.integers(0, 4), st.integers(0, 7))
@example(b"\x80\x80abc\xc3", 1, 3)
@example(b"</s>", 1, 6)
def test_ngrams_of_any_bytes_match_the_reference(word, minn, maxn):
    from reference import fasttext_hash, fasttext_ngrams
    from w2v import subwords
    text = word.decode("utf-8", "surrogateescape")
    expected = fasttext_ngrams(word, minn, maxn) if maxn else []
    assert [subwords.word_bytes(g) for g in subwords.ngrams(text, minn, maxn)] == expected
    assert subwords.ngram_hashes(text, minn, maxn).tolist() == [fasttext_hash(g) for g in expected]
