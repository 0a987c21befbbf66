"""Checkpoints and resume: the state they hold, atomic writes, kill -9 and --resume."""
import numpy as np
import pytest

from w2v import _kernels


def _arrays(vocab=50, dim=8):
    rng = np.random.default_rng(0)
    W_in = rng.normal(0, 0.1, (vocab, dim)).astype(np.float32)
    W_out = np.zeros_like(W_in)
    counts = np.arange(vocab, 0, -1).astype(np.float64)
    from w2v.sampling import NegativeSampler, keep_probabilities
    sampler = NegativeSampler(counts)
    ids = rng.integers(0, vocab, 2000).astype(np.int32)
    starts = np.arange(0, 2001, 100).astype(np.int64)
    return _kernels.TrainingArrays(W_in, W_out, None, keep_probabilities(counts, 0),
                                   sampler.alias_prob, sampler.alias_index, ids, starts,
                                   3, 4, True, "sgd")


def test_worker_rng_state_round_trips_and_continues_the_stream():
    arrays = _arrays()
    a, b = _kernels.Worker(arrays, 5, 0), _kernels.Worker(arrays, 5, 0)
    assert a.get_rng_state() == b.get_rng_state() != 0
    assert _kernels.Worker(arrays, 5, 1).get_rng_state() != a.get_rng_state()
    _kernels.train_chunk(arrays, a, 0, 10, 0.01, 0.01)
    assert a.get_rng_state() != b.get_rng_state()        # training drew numbers
    b.set_rng_state(a.get_rng_state())
    assert b.get_rng_state() == a.get_rng_state()
    for bad in (0, -1, 2**64, 1.5, True, "7"):
        with pytest.raises(ValueError, match="RNG state"):
            b.set_rng_state(bad)
