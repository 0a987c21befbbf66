"""Queries: neighbours, similarity, analogies, and the errors users know from gensim/torch."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def model(trained_models):
    return trained_models["adam"]


def test_neighbours_and_analogies_make_sense(model):
    assert model.analogy("man", "king", "woman")[0][0] == "queen"
    assert model.analogy("france", "paris", "japan")[0][0] == "tokyo"
    top = [w for w, _ in model.most_similar("paris", topn=5)]
    assert "paris" not in top
    assert model.doesnt_match(["france", "germany", "italy", "queen"]) == "queen"


def test_most_similar_scores_are_cosines_in_order(model):
    result = model.most_similar(positive=["king"], topn=10)
    scores = [s for _, s in result]
    assert scores == sorted(scores, reverse=True) and len(result) == 10
    word, score = result[0]
    v, w = model["king"], model[word]
    assert score == pytest.approx(v @ w / np.linalg.norm(v) / np.linalg.norm(w), rel=1e-5)
    assert model.similarity("king", word) == pytest.approx(score, rel=1e-5)
    assert model.similarity("king", "queen") == pytest.approx(model.similarity("queen", "king"))


def test_lookup_by_word_and_id(model):
    i = model.key_to_index["king"]
    assert model.index_to_key[i] == "king"
    np.testing.assert_array_equal(model["king"], model.word_vecs[i])
    np.testing.assert_array_equal(model.vector(i), model.word_vecs[i])
    np.testing.assert_array_equal(model[["king", "queen"]], model.word_vecs[[i, model.key_to_index["queen"]]])
    assert "king" in model and "kingdom" not in model
    assert model.count("king") == model.counts[i] > 0
    assert len(model) == len(model.index_to_key)


def test_unknown_words_raise_key_error_naming_the_word(model):
    with pytest.raises(KeyError, match="kingdom"):
        model["kingdom"]
    with pytest.raises(KeyError, match="zzz"):
        model.most_similar(positive=["king", "zzz"])
    with pytest.raises(KeyError, match="qqq"):
        model.similarity("qqq", "king")


@pytest.mark.parametrize("bad", [-1, 10**6])
def test_ids_out_of_range_raise_index_error(model, bad):
    bad = len(model) if bad > 0 else bad
    with pytest.raises(IndexError, match="out of range"):
        model.vector(bad)
    with pytest.raises(IndexError):
        model[np.array([0, bad])]


def test_empty_and_invalid_queries(model):
    with pytest.raises(ValueError, match="at least one"):
        model.most_similar(positive=[], negative=[])
    assert model.most_similar("king", topn=0) == []          # as gensim
    with pytest.raises(ValueError, match="topn"):
        model.most_similar("king", topn=-1)
    with pytest.raises(ValueError, match="two words"):
        model.doesnt_match(["king"])
    with pytest.raises(TypeError):
        model.vector(1.5)
