"""The Cython kernels against the NumPy reference (tests/reference.py)."""
import numpy as np
import pytest

from w2v.core import train as _kernels
from w2v.data.sampling import NegativeSampler, keep_probabilities

from reference import adam_step, keep_probability, sgd_window

RTOL, ATOL = 2e-5, 2e-6   # float32 kernels against a float64 reference


def random_matrices(seed, vocab=12, dim=16, scale=0.5):
    rng = np.random.default_rng(seed)
    W_in = rng.normal(0, scale, (vocab, dim)).astype(np.float32)
    W_out = rng.normal(0, scale, (vocab, dim)).astype(np.float32)
    return W_in, W_out


@pytest.mark.parametrize("dim", [1, 16, 100])
def test_a_hot_row_sync_keeps_both_threads_moves(dim):
    rng = np.random.default_rng(dim)
    base = rng.normal(0, 1, dim).astype(np.float32)
    copy = base + rng.normal(0, 0.1, dim).astype(np.float32)       # this thread's moves
    shared = base.copy()
    others = rng.random(dim) < 0.5                                  # floats another thread moved
    shared[others] += rng.normal(0, 0.1, others.sum()).astype(np.float32)
    expected = copy.astype(np.float64) + (shared.astype(np.float64) - base)
    expected[~others] = copy[~others]                    # nobody else moved it: the copy, exactly
    _kernels.py_merge_hot_row(shared, copy, base)
    np.testing.assert_allclose(shared, expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(shared[~others], expected[~others].astype(np.float32))
    np.testing.assert_array_equal(copy, shared)
    np.testing.assert_array_equal(base, shared)


@pytest.mark.parametrize("cbow_mean", [True, False])
@pytest.mark.parametrize("context,outputs", [
    ([1, 2, 4, 5], [3, 7, 8, 9]),
    ([2, 2, 6], [0, 11, 11, 4]),     # repeated context word, repeated negative
    ([5], [6]),                      # one context word, no negatives
])
def test_sgd_window_matches_reference(cbow_mean, context, outputs):
    W_in, W_out = random_matrices(1)
    ref_in, ref_out = W_in.astype(np.float64), W_out.astype(np.float64)
    loss = _kernels.py_sgd_window(W_in, W_out, context, outputs, 0.1, cbow_mean)
    ref_loss = sgd_window(ref_in, ref_out, context, outputs, 0.1, cbow_mean)
    assert loss == pytest.approx(ref_loss, rel=RTOL)
    np.testing.assert_allclose(W_in, ref_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(W_out, ref_out, rtol=RTOL, atol=ATOL)
    # rows nobody looked up are untouched, bit for bit
    untouched = sorted(set(range(12)) - set(context))
    np.testing.assert_array_equal(W_in[untouched], random_matrices(1)[0][untouched])


@pytest.mark.parametrize("cbow_mean", [True, False])
@pytest.mark.parametrize("step", [1, 7])
def test_adam_minibatch_step_matches_reference(cbow_mean, step):
    W_in, W_out = random_matrices(2)
    rng = np.random.default_rng(3)
    moments = [np.abs(rng.normal(0, 0.01, W_in.shape)).astype(np.float32) * s
               for s in (1, 0.1, 1, 0.1)]
    moments[0] -= 0.005
    moments[2] -= 0.005
    windows = [([1, 2, 4, 5], [3, 7, 8]), ([2, 3, 3], [1, 7, 0]), ([9, 10], [11, 3, 2])]
    ref_params = [W_in.astype(np.float64), W_out.astype(np.float64)]
    ref_moments = [(moments[0].astype(np.float64), moments[1].astype(np.float64)),
                   (moments[2].astype(np.float64), moments[3].astype(np.float64))]
    before = [m.copy() for m in moments]
    loss = _kernels.py_adam_step(W_in, W_out, *moments, windows, 0.01, step,
                                 0.9, 0.999, 1e-8, cbow_mean)
    ref_loss = adam_step(ref_params, ref_moments, windows, 0.01, step, cbow_mean=cbow_mean)
    assert loss == pytest.approx(ref_loss, rel=RTOL)
    np.testing.assert_allclose(W_in, ref_params[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(W_out, ref_params[1], rtol=RTOL, atol=ATOL)
    for got, (m, v) in zip((moments[:2], moments[2:]), ref_moments):
        np.testing.assert_allclose(got[0], m, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got[1], v, rtol=RTOL, atol=1e-9)
    # lazy: moments of rows no window looked up keep their old values exactly
    np.testing.assert_array_equal(moments[0][[0, 6, 7, 8, 11]], before[0][[0, 6, 7, 8, 11]])
    np.testing.assert_array_equal(moments[3][[4, 5, 6, 9, 10]], before[3][[4, 5, 6, 9, 10]])


def test_adam_first_step_moves_each_touched_coordinate_by_lr():
    # With zero moments, bias-corrected Adam's first step is lr * sign(grad).
    W_in, W_out = random_matrices(4)
    zeros = [np.zeros_like(W_in) for _ in range(4)]
    start = W_in.copy()
    _kernels.py_adam_step(W_in, W_out, *zeros, [([1, 2], [3, 4])], 0.01, 1)
    moved = np.abs(W_in[[1, 2]] - start[[1, 2]])
    np.testing.assert_allclose(moved, 0.01, rtol=1e-3)


@pytest.mark.parametrize("score", [-100.0, -20.0, -2.77, -1.5, 0.0, 0.3, 2.7726, 2.78, 6.9,
                                   7.0, 17.0, 100.0])
@pytest.mark.parametrize("positive", [True, False])
def test_loss_is_exact_and_finite_for_saturated_scores(score, positive):
    # The deliberate choice: no clamp and no skip; exact, overflow-free logistic loss.
    loss, dscore = _kernels.py_loss_and_dscore(score, positive)
    z = score if positive else -score
    expected_loss = np.logaddexp(0, -z)
    expected_grad = (1 / (1 + np.exp(-score))) - (1.0 if positive else 0.0)
    assert np.isfinite(loss) and np.isfinite(dscore)
    assert loss == pytest.approx(expected_loss, rel=2e-6, abs=1e-30)
    assert dscore == pytest.approx(expected_grad, rel=1e-6, abs=1e-30)


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 100, 257, 5000])
def test_many_outputs_at_once_give_each_outputs_gradient_and_the_summed_loss(n):
    # output_dscores (16 outputs a pass) against output_dscore one at a time and NumPy;
    # 5,000 outputs at z = 0 multiply the loss's product by 2 ** 5000 (past a double)
    rng = np.random.default_rng(n)
    z = np.concatenate([rng.normal(0, 4, n - n // 4), rng.choice(
        [-200.0, -104.5, -103.0, -30.0, -0.0, 0.0, 1e-8, 30.0, 103.5, 200.0], n // 4)]).astype(np.float32)
    if n == 5000:
        z[:] = 0
    grads, loss = _kernels.py_logistic_grads(z)
    one_at_a_time = [_kernels.py_loss_and_dscore(float(v), True) for v in z]
    np.testing.assert_array_equal(grads, np.float32([-d for _, d in one_at_a_time]))
    expected = np.logaddexp(0, -z.astype(np.float64)).sum()
    assert loss == pytest.approx(expected, rel=1e-6, abs=1e-30)
    assert np.isfinite(loss)


@pytest.mark.parametrize("dim", [0, 1, 7, 16, 17, 100, 300])
def test_sgd_output_step_moves_the_row_after_using_it_for_the_hidden_gradient(dim):
    # vector_math.output_step (one pass over the row) against float64 NumPy: hidden_grad
    # gets the row as it was before the row moves
    rng = np.random.default_rng(dim)
    row, hidden_grad, hidden = (rng.normal(0, 1, dim).astype(np.float32) for _ in range(3))
    score, step = np.float32(-0.37), np.float32(0.0125)
    expected_grad = hidden_grad.astype(np.float64) + score * row.astype(np.float64)
    expected_row = row.astype(np.float64) + step * hidden.astype(np.float64)
    _kernels.py_output_step(score, row, hidden_grad, step, hidden)
    np.testing.assert_allclose(hidden_grad, expected_grad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(row, expected_row, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        _kernels.py_output_step(score, row, hidden_grad[:-1] if dim else np.ones(1, np.float32),
                                step, hidden)


def test_many_outputs_at_once_keep_a_nan_score_visible():
    z = np.array([0.5, np.nan, -1.0], dtype=np.float32)
    grads, loss = _kernels.py_logistic_grads(z)
    assert np.isnan(grads[1]) and np.isnan(loss)
    assert np.isfinite(grads[[0, 2]]).all()


def test_kernel_exp_is_within_two_ulp_of_exact_down_to_underflow():
    # The losses' inline exp(-|z|): a dense grid of x <= 0, including the subnormal range
    # (below -87.3) and the underflow to 0 (below about -103.97), against float64.
    x = np.concatenate([-np.logspace(-8, np.log10(110), 200_000), [0.0, -0.0, -1e-30]])
    x = x.astype(np.float32)
    got = _kernels.py_exp_nonpositive(x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(got - exact) <= 2 * ulp)
    assert _kernels.py_exp_nonpositive(np.array([0.0], np.float32))[0] == 1.0
    assert _kernels.py_exp_nonpositive(np.array([-200.0, -np.inf], np.float32)).tolist() == [0, 0]
    assert np.isnan(_kernels.py_exp_nonpositive(np.array([np.nan], np.float32))[0])


def test_negative_sampler_matches_unigram_to_the_power():
    counts = np.array([5000, 1200, 800, 300, 100, 40, 10, 5, 1], dtype=np.int64)
    sampler = NegativeSampler(counts, 0.75)
    n = 2_000_000
    freq = np.bincount(sampler.draw(n, seed=11), minlength=len(counts)) / n
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    sigma = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(freq - expected) < 5 * sigma), (freq, expected)
    # and clearly not the plain unigram distribution
    assert abs(freq[0] - counts[0] / counts.sum()) > 0.05


def test_alias_table_never_draws_zero_weight_and_handles_one_word():
    prob, alias = _kernels.build_alias_table(np.array([0.0, 3.0, 0.0, 1.0]))
    draws = _kernels.py_draw_negatives(prob, alias, 100000, 5)
    assert set(np.unique(draws)) == {1, 3}
    assert abs(np.mean(draws == 1) - 0.75) < 0.01
    prob, alias = _kernels.build_alias_table(np.array([2.0]))
    assert set(_kernels.py_draw_negatives(prob, alias, 100, 1)) == {0}
    with pytest.raises(ValueError):
        _kernels.build_alias_table(np.array([0.0, 0.0]))


def test_keep_probabilities_follow_word2vec_formula():
    counts = np.array([100000, 20000, 3000, 500, 10, 1])
    total = counts.sum()
    for sample in (1e-3, 1e-4, 1e-5):
        got = keep_probabilities(counts, sample)
        expected = [keep_probability(c, total, sample) for c in counts]
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.all(keep_probabilities(counts, 0) == 1)


def test_subsampling_kernel_keeps_words_at_their_probability():
    keep = np.array([1.0, 0.5, 0.1, 0.0], dtype=np.float32)
    ids = np.tile(np.arange(4, dtype=np.int32), 200000)
    kept = _kernels.py_subsample(ids, keep, seed=3)
    rate = np.bincount(kept, minlength=4) / 200000
    np.testing.assert_allclose(rate, keep, atol=0.005)
    # order is preserved: kept ids are a subsequence of the sentence
    assert list(_kernels.py_subsample(np.arange(4, dtype=np.int32), np.ones(4, np.float32), 1)) == [0, 1, 2, 3]


def test_kernel_twins_reject_out_of_range_ids():
    W_in, W_out = random_matrices(5)
    with pytest.raises(IndexError):
        _kernels.py_sgd_window(W_in, W_out, [1, 12], [3], 0.1)
    with pytest.raises(IndexError):
        _kernels.py_sgd_window(W_in, W_out, [1], [-1], 0.1)


def test_build_flavour_is_the_expected_one():
    # CI sets W2V_EXPECT_DEBUG_BUILD=1 after reinstalling with W2V_DEBUG=1.
    import os
    assert _kernels.DEBUG_CHECKS == (os.environ.get("W2V_EXPECT_DEBUG_BUILD") == "1")


@pytest.mark.skipif(not _kernels.DEBUG_CHECKS, reason="row checks exist only in the debug build")
def test_debug_build_stops_at_an_out_of_range_row():
    W_in, W_out = random_matrices(6)
    ids = np.array([1, 2, 3, 99, 4], dtype=np.int32)      # 99 >= vocab size 12
    starts = np.array([0, 5], dtype=np.int64)
    ones = np.ones(12, dtype=np.float32)
    prob, alias = _kernels.build_alias_table(np.ones(12))
    arrays = _kernels.TrainingArrays(tables={"in": W_in, "out": W_out}, moments=None,
                                     keep_prob=ones, ids=ids, sentence_starts=starts,
                                     alias_prob=prob, alias_index=alias, window=2, negative=2)
    worker = _kernels.Worker(arrays, 1, 0)
    with pytest.raises(IndexError, match="row 99"):
        _kernels.train_chunk(arrays, worker, 0, 1, 0.1, 0.1)


# ---------------------------------------------------- the general step: every model's shape
def random_tables(seed, vocab=12, dim=16, scale=0.5):
    rng = np.random.default_rng(seed)
    return {"in": rng.normal(0, scale, (vocab, dim)).astype(np.float32),
            "out": rng.normal(0, scale, (vocab, dim)).astype(np.float32),
            "hs": rng.normal(0, scale, (vocab - 1, dim)).astype(np.float32)}


# (groups, outputs): one group = CBOW or a skip-gram pair; several groups = skip-gram's
# context words sharing the centre's outputs; "hs" outputs = a Huffman path
EXAMPLES = {
    "cbow-ns": ([[1, 2, 4, 5]], [("out", 3, 1), ("out", 7, 0), ("out", 8, 0)]),
    "sg-pair-ns": ([[4]], [("out", 3, 1), ("out", 9, 0), ("out", 9, 0)]),
    "sg-shared-ns": ([[1], [2], [2], [5]], [("out", 3, 1), ("out", 0, 0), ("out", 11, 0)]),
    "cbow-hs": ([[1, 2, 6]], [("hs", 10, 1), ("hs", 4, 0), ("hs", 7, 1)]),
    "sg-pair-hs": ([[6]], [("hs", 10, 0), ("hs", 2, 1)]),
    "sg-shared-hs": ([[1], [6], [8]], [("hs", 10, 0), ("hs", 2, 1), ("hs", 5, 0)]),
    "cbow-both": ([[1, 2, 6]], [("out", 3, 1), ("out", 7, 0), ("hs", 10, 1), ("hs", 4, 0)]),
    "sg-shared-both": ([[1], [6]], [("out", 3, 1), ("out", 7, 0), ("hs", 10, 1), ("hs", 4, 0)]),
}


# 16: whole vector registers; 7, 37 and 100: the kernels' masked last blocks (and, from
# 32 on, the dot's second accumulator); 300: sum_rows's later blocks of 128 (64 on AVX2)
@pytest.mark.parametrize("dim", [16, 7, 37, 100, 300])
@pytest.mark.parametrize("mean_inputs", [True, False])
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_sgd_step_of_every_model_matches_reference(name, mean_inputs, dim):
    from reference import example_sgd
    groups, outputs = EXAMPLES[name]
    tables = random_tables(11, dim=dim)
    ref = {k: v.astype(np.float64) for k, v in tables.items()}
    loss = _kernels.py_train_example(tables, groups, outputs, 0.1, "sgd",
                                     mean_inputs=mean_inputs)
    ref_loss = example_sgd(ref, groups, outputs, 0.1, mean_inputs)
    assert loss == pytest.approx(ref_loss, rel=RTOL)
    for k in tables:
        np.testing.assert_allclose(tables[k], ref[k], rtol=RTOL, atol=ATOL, err_msg=k)
    # tables the example did not use are untouched, bit for bit
    used = {t for t, _, _ in outputs}
    for k in {"out", "hs"} - used:
        np.testing.assert_array_equal(tables[k], random_tables(11, dim=dim)[k])


# A minibatch touches some rows once (their gradient written into a fresh slot) and
# some again (added to it): rows 1 and 2 in the CBOW examples, 2 twice in sg-shared-ns.
@pytest.mark.parametrize("dim", [7, 16, 100])
@pytest.mark.parametrize("step", [1, 5])
@pytest.mark.parametrize("names", [("cbow-ns", "cbow-hs", "cbow-both"),
                                   ("sg-pair-ns", "sg-shared-ns", "sg-pair-hs"),
                                   ("sg-shared-hs", "sg-shared-both")])
def test_adam_minibatch_of_every_model_matches_reference(names, step, dim):
    from reference import example_adam
    examples = [EXAMPLES[n] for n in names]
    tables = random_tables(12, dim=dim)
    rng = np.random.default_rng(13)
    moments = {k: (rng.normal(0, 0.01, v.shape).astype(np.float32),
                   np.abs(rng.normal(0, 0.001, v.shape)).astype(np.float32))
               for k, v in tables.items()}
    before = {k: (m.copy(), v.copy()) for k, (m, v) in moments.items()}
    ref = {k: v.astype(np.float64) for k, v in tables.items()}
    ref_moments = {k: (m.astype(np.float64), v.astype(np.float64)) for k, (m, v) in moments.items()}
    loss = _kernels.py_adam_minibatch(tables, moments, examples, 0.01, step)
    ref_loss = example_adam(ref, ref_moments, examples, 0.01, step)
    assert loss == pytest.approx(ref_loss, rel=RTOL)
    for k in tables:
        np.testing.assert_allclose(tables[k], ref[k], rtol=RTOL, atol=ATOL, err_msg=k)
        np.testing.assert_allclose(moments[k][0], ref_moments[k][0], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(moments[k][1], ref_moments[k][1], rtol=RTOL, atol=1e-9)
    # lazy: the moments of rows no example touched keep their values exactly
    touched = {t: {r for _, outs in examples for tt, r, _ in outs if tt == t} for t in ("out", "hs")}
    for t, rows in touched.items():
        untouched = sorted(set(range(len(tables[t]))) - rows)
        np.testing.assert_array_equal(moments[t][0][untouched], before[t][0][untouched])


def test_step_twins_reject_out_of_range_rows():
    tables = random_tables(14)
    with pytest.raises(IndexError):
        _kernels.py_train_example(tables, [[12]], [("out", 1, 1)], 0.1)
    with pytest.raises(IndexError):
        _kernels.py_train_example(tables, [[1]], [("hs", 11, 1)], 0.1)    # 11 inner nodes: 0..10


def test_tables_may_be_strided_views_of_one_interleaved_array():
    # each row's parameters and Adam moments side by side: the core follows the row stride
    from reference import example_adam
    examples = [EXAMPLES["cbow-both"], EXAMPLES["sg-shared-ns"]]
    plain = random_tables(15)
    rng = np.random.default_rng(16)
    moments = {k: (rng.normal(0, 0.01, v.shape).astype(np.float32),
                   np.abs(rng.normal(0, 0.001, v.shape)).astype(np.float32))
               for k, v in plain.items()}
    blocks = {k: np.stack([plain[k], *moments[k]], axis=1) for k in plain}   # rows x 3 x dim
    tables = {k: b[:, 0] for k, b in blocks.items()}
    views = {k: (b[:, 1], b[:, 2]) for k, b in blocks.items()}
    ref = {k: v.astype(np.float64) for k, v in plain.items()}
    ref_moments = {k: (m.astype(np.float64), v.astype(np.float64)) for k, (m, v) in moments.items()}
    loss = _kernels.py_adam_minibatch(tables, views, examples, 0.01, 3)
    assert loss == pytest.approx(example_adam(ref, ref_moments, examples, 0.01, 3), rel=RTOL)
    for k in plain:
        np.testing.assert_allclose(blocks[k][:, 0], ref[k], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(blocks[k][:, 1], ref_moments[k][0], rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="row stride"):
        _kernels.py_adam_minibatch(tables, {k: moments[k] for k in plain}, examples, 0.01, 3)
