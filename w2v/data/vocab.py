"""The vocabulary: words sorted by descending count, their exact counts, and lookups."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np


class Vocab:
    """Words in id order (most frequent first; ties by code point order) and their counts."""

    def __init__(self, words: Sequence[str], counts):
        counts = np.asarray(counts, dtype=np.int64)
        if counts.ndim != 1 or len(words) != counts.shape[0]:
            raise ValueError(f"{len(words)} words but {counts.shape} counts")
        if len(words) >= 2**31:
            raise ValueError(f"vocabulary of {len(words)} words exceeds the limit of 2**31 - 1")
        self.index_to_key: List[str] = list(words)
        self.key_to_index: Dict[str, int] = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            seen = set()
            dup = next(w for w in self.index_to_key if w in seen or seen.add(w))
            raise ValueError(f"duplicate word in vocabulary: {dup!r}")
        self.counts = counts

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words, {int(self.counts.sum())} tokens)"

    @property
    def total_count(self) -> int:
        """Occurrences of vocabulary words in the corpus the vocabulary was built from."""
        return int(self.counts.sum())

    def index(self, word: str) -> int:
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary") from None

    def count(self, word: str) -> int:
        return int(self.counts[self.index(word)])

    @classmethod
    def from_counts(cls, words: Sequence[str], counts, min_count: int = 1,
                    max_final_vocab: Optional[int] = None) -> "Vocab":
        """Keep words seen >= min_count times (at most max_final_vocab of them), sorted
        by descending count with ties in code point order of the word."""
        counts = np.asarray(counts, dtype=np.int64)
        kept = np.flatnonzero(counts >= min_count)
        order = sorted(kept.tolist(), key=lambda i: (-counts[i], words[i]))
        if max_final_vocab is not None:
            order = order[:max_final_vocab]
        return cls([words[i] for i in order], counts[order])


def prune_counts(counts: Dict[str, int], min_reduce: int) -> int:
    """word2vec's ReduceVocab: drop words counted fewer than min_reduce times so far.

    Returns how many words were dropped. The caller raises min_reduce after each prune.
    """
    rare = [w for w, c in counts.items() if c < min_reduce]
    for w in rare:
        del counts[w]
    return len(rare)
