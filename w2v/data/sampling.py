"""The two random tables of word2vec: subsampling of frequent words, and the
distribution negatives are drawn from. Both are built once per training run."""
from __future__ import annotations

import numpy as np

from w2v.core import train as core


def keep_probabilities(counts, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word, word2vec's formula:

        keep(w) = (sqrt(f(w) / (sample * T)) + 1) * (sample * T) / f(w), at most 1,

    with f(w) the word's count and T the total count of vocabulary words. sample=0
    keeps everything. Drawn afresh for every occurrence in every epoch by the core.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample == 0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.minimum(keep, 1.0).astype(np.float32)


class NegativeSampler:
    """Draws word ids with probability proportional to count ** ns_exponent (Walker's
    alias method: O(1) a draw, exact for every word however rare)."""

    def __init__(self, counts, ns_exponent: float = 0.75):
        counts = np.asarray(counts, dtype=np.float64)
        if counts.size == 0 or np.any(counts < 0):
            raise ValueError("negative sampling needs one non-negative count per word")
        self.weights = counts ** ns_exponent
        self.probabilities = self.weights / self.weights.sum()
        self.alias_prob, self.alias_index = core.build_alias_table(self.weights)

    def draw(self, n: int, seed: int = 0) -> np.ndarray:
        """n draws with the training core's own sampler (for tests and inspection)."""
        return core.py_draw_negatives(self.alias_prob, self.alias_index, n, seed)
