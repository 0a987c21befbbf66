"""Starting from existing vectors (from_pretrained, freeze), growing the vocabulary
(build_vocab(update=True)), and handing W_in to PyTorch (to_torch)."""
import numpy as np
import pytest

from w2v import Word2Vec


@pytest.fixture(scope="module")
def toy_lines(toy_corpus):
    with open(toy_corpus, encoding="utf-8") as f:
        return [line.split() for line in f]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_freeze_keeps_w_in_bit_identical_while_w_out_trains(trained_models, toy_corpus,
                                                            tmp_path, optimizer):
    source = trained_models["sgd"]
    source.save_word2vec_format(tmp_path / "v.bin")
    model = Word2Vec.from_pretrained(tmp_path / "v.bin", freeze=True, optimizer=optimizer,
                                     epochs=1, workers=1)
    assert model.config.freeze and model.config.vector_size == source.config.vector_size
    np.testing.assert_array_equal(model.word_vecs, source.word_vecs)
    assert model.word_vecs is not source.word_vecs           # a copy, not the caller's array
    model.train(toy_corpus, progress=False)
    np.testing.assert_array_equal(model.word_vecs, source.word_vecs)
    assert np.abs(model.W_out).sum() > 0
    assert model.history[-1]["loss"] < 0.9 * np.log(2) * (1 + model.config.negative)
    # counts came from the corpus trained on
    assert model.count("king") == source.count("king")


def test_unfrozen_pretrained_vectors_keep_training_and_stay_good(trained_models, toy_corpus,
                                                                toy_questions):
    from w2v.evaluation import evaluate_analogies
    source = trained_models["adam"]
    model = Word2Vec.from_pretrained(source.word_vecs, source.index_to_key, epochs=1, workers=1,
                                     counts=source.counts)
    model.train(toy_corpus, progress=False)
    assert not np.array_equal(model.word_vecs, source.word_vecs)
    assert evaluate_analogies(model, toy_questions)["accuracy"] > 0.9


def test_from_pretrained_errors_name_the_problem(trained_models):
    vectors = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="need `words`"):
        Word2Vec.from_pretrained(vectors)
    with pytest.raises(ValueError, match="shape \\(3, 4\\) for 2 words"):
        Word2Vec.from_pretrained(vectors, ["a", "b"])
    with pytest.raises(ValueError, match="vector_size=5 but the pretrained vectors have 4"):
        Word2Vec.from_pretrained(vectors, ["a", "b", "c"], vector_size=5)
    with pytest.raises(ValueError, match="duplicate word in vocabulary: 'a'"):
        Word2Vec.from_pretrained(vectors, ["a", "b", "a"])
    with pytest.raises(ValueError, match="NaN or infinite"):
        Word2Vec.from_pretrained(np.full((1, 2), np.nan), ["a"])
    with pytest.raises(IndexError, match="padding_idx=3 out of range"):
        Word2Vec.from_pretrained(vectors, ["a", "b", "c"], padding_idx=3)


def test_update_grows_the_vocabulary_and_carries_the_optimizer_on(toy_lines):
    model = Word2Vec(toy_lines, optimizer="adam", workers=1, seed=3, epochs=3, progress=False)
    size, steps, king = len(model), model.adam_step, model.count("king")
    before = model.word_vecs.copy()
    moments_before = model.adam_moments()[0].copy()
    second = [[("monarch" if w == "king" else w) for w in line] for line in toy_lines
              if "king" in line]
    model.build_vocab(second, update=True)
    assert len(model) == size + 1 and model.index_to_key[-1] == "monarch"
    np.testing.assert_array_equal(model.word_vecs[:size], before)       # nothing forgotten
    np.testing.assert_array_equal(model.adam_moments()[0][:size], moments_before)
    assert model.count("king") == king                                 # not in this corpus
    model.train(epochs=3, progress=False)
    assert model.adam_step > steps                   # bias correction continues from here
    assert model.similarity("monarch", "king") > 0.6
    assert "king" in [w for w, _ in model.most_similar("monarch", topn=5)]


def test_update_adds_counts_of_known_words(toy_lines):
    model = Word2Vec(toy_lines[:1000], epochs=1, workers=1, progress=False)
    first = model.count("the") if "the" in model else model.counts[0]
    word = "the" if "the" in model else model.index_to_key[0]
    model.build_vocab(toy_lines[:1000], update=True)
    assert model.count(word) == 2 * first


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_padding_row_stays_zero_and_max_norm_holds_through_training(toy_lines, optimizer):
    model = Word2Vec(toy_lines, optimizer=optimizer, padding_idx=-1, max_norm=0.5, epochs=1,
                     workers=2, progress=False)
    assert not model.word_vecs[-1].any()
    norms = np.linalg.norm(model.word_vecs, axis=1)
    # every row was looked up (and renormalised) many times; the last update may
    # push a row past max_norm by one step only
    assert norms.max() < 0.55 and norms[:-1].min() > 0


def test_update_needs_a_vocabulary():
    with pytest.raises(RuntimeError, match="needs a model with a vocabulary"):
        Word2Vec().build_vocab([["a", "b"]], update=True)


# ----------------------------------------------------------------------- torch
torch_needed = pytest.mark.skipif(
    not __import__("importlib").util.find_spec("torch"), reason="PyTorch not installed")


@torch_needed
def test_to_torch_returns_the_same_rows(trained_models):
    import torch
    model = trained_models["adam"]
    embedding = model.to_torch()
    assert isinstance(embedding, torch.nn.Embedding)
    assert not embedding.weight.requires_grad
    ids = [model.key_to_index[w] for w in ("king", "queen", "paris")]
    np.testing.assert_array_equal(embedding(torch.tensor(ids)).numpy(), model[ids])
    assert model.to_torch(freeze=False).weight.requires_grad


@torch_needed
@pytest.mark.parametrize("padding_idx,shift", [(0, 1), (-1, 0)])
def test_to_torch_padding_row(trained_models, padding_idx, shift):
    import torch
    model = trained_models["adam"]
    embedding = model.to_torch(padding_idx=padding_idx)
    n = len(model)
    assert embedding.num_embeddings == n + 1
    assert embedding.padding_idx == (0 if padding_idx == 0 else n)
    assert not embedding.weight[embedding.padding_idx].any()
    king = model.key_to_index["king"]
    np.testing.assert_array_equal(embedding(torch.tensor([king + shift])).numpy()[0], model["king"])
    with pytest.raises(IndexError, match="padding_idx"):
        model.to_torch(padding_idx=n + 5)


@torch_needed
def test_torch_embedding_round_trip_keeps_padding_and_max_norm(toy_corpus):
    import torch
    weights = torch.randn(4, 8) * 0.1
    words = ["the", "king", "queen", "<pad>"]
    embedding = torch.nn.Embedding.from_pretrained(weights, padding_idx=3, max_norm=2.0)
    model = Word2Vec.from_pretrained(embedding, words, epochs=1)
    assert (model.config.padding_idx, model.config.max_norm) == (3, 2.0)
    np.testing.assert_array_equal(model.word_vecs, weights.numpy())
    back = model.to_torch()
    assert back.padding_idx == 3 and back.max_norm == 2.0
    np.testing.assert_array_equal(back.weight.numpy(), weights.numpy())
