"""Subword n-grams and their hashes (w2v/subwords.py) against a pure-Python reference
(tests/reference.py) and against the fasttext package's get_subwords."""
import numpy as np
import pytest

from fasttext_models import toy_fasttext_model
from reference import fasttext_hash as reference_hash
from reference import fasttext_input_rows, fasttext_ngrams
from w2v import subwords

WORDS = ["king", "kings", "a", "", "été", "naïve", "中文字", "\U0001F600x", "</s>", "<s>",
         "a<b>", "x" * 40, "\udcff\udc80ab", "\u0301e"]


def test_hash_matches_known_fnv1a_values_and_signed_bytes():
    assert subwords.fasttext_hash(b"") == 2166136261
    assert subwords.fasttext_hash(b"a") == 0xE40C292C        # FNV-1a 32 of "a"
    # bytes >= 0x80 are sign-extended before the xor, unlike the standard FNV-1a
    assert subwords.fasttext_hash(b"\xe9") == ((2166136261 ^ 0xFFFFFFE9) * 16777619) % 2**32
    for word in WORDS:
        data = subwords.word_bytes(word)
        assert subwords.fasttext_hash(data) == reference_hash(data)


@pytest.mark.parametrize("minn,maxn", [(3, 6), (1, 1), (1, 3), (2, 5), (4, 3), (0, 2), (3, 0)])
def test_ngrams_match_the_reference(minn, maxn):
    for word in WORDS:
        data = subwords.word_bytes(word)
        expected = fasttext_ngrams(data, minn, maxn) if maxn else []
        got = subwords.ngrams(word, minn, maxn)
        assert [subwords.word_bytes(g) for g in got] == expected, word
        assert subwords.ngram_hashes(word, minn, maxn).tolist() == \
            [reference_hash(g) for g in expected]


def test_ngrams_of_a_word():
    assert subwords.ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    assert subwords.ngrams("été", 1, 2) == ["<é", "é", "ét", "t", "té", "é", "é>"]
    assert subwords.ngrams("</s>", 1, 6) == []
    assert subwords.ngrams("ab", 3, 0) == []


def test_subword_table_matches_the_reference_and_feeds_the_core():
    words = [w for w in WORDS if w] + ["kings"]
    for minn, maxn, bucket in [(3, 6, 97), (1, 2, 1), (2, 4, 0), (3, 6, 2_000_000), (3, 0, 50)]:
        starts, rows = subwords.subword_table(words, minn, maxn, bucket)
        table = fasttext_input_rows([subwords.word_bytes(w) for w in words], minn,
                                    maxn if maxn else 0, bucket)
        assert starts.dtype == np.int64 and rows.dtype == np.int32
        assert starts[0] == 0 and starts[-1] == len(rows)
        assert [rows[starts[i]:starts[i + 1]].tolist() for i in range(len(words))] == table
        for i, word in enumerate(words):
            np.testing.assert_array_equal(
                rows[starts[i] + 1:starts[i + 1]],
                subwords.ngram_rows(word, minn, maxn, bucket, len(words)))


def test_compose_vectors_is_the_mean_of_each_range():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(30, 7)).astype(np.float32)
    starts = np.array([0, 3, 3, 4, 9])
    rows = np.array([1, 5, 5, 29, 0, 2, 4, 6, 8])
    out = subwords.compose_vectors(matrix, starts, rows)
    np.testing.assert_allclose(out[0], matrix[[1, 5, 5]].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(out[1], 0)
    np.testing.assert_array_equal(out[2], matrix[29])
    np.testing.assert_allclose(out[3], matrix[[0, 2, 4, 6, 8]].mean(axis=0), rtol=1e-6)
    with pytest.raises(IndexError, match="row 30 outside"):
        subwords.compose_vectors(matrix, np.array([0, 1]), np.array([30]))
    with pytest.raises(ValueError, match="non-decreasing"):
        subwords.compose_vectors(matrix, np.array([0, 2, 1]), np.array([1, 2]))


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="minn=-1"):
        subwords.ngrams("a", -1, 3)
    with pytest.raises(ValueError, match="bucket=-5"):
        subwords.subword_table(["a"], 3, 6, -5)
    with pytest.raises(ValueError, match="fewer than 2\\*\\*31"):
        subwords.subword_table(["a"], 3, 6, 2**31 - 1)
    with pytest.raises(TypeError, match="a word"):
        subwords.ngrams(3, 3, 6)


# ----------------------------------------------------------------- against fastText
@pytest.mark.parametrize("minn,maxn,bucket", [(3, 6, 20011), (2, 3, 5003), (2, 5, 2_000_000)])
def test_subwords_match_fasttext_get_subwords(minn, maxn, bucket):
    model = toy_fasttext_model(minn=minn, maxn=maxn, bucket=bucket, epoch=1)
    words = model.get_words(on_unicode_error="surrogateescape")
    starts, rows = subwords.subword_table(words, minn, maxn, bucket)
    for i, word in enumerate(words):
        names, ids = model.get_subwords(word)
        assert rows[starts[i]:starts[i + 1]].tolist() == ids.tolist(), word
    # words fastText never saw, ASCII and not: the n-grams and their rows
    for word in ["kingdoms", "ungoverned", "été", "naïveté", "中文字符", "\U0001F600ab", "q"]:
        names, ids = model.get_subwords(word)
        assert subwords.ngrams(word, minn, maxn) == names, word
        assert subwords.ngram_rows(word, minn, maxn, bucket, len(words)).tolist() == ids.tolist()


def test_composed_vectors_equal_fasttext_word_vectors():
    model = toy_fasttext_model(minn=3, maxn=6, bucket=20011)
    words = model.get_words()
    starts, rows = subwords.subword_table(words, 3, 6, 20011)
    vectors = subwords.compose_vectors(model.get_input_matrix(), starts, rows)
    expected = np.stack([model.get_word_vector(w) for w in words])
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-6)
