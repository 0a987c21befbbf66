"""Facebook fastText .bin models: read (vectors equal to the fasttext package's, for
words seen and unseen), written back (the fasttext package loads them with the same
vectors), and SubwordVectors' queries on unseen words."""
import os

import numpy as np
import pytest

import w2v
from fasttext_models import fasttext_module, toy_fasttext_model
from w2v import ModelFileError
from w2v.fasttext_bin import (FastTextArgs, FastTextModel, is_fasttext_bin, read_fasttext_bin,
                              write_fasttext_bin)
from w2v.vectors import SubwordVectors

UNSEEN = ["kingdoms", "queenly", "ruled", "été", "naïveté", "中文字符", "\U0001F600ab", "zzzz",
          "q", "</s>x"]


def saved(model, tmp_path, name="model.bin"):
    path = tmp_path / name
    model.save_model(str(path))
    return path


def assert_same_vectors(vectors, ft_model, words):
    for word in words:
        np.testing.assert_allclose(vectors[word], ft_model.get_word_vector(word),
                                   rtol=1e-5, atol=1e-6, err_msg=word)


@pytest.mark.parametrize("model,loss,minn,maxn", [("skipgram", "ns", 3, 6), ("cbow", "ns", 3, 6),
                                                  ("skipgram", "hs", 2, 4), ("cbow", "hs", 1, 5)])
def test_vectors_equal_fasttext_for_seen_and_unseen_words(tmp_path, model, loss, minn, maxn):
    ft = toy_fasttext_model(model=model, loss=loss, minn=minn, maxn=maxn, bucket=30011)
    path = saved(ft, tmp_path)
    assert is_fasttext_bin(path)
    vectors = w2v.load_vectors(path)
    assert isinstance(vectors, SubwordVectors)
    assert vectors.index_to_key == ft.get_words()
    assert (vectors.minn, vectors.maxn, vectors.bucket) == (minn, maxn, 30011)
    np.testing.assert_array_equal(vectors.counts, ft.get_words(include_freq=True)[1])
    assert_same_vectors(vectors, ft, ft.get_words() + UNSEEN)
    # the n-gram rows are mapped from the file, read-only, not copied
    assert isinstance(vectors.ngram_vectors, np.memmap) and not vectors.ngram_vectors.flags.writeable
    np.testing.assert_array_equal(vectors.ngram_vectors, ft.get_input_matrix()[len(vectors):])


def test_model_without_subwords(tmp_path):
    fasttext = fasttext_module()
    rng = np.random.default_rng(2)
    model = FastTextModel(FastTextArgs(dim=5, bucket=0, minn=0, maxn=0), ["</s>", "a", "b"],
                          np.array([3, 2, 1]), rng.normal(size=(3, 5)).astype(np.float32),
                          rng.normal(size=(3, 5)).astype(np.float32))
    write_fasttext_bin(tmp_path / "plain.bin", model)
    ft = fasttext.load_model(str(tmp_path / "plain.bin"))
    vectors = w2v.load_vectors(tmp_path / "plain.bin")
    assert vectors.bucket == 0
    assert_same_vectors(vectors, ft, ["</s>", "a", "b"])
    np.testing.assert_array_equal(ft.get_word_vector("kingdoms"), 0)   # fastText: zeros
    assert not vectors.has_vector("kingdoms")
    with pytest.raises(KeyError, match="'kingdoms' not in vocabulary and without n-grams"):
        vectors["kingdoms"]


