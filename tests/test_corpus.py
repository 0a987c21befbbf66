"""Reading, vocabulary and the id stream."""
import bz2
import gzip
import lzma
from collections import Counter

import numpy as np
import pytest

from w2v import Config, CorpusError, build_corpus
from w2v.data import corpus as corpus_module


def tokens_of(corpus, vocab):
    return [vocab.index_to_key[i] for i in corpus.ids]


def sentences_of(corpus, vocab):
    s = corpus.sentence_starts
    return [[vocab.index_to_key[i] for i in corpus.ids[s[k]:s[k + 1]]]
            for k in range(corpus.n_sentences)]


def test_vocabulary_counts_are_exact(toy_corpus):
    with open(toy_corpus) as f:
        expected = Counter(f.read().split())
    corpus, vocab = build_corpus(toy_corpus, Config(min_count=1))
    assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == dict(expected)
    assert corpus.stats.tokens == sum(expected.values()) == corpus.n_words


def test_vocabulary_order_min_count_and_ties():
    sentences = [["b", "a", "c", "c", "d"], ["a", "b", "e", "c"], ["z"]]
    _, vocab = build_corpus(sentences, Config(min_count=2))
    # descending count, ties in code point order; d, e, z (count 1) dropped
    assert vocab.index_to_key == ["c", "a", "b"]
    assert vocab.counts.tolist() == [3, 2, 2]
    _, vocab = build_corpus(sentences, Config(min_count=1, max_final_vocab=4))
    assert vocab.index_to_key == ["c", "a", "b", "d"]


def test_out_of_vocabulary_words_are_dropped_and_sentences_kept_apart():
    sentences = [["x", "rare", "y"], ["lonely"], ["y", "x", "x"]]
    corpus, vocab = build_corpus(sentences, Config(min_count=2))
    assert sentences_of(corpus, vocab) == [["x", "y"], ["y", "x", "x"]]
    assert corpus.stats.tokens == 7 and corpus.stats.kept_tokens == 5


def test_long_line_is_split_into_pieces_never_truncated(tmp_path):
    words = [f"w{i % 7}" for i in range(25)]
    path = tmp_path / "long.txt"
    path.write_text(" ".join(words) + "\nw1 w2\n")
    corpus, vocab = build_corpus(path, Config(min_count=1, max_sentence_length=10))
    assert [len(s) for s in sentences_of(corpus, vocab)] == [10, 10, 5, 2]
    assert tokens_of(corpus, vocab) == words + ["w1", "w2"]
    assert corpus.stats.lines_split == 1 and corpus.stats.extra_pieces == 2


def test_one_huge_line_read_in_small_blocks(tmp_path, monkeypatch):
    # text8 is one 100 MB line without a final newline; blocks cut tokens anywhere.
    rng = np.random.default_rng(0)
    words = [("abcdefgh"[: rng.integers(1, 8)]) + str(rng.integers(0, 5)) for _ in range(3000)]
    text = " ".join(words)
    path = tmp_path / "one_line.txt"
    path.write_text(text)
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 7)
    monkeypatch.setattr(corpus_module, "BATCH_TOKENS", 50)
    corpus, vocab = build_corpus(path, Config(min_count=1, max_sentence_length=100000))
    assert tokens_of(corpus, vocab) == words
    assert corpus.n_sentences == 1 and corpus.stats.lines == 1


def test_lines_across_blocks_and_whitespace(tmp_path, monkeypatch):
    text = "a  b\tc\r\nd e\n\n  f\u3000g  \nh"
    path = tmp_path / "ws.txt"
    path.write_text(text, encoding="utf-8", newline="")
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 3)
    corpus, vocab = build_corpus(path, Config(min_count=1))
    assert sentences_of(corpus, vocab) == [["a", "b", "c"], ["d", "e"], ["f", "g"], ["h"]]
    assert corpus.stats.lines == 5   # the empty line is read, then dropped


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lzma.open, ".xz")])
def test_compressed_files_read_like_plain(tmp_path, toy_corpus, opener, suffix):
    with open(toy_corpus, "rb") as f:
        data = f.read()
    packed = tmp_path / ("toy.txt" + suffix)
    with opener(packed, "wb") as f:
        f.write(data)
    plain, v1 = build_corpus(toy_corpus, Config())
    compressed, v2 = build_corpus(packed, Config())
    assert v1.index_to_key == v2.index_to_key
    np.testing.assert_array_equal(plain.ids, compressed.ids)
    np.testing.assert_array_equal(plain.sentence_starts, compressed.sentence_starts)


