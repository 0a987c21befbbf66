"""CBOW's context cache (w2v/core/context_cache.pxd): a context word's input rows read
once while it is within reach and moved once when it leaves. SGD against its NumPy
reference; Adam the same computation as without the cache; rows that must not train stay
put; the model's option and its default."""
import numpy as np
import pytest

from reference import huffman_word2vec, renorm, train_sentence_cbow_cached_hs
from w2v import Config, Word2Vec
from w2v.core import train as core
from w2v.subwords import subword_table

WORDS = ["the", "king", "kings", "queen", "ruled", "rules", "a", "land", "lands"]
COUNTS = np.array([30, 20, 12, 9, 7, 5, 3, 2, 1])
SENTENCES = [[3, 0, 8, 1, 1, 5, 2, 7, 0, 4, 6], [2, 4], [5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 6]]


def _input_table(subwords, bucket=13):
    """CSR input rows: with subwords fastText's (own row, n-gram rows), else None."""
    if not subwords:
        return None, [[w] for w in range(len(WORDS))]
    starts, rows = subword_table(WORDS, 2, 4, bucket)
    return (starts, rows), [rows[a:b].tolist() for a, b in zip(starts[:-1], starts[1:])]


def _corpus(sentences):
    ids = np.array([w for s in sentences for w in s], np.int32)
    starts = np.cumsum([0] + [len(s) for s in sentences]).astype(np.int64)
    return ids, starts


@pytest.mark.parametrize("subwords", [False, True])
@pytest.mark.parametrize("window", [1, 2, 3])
def test_sgd_with_the_cache_trains_sentences_as_its_reference(subwords, window):
    rng = np.random.default_rng(window)
    table, input_rows = _input_table(subwords)
    in_rows = len(WORDS) + (13 if subwords else 0)
    W_in = rng.normal(0, 0.3, (in_rows, 8)).astype(np.float32)
    W_hs = rng.normal(0, 0.3, (len(WORDS) - 1, 8)).astype(np.float32)
    ref_in, ref_hs = W_in.astype(np.float64), W_hs.astype(np.float64)
    lr = 0.05
    ref_loss = sum(train_sentence_cbow_cached_hs(ref_in, ref_hs, s, window, lr,
                                                 huffman_word2vec(COUNTS), input_rows)
                   for s in SENTENCES)
    ids, starts = _corpus(SENTENCES)
    arrays = core.TrainingArrays(
        tables={"in": W_in, "hs": W_hs}, moments=None, keep_prob=np.ones(len(WORDS), np.float32),
        ids=ids, sentence_starts=starts, huffman=core.build_huffman_tree(COUNTS),
        input_rows=table, window=window, negative=0, hs=True, shrink_windows=False,
        context_cache=True)
    words, windows, loss, _ = core.train_chunk(arrays, core.Worker(arrays, 1, 0), 0,
                                               len(SENTENCES), lr, lr)
    assert (words, windows) == (len(ids), len(ids) - 1)        # the one-word sentence has no window
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(W_in, ref_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(W_hs, ref_hs, rtol=1e-4, atol=1e-6)


def _adam_run(cache, subwords, batch_windows, max_norm=0.0, frozen_rows=-1, padding_idx=-1,
              optimizer="adam"):
    rng = np.random.default_rng(7)
    table, _ = _input_table(subwords)
    in_rows = len(WORDS) + (13 if subwords else 0)
    tables = {"in": rng.normal(0, 0.3, (in_rows, 8)).astype(np.float32),
              "out": rng.normal(0, 0.3, (len(WORDS), 8)).astype(np.float32)}
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in tables.items()}
    sampler_prob, sampler_alias = core.build_alias_table(COUNTS ** 0.75)
    ids, starts = _corpus(SENTENCES * 3)
    arrays = core.TrainingArrays(
        tables=tables, moments=moments if optimizer == "adam" else None,
        keep_prob=np.full(len(WORDS), 0.9, np.float32),
        ids=ids, sentence_starts=starts, alias_prob=sampler_prob, alias_index=sampler_alias,
        input_rows=table, window=3, negative=3, optimizer=optimizer,
        batch_windows=batch_windows, max_norm=max_norm, freeze=frozen_rows >= 0,
        frozen_rows=frozen_rows,
        padding_idx=padding_idx, context_cache=cache)
    result = core.train_chunk(arrays, core.Worker(arrays, 3, 0), 0, len(SENTENCES) * 3, 0.02, 0.01)
    return tables, moments, result


@pytest.mark.parametrize("subwords", [False, True])
@pytest.mark.parametrize("batch_windows", [1, 4, 1000])
@pytest.mark.parametrize("max_norm", [0.0, 0.6])
def test_adam_with_the_cache_is_the_same_computation(subwords, batch_windows, max_norm):
    """Adam's rows move only at its steps (here also in the middle of sentences, where the
    positions within reach hand in their gradients and are read again): the same
    negatives, the same steps, the same tables up to float32 rounding. With max_norm the
    cache rescales a row when it reads it again after a step, which without the cache
    waits for the row's next lookup: the same once both are rescaled."""
    plain, plain_moments, plain_result = _adam_run(False, subwords, batch_windows, max_norm)
    cached, cached_moments, cached_result = _adam_run(True, subwords, batch_windows, max_norm)
    if max_norm:
        for tables in (plain, cached):
            renorm(tables["in"], range(len(tables["in"])), max_norm)
    assert cached_result[:2] == plain_result[:2] and cached_result[3] == plain_result[3]
    assert cached_result[2] == pytest.approx(plain_result[2], rel=1e-5)
    for name in plain:
        np.testing.assert_allclose(cached[name], plain[name], rtol=1e-4, atol=1e-6, err_msg=name)
        for a, b in zip(cached_moments[name], plain_moments[name]):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rows_that_must_not_train_stay_put_with_the_cache(optimizer):
    initial = np.random.default_rng(7).normal(0, 0.3, (len(WORDS) + 13, 8)).astype(np.float32)
    tables, _, _ = _adam_run(True, True, 4, frozen_rows=3, padding_idx=5, optimizer=optimizer)
    np.testing.assert_array_equal(tables["in"][:3], initial[:3])      # _adam_run's first draw
    np.testing.assert_array_equal(tables["in"][5], initial[5])
    assert not np.array_equal(tables["in"][3:5], initial[3:5])
    assert not np.array_equal(tables["in"][6:], initial[6:])


def test_the_option_defaults_on_and_is_saved_with_the_model(tmp_path):
    assert Config().context_cache is True
    with pytest.raises((TypeError, ValueError), match="context_cache"):
        Config(context_cache="yes")
    corpus = tmp_path / "c.txt"
    corpus.write_text("the king ruled the land and the queen ruled the land\n" * 40)
    model = Word2Vec(corpus, vector_size=8, min_count=1, maxn=4, bucket=50, epochs=1,
                     workers=1, seed=1, context_cache=False, progress=False)
    model.save(tmp_path / "m.w2v")
    assert Word2Vec.load(tmp_path / "m.w2v").config.context_cache is False


def test_with_one_thread_and_a_seed_the_cache_is_deterministic(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the king ruled the land and the queen ruled the lands\n" * 60)
    vecs = [Word2Vec(corpus, vector_size=8, min_count=1, maxn=4, bucket=50, epochs=2,
                     workers=1, seed=3, optimizer=opt, progress=False).word_vecs.copy()
            for opt in ("sgd", "sgd", "adam", "adam")]
    np.testing.assert_array_equal(vecs[0], vecs[1])
    np.testing.assert_array_equal(vecs[2], vecs[3])
