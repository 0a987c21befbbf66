"""Agreement with gensim, when it is installed (pip install ".[bench]"); skipped otherwise."""
import numpy as np
import pytest

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors  # noqa: E402

from w2v.evaluation import evaluate_analogies, evaluate_word_pairs  # noqa: E402


def as_gensim(model):
    kv = KeyedVectors(model.config.vector_size)
    kv.add_vectors(list(model.index_to_key), model.word_vecs)
    return kv


def test_word2vec_files_load_in_gensim_bit_for_bit(trained_models, tmp_path):
    model = trained_models["sgd"]
    model.save_word2vec_format(tmp_path / "v.bin")
    model.save_word2vec_format(tmp_path / "v.txt", binary=False)
    binary = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True)
    text = KeyedVectors.load_word2vec_format(tmp_path / "v.txt", binary=False)
    assert binary.index_to_key == model.index_to_key == text.index_to_key
    np.testing.assert_array_equal(binary.vectors, model.word_vecs)
    np.testing.assert_allclose(text.vectors, model.word_vecs, atol=1e-6)


def test_analogy_accuracy_and_word_pairs_agree_with_gensim(trained_models, toy_questions, tmp_path):
    model = trained_models["adam"]
    kv = as_gensim(model)
    ours = evaluate_analogies(model, toy_questions, restrict_vocab=200)
    score, sections = kv.evaluate_word_analogies(toy_questions, restrict_vocab=200)
    assert ours["accuracy"] == pytest.approx(score)
    assert ours["correct"] == len(sections[-1]["correct"])
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word pairs\nking\tqueen\t9\nking\tapples\t1\ncat\tcats\t8\n"
                     "paris\tfrance\t7\nboy\tgirl\t8.5\nzzz\tking\t3\n")
    ours = evaluate_word_pairs(model, pairs)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(pairs))
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours["pearson"] == pytest.approx(pearson.statistic, abs=1e-5)
    assert 100 * ours["oov_ratio"] == pytest.approx(oov)


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_written_vectors_load_in_w2v(trained_models, tmp_path, binary):
    from w2v import load_vectors
    kv = as_gensim(trained_models["adam"])
    path = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    ours = load_vectors(path)
    assert ours.index_to_key == kv.index_to_key
    if binary:
        np.testing.assert_array_equal(ours.vectors, kv.vectors)
    else:
        np.testing.assert_allclose(ours.vectors, kv.vectors, rtol=1e-6)
    got, expected = ours.most_similar("king", topn=3), kv.most_similar("king", topn=3)
    assert [w for w, _ in got] == [w for w, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_vec_files_load_in_gensim(trained_models, tmp_path):
    model = trained_models["sgd"]
    model.save_word2vec_format(tmp_path / "m.vec")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "m.vec"), binary=False)
    assert kv.index_to_key == model.index_to_key
    np.testing.assert_allclose(kv.vectors, model.word_vecs, atol=1e-6)


def test_3cosmul_agrees_with_gensim_most_similar_cosmul(toy_corpus, toy_questions):
    import warnings
    from w2v import Word2Vec
    # a weak model, so that some answers are wrong and the comparison means something
    model = Word2Vec(toy_corpus, vector_size=8, epochs=1, workers=1, progress=False)
    kv = as_gensim(model)
    ours = evaluate_analogies(model, toy_questions, restrict_vocab=None, method="3cosmul")
    correct = answered = 0
    with open(toy_questions, encoding="utf-8") as f:
        for line in f:
            if line.startswith(":") or not line.strip():
                continue
            a, b, c, d = line.lower().split()
            if not all(w in kv.key_to_index for w in (a, b, c, d)):
                continue
            answered += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                guess = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0]
            correct += guess == d
    assert 0 < correct < answered
    assert (ours["correct"], ours["answered"]) == (correct, answered)


def test_vectors_written_by_w2v_score_the_same_analogies_in_gensim(toy_corpus, toy_questions,
                                                                   tmp_path):
    from w2v import Word2Vec
    model = Word2Vec(toy_corpus, vector_size=12, epochs=1, workers=1, progress=False)
    model.save_word2vec_format(tmp_path / "v.bin")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    score, _ = kv.evaluate_word_analogies(toy_questions, restrict_vocab=30000)
    ours = evaluate_analogies(model, toy_questions, restrict_vocab=30000)
    assert 0 < ours["accuracy"] < 1
    assert ours["accuracy"] == pytest.approx(score)