def test_iterable_gives_the_same_corpus_as_the_file(toy_corpus):
    with open(toy_corpus) as f:
        sentences = [line.split() for line in f]
    from_file, v1 = build_corpus(toy_corpus, Config())
    from_list, v2 = build_corpus(iter(sentences), Config())
    assert v1.index_to_key == v2.index_to_key
    np.testing.assert_array_equal(from_file.ids, from_list.ids)


def test_max_vocab_size_prunes_like_word2vec(tmp_path):
    common = ["the", "of", "and"] * 50
    rare = [f"rare{i}" for i in range(40)]
    corpus, vocab = build_corpus([common + rare + common], Config(min_count=1, max_vocab_size=10))
    assert corpus.stats.vocab_prunes >= 1
    assert {"the", "of", "and"} <= set(vocab.index_to_key)
    assert len(vocab) <= 10
    assert vocab.count("the") == 100       # words never pruned keep exact counts
    with pytest.raises(TypeError, match="two passes"):
        build_corpus(iter([common]), Config(min_count=1, max_vocab_size=10))


def test_encoding_with_an_existing_vocabulary(toy_corpus):
    _, vocab = build_corpus(toy_corpus, Config())
    corpus, same = build_corpus([["king", "unknownword", "queen"]], Config(), vocab=vocab)
    assert same is vocab
    assert tokens_of(corpus, vocab) == ["king", "queen"]


@pytest.mark.parametrize("make,error,match", [
    (lambda p: p / "missing.txt", FileNotFoundError, "not found"),
    (lambda p: p, IsADirectoryError, "directory"),
])
def test_bad_paths_name_the_problem(tmp_path, make, error, match):
    with pytest.raises(error, match=match):
        build_corpus(make(tmp_path), Config())


def test_empty_and_too_rare_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CorpusError, match="empty vocabulary"):
        build_corpus(empty, Config())
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c d\n" * 4)
    with pytest.raises(CorpusError, match="min_count=5"):
        build_corpus(rare, Config())


def test_invalid_utf8_is_an_error_naming_the_file_and_the_choice(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok line\nbad \xff\xfe bytes\n")
    with pytest.raises(CorpusError, match=r"latin1.txt.*not valid utf-8.*line 2.*encoding_errors"):
        build_corpus(path, Config(min_count=1))
    corpus, vocab = build_corpus(path, Config(min_count=1, encoding_errors="replace"))
    assert "\ufffd\ufffd" in vocab


def test_sentences_must_be_token_lists():
    with pytest.raises(TypeError, match="not a list of tokens"):
        build_corpus(["a sentence as one string"], Config(min_count=1))
    with pytest.raises(TypeError, match="tokens must be str"):
        build_corpus([["a", 3]], Config(min_count=1))


def test_byte_scanner_splits_like_str_split(tmp_path, monkeypatch):
    # Every whitespace str.split() knows, in a file read in blocks of 5 bytes.
    text = ("a\u00a0b\u3000c\u2028d\x1ce\x85f\u2009g\u202fh\u205fi\u1680j \u00e9t\u00e9 "
            "na\u00efve\t\x0bx\x0cy\r\nz \u4e2d\u6587\n\n  last")
    path = tmp_path / "unicode.txt"
    path.write_text(text, encoding="utf-8", newline="")
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 5)
    corpus, vocab = build_corpus(path, Config(min_count=1))
    expected = [line.split() for line in text.split("\n") if line.split()]
    assert sentences_of(corpus, vocab) == expected
    assert corpus.stats.tokens == sum(map(len, expected)) and corpus.stats.lines == 4


def test_replaced_bytes_merge_into_one_word(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"x\xff y\nx\xfe y\n\xff\xfe y\n")
    corpus, vocab = build_corpus(path, Config(min_count=1, encoding_errors="replace"))
    assert vocab.count("x\ufffd") == 2 and vocab.count("y") == 3
    assert tokens_of(corpus, vocab) == ["x\ufffd", "y", "x\ufffd", "y", "\ufffd\ufffd", "y"]
    corpus, vocab = build_corpus(path, Config(min_count=1, encoding_errors="ignore"))
    assert tokens_of(corpus, vocab) == ["x", "y", "x", "y", "y"]   # '\xff\xfe' is nothing
    assert corpus.stats.tokens == 5


def test_other_encodings_are_read_as_text(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 na\u00efve caf\u00e9\n".encode("latin-1"))
    corpus, vocab = build_corpus(path, Config(min_count=1, encoding="latin-1"))
    assert tokens_of(corpus, vocab) == ["caf\u00e9", "na\u00efve", "caf\u00e9"]
    with pytest.raises(ValueError, match="unknown text encoding"):
        build_corpus(path, Config(min_count=1, encoding="klingon"))