def test_written_bin_loads_in_fasttext_with_the_same_vectors(tmp_path):
    fasttext = fasttext_module()
    ft = toy_fasttext_model(model="cbow", minn=3, maxn=6, bucket=30011)
    path = saved(ft, tmp_path)
    vectors = w2v.load_vectors(path)
    vectors.save_facebook_model(tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()
    again = fasttext.load_model(str(tmp_path / "again.bin"))
    assert_same_vectors(vectors, again, ft.get_words() + UNSEEN)


def test_a_model_written_here_loads_in_fasttext(tmp_path):
    fasttext = fasttext_module()
    rng = np.random.default_rng(1)
    words = ["</s>", "king", "été", "中文", "a\udcffb"]       # the last: a non-UTF-8 byte
    model = FastTextModel(FastTextArgs(dim=6, bucket=101, minn=2, maxn=4, model="sg"), words,
                          np.array([9, 5, 4, 3, 1]),
                          rng.normal(size=(5 + 101, 6)).astype(np.float32),
                          rng.normal(size=(5, 6)).astype(np.float32), ntokens=22)
    write_fasttext_bin(tmp_path / "m.bin", model)
    ft = fasttext.load_model(str(tmp_path / "m.bin"))
    assert ft.get_words(on_unicode_error="surrogateescape") == words
    vectors = w2v.load_vectors(tmp_path / "m.bin")
    for word in words[:4] + ["kingdom", "étés"]:
        np.testing.assert_allclose(vectors[word], ft.get_word_vector(word), rtol=1e-6, atol=1e-7)
    back = read_fasttext_bin(tmp_path / "m.bin", mmap=None)
    assert back.words == words and back.ntokens == 22 and back.args == model.args
    np.testing.assert_array_equal(back.input_matrix, model.input_matrix)
    np.testing.assert_array_equal(back.output_matrix, model.output_matrix)


def test_queries_accept_unseen_words(tmp_path):
    ft = toy_fasttext_model(minn=3, maxn=6, bucket=30011, epoch=2)
    vectors = w2v.load_vectors(saved(ft, tmp_path))
    assert "kingdoms" not in vectors and vectors.has_vector("kingdoms")
    neighbours = vectors.most_similar("kingdoms", topn=5)
    assert len(neighbours) == 5 and all(w in vectors for w, _ in neighbours)
    expected = ft.get_word_vector("kingdoms")
    cosines = vectors.vectors @ expected / np.linalg.norm(vectors.vectors, axis=1) \
        / np.linalg.norm(expected)
    assert neighbours[0][0] == vectors.index_to_key[int(np.argmax(cosines))]
    assert vectors.similarity("kingdoms", "king") == pytest.approx(
        float(vectors.get_vector("kingdoms", norm=True) @ vectors.get_vector("king", norm=True)),
        rel=1e-5)
    assert vectors.analogy("man", "king", "womanly", topn=2)
    assert vectors.most_similar_cosmul(positive=["kingz"], topn=2)
    assert vectors.n_similarity(["kingz", "queen"], ["rulers"]) <= 1.0001
    assert vectors.distances("kingz", ["king", "queenz"]).shape == (2,)
    assert vectors[["kingz", "king"]].shape == (2, 16)
    assert vectors.get_mean_vector(["kingz", "nosuchwordwithoutgrams"]).shape == (16,)


def test_exports_write_the_in_vocabulary_vectors(tmp_path):
    ft = toy_fasttext_model(minn=3, maxn=6, bucket=30011)
    vectors = w2v.load_vectors(saved(ft, tmp_path))
    vectors.save_word2vec_format(tmp_path / "m.vec")
    text = w2v.load_vectors(tmp_path / "m.vec")
    assert text.index_to_key == vectors.index_to_key
    np.testing.assert_allclose(text.vectors, vectors.vectors, rtol=1e-5, atol=1e-6)


def test_reading_into_memory_and_copy_on_write(tmp_path):
    ft = toy_fasttext_model(minn=3, maxn=6, bucket=30011)
    path = saved(ft, tmp_path)
    read = read_fasttext_bin(path, mmap=None)
    assert not isinstance(read.input_matrix, np.memmap) and read.input_matrix.flags.writeable
    cow = read_fasttext_bin(path, mmap="c")
    cow.input_matrix[0] = 0                          # changes stay in memory
    np.testing.assert_array_equal(read_fasttext_bin(path).input_matrix, read.input_matrix)
    with pytest.raises(ValueError, match="mmap='w'"):
        read_fasttext_bin(path, mmap="w")
