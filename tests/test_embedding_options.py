"""nn.Embedding's options on W_in in the kernels: freeze, padding_idx, max_norm/norm_type.

Checked against the NumPy reference, and against torch itself when it is installed."""
import math

import numpy as np
import pytest

from w2v.core import train as _kernels

from reference import adam_step, renorm, sgd_window
from test_kernels import ATOL, RTOL, random_matrices

CONTEXT, OUTPUTS = [1, 2, 2, 5], [3, 7, 1, 9]


def zero_moments(shape):
    return [np.zeros(shape, dtype=np.float32) for _ in range(4)]


@pytest.mark.parametrize("freeze,padding_idx", [(True, -1), (False, 2), (False, 3)])
def test_sgd_leaves_fixed_rows_alone_and_trains_the_rest(freeze, padding_idx):
    W_in, W_out = random_matrices(5)
    start_in = W_in.copy()
    ref_in, ref_out = W_in.astype(np.float64), W_out.astype(np.float64)
    fixed = set(range(len(W_in))) if freeze else {padding_idx}
    loss = _kernels.py_sgd_window(W_in, W_out, CONTEXT, OUTPUTS, 0.1, freeze=freeze,
                                  padding_idx=padding_idx)
    ref_loss = sgd_window(ref_in, ref_out, CONTEXT, OUTPUTS, 0.1, fixed_rows=fixed)
    assert loss == pytest.approx(ref_loss, rel=RTOL)
    np.testing.assert_allclose(W_out, ref_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(W_in, ref_in, rtol=RTOL, atol=ATOL)
    for row in fixed:
        np.testing.assert_array_equal(W_in[row], start_in[row])
    assert not np.array_equal(W_out, random_matrices(5)[1])   # the output side did train
    if not freeze:
        assert not np.array_equal(W_in[1], start_in[1])


@pytest.mark.parametrize("freeze,padding_idx", [(True, -1), (False, 2)])
def test_adam_leaves_fixed_rows_and_their_moments_alone(freeze, padding_idx):
    W_in, W_out = random_matrices(6)
    start_in = W_in.copy()
    moments = zero_moments(W_in.shape)
    windows = [(CONTEXT, OUTPUTS), ([2, 4], [6, 0])]
    ref_params = [W_in.astype(np.float64), W_out.astype(np.float64)]
    ref_moments = [tuple(m.astype(np.float64) for m in moments[:2]),
                   tuple(m.astype(np.float64) for m in moments[2:])]
    fixed = set(range(len(W_in))) if freeze else {padding_idx}
    _kernels.py_adam_step(W_in, W_out, *moments, windows, 0.01, 1, freeze=freeze,
                          padding_idx=padding_idx)
    adam_step(ref_params, ref_moments, windows, 0.01, 1, fixed_rows=fixed)
    np.testing.assert_allclose(W_in, ref_params[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(W_out, ref_params[1], rtol=RTOL, atol=ATOL)
    for row in fixed:
        np.testing.assert_array_equal(W_in[row], start_in[row])
        assert not moments[0][row].any() and not moments[1][row].any()


def test_padding_idx_out_of_range_is_an_index_error():
    W_in, W_out = random_matrices(7)
    with pytest.raises(IndexError, match="padding_idx 12 out of range"):
        _kernels.py_sgd_window(W_in, W_out, CONTEXT, OUTPUTS, 0.1, padding_idx=12)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_max_norm_renormalises_looked_up_rows_in_place(norm_type):
    W_in, _ = random_matrices(8, scale=1.0)
    ref = W_in.astype(np.float64)
    max_norm = 0.5 * np.linalg.norm(W_in[1], ord=norm_type)     # row 1 must shrink
    hidden = _kernels.py_embedding_lookup(W_in, CONTEXT, max_norm, norm_type)
    renorm(ref, CONTEXT, max_norm, norm_type)
    np.testing.assert_allclose(W_in, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hidden, ref[CONTEXT].mean(axis=0), rtol=1e-5, atol=1e-6)
    for row in set(CONTEXT):
        assert np.linalg.norm(W_in[row], ord=norm_type) <= max_norm * (1 + 1e-5)
    untouched = [r for r in range(len(W_in)) if r not in CONTEXT]
    np.testing.assert_array_equal(W_in[untouched], random_matrices(8, scale=1.0)[0][untouched])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5])
def test_max_norm_matches_torch_embedding(norm_type):
    torch = pytest.importorskip("torch")
    W_in, _ = random_matrices(9, scale=1.0)
    weight = torch.tensor(W_in.copy())
    max_norm = 1.2
    expected = torch.nn.functional.embedding(torch.tensor(CONTEXT), weight, max_norm=max_norm,
                                             norm_type=norm_type).mean(dim=0)
    hidden = _kernels.py_embedding_lookup(W_in, CONTEXT, max_norm, norm_type)
    np.testing.assert_allclose(W_in, weight.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hidden, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_adam_step_equals_torch_sparse_adam(padding_idx):
    # Two sparse nn.Embedding tables, the mean negative-sampling loss of a minibatch,
    # one torch.optim.SparseAdam step: our kernel must land on the same numbers.
    torch = pytest.importorskip("torch")
    W_in, W_out = random_matrices(10)
    windows = [(CONTEXT, OUTPUTS), ([2, 4, 6], [8, 0, 11])]
    emb_in = torch.nn.Embedding.from_pretrained(torch.tensor(W_in), freeze=False, sparse=True,
                                                padding_idx=padding_idx)
    emb_out = torch.nn.Embedding.from_pretrained(torch.tensor(W_out), freeze=False, sparse=True)
    optimizer = torch.optim.SparseAdam([emb_in.weight, emb_out.weight], lr=0.01)
    loss = 0
    for context, outputs in windows:
        hidden = emb_in(torch.tensor(context)).mean(dim=0)
        scores = emb_out(torch.tensor(outputs)) @ hidden
        labels = torch.zeros(len(outputs))
        labels[0] = 1
        loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
            scores, labels, reduction="sum")
    (loss / len(windows)).backward()
    optimizer.step()
    ours_in, ours_out = W_in.copy(), W_out.copy()
    our_loss = _kernels.py_adam_step(ours_in, ours_out, *zero_moments(W_in.shape), windows,
                                     0.01, 1, padding_idx=-1 if padding_idx is None else padding_idx)
    assert our_loss == pytest.approx(loss.item(), rel=1e-5)
    np.testing.assert_allclose(ours_in, emb_in.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_out, emb_out.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    if padding_idx is not None:
        np.testing.assert_array_equal(ours_in[padding_idx], W_in[padding_idx])
