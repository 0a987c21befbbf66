"""Queries on word vectors: lookup, similarity, neighbours, analogies."""
from __future__ import annotations

import warnings
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

Key = Union[str, int, np.integer]


class WordVectors:
    """Word vectors with their vocabulary. `vectors` is used as given (not copied), so
    vectors of a model that is still training stay current."""

    def __init__(self, vectors: np.ndarray, index_to_key: Sequence[str],
                 counts: Optional[np.ndarray] = None,
                 key_to_index: Optional[Dict[str, int]] = None):
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but vectors of shape {vectors.shape}")
        self.vectors = vectors
        self.index_to_key = index_to_key
        self.key_to_index = key_to_index if key_to_index is not None else {
            w: i for i, w in enumerate(index_to_key)}
        self.counts = counts
        self._unit: Optional[np.ndarray] = None

    # --------------------------------------------------------------- files
    @classmethod
    def load_word2vec_format(cls, path, binary: Optional[bool] = None,
                             unicode_errors: str = "strict") -> "WordVectors":
        """Vectors from a word2vec C binary/text file or a fastText .vec file (format
        from `binary`, else the file name, else the content). Words repeated in the
        file (possible after unicode_errors="replace") keep their first row, with a
        warning naming how many."""
        from w2v.io import load_word2vec_format
        words, vectors = load_word2vec_format(path, binary=binary, unicode_errors=unicode_errors)
        key_to_index: Dict[str, int] = {}
        for i, word in enumerate(words):
            key_to_index.setdefault(word, i)
        if len(key_to_index) != len(words):
            warnings.warn(f"{path}: {len(words) - len(key_to_index)} word(s) occur more than "
                          f"once (first: {_first_repeat(words)!r}); lookups return the first row",
                          stacklevel=2)
        return cls(vectors, words, None, key_to_index)

    def save_word2vec_format(self, path, binary: Optional[bool] = None) -> None:
        """Write word2vec C binary (default, or .bin) or text (.txt, .vec) vectors."""
        from w2v.io import save_word2vec_format, vector_format_of
        save_word2vec_format(path, self.index_to_key, self.vectors,
                             binary=vector_format_of(path, binary, sniff=False) == "word2vec-bin")

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return word in self.key_to_index

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def index(self, key: Key) -> int:
        """Row of a word, or check an integer id: KeyError / IndexError as nn.Embedding."""
        if isinstance(key, str):
            try:
                return self.key_to_index[key]
            except KeyError:
                raise KeyError(f"word {key!r} not in vocabulary") from None
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not 0 <= key < len(self.index_to_key):
                raise IndexError(f"index {key} out of range [0, {len(self.index_to_key)})")
            return int(key)
        raise TypeError(f"a word (str) or an id (int) is needed, got {type(key).__name__}")

    def vector(self, key: Key) -> np.ndarray:
        """The vector of a word or id (a view into the matrix)."""
        return self.vectors[self.index(key)]

    def __getitem__(self, keys):
        if isinstance(keys, (str, int, np.integer)):
            return self.vector(keys)
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
            if keys.size and (keys.min() < 0 or keys.max() >= len(self)):
                bad = keys[(keys < 0) | (keys >= len(self))].flat[0]
                raise IndexError(f"index {bad} out of range [0, {len(self)})")
            return self.vectors[keys]
        return self.vectors[[self.index(k) for k in keys]]

    def count(self, word: str) -> int:
        if self.counts is None:
            raise ValueError("these vectors carry no word counts")
        return int(self.counts[self.index(word)])

    # -------------------------------------------------------------- similarity
    def invalidate(self) -> None:
        """Forget cached unit vectors (call after the vectors changed)."""
        self._unit = None

    def unit_vectors(self) -> np.ndarray:
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = (self.vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return self._unit

    def similarity(self, a: Key, b: Key) -> float:
        unit = self.unit_vectors()
        return float(unit[self.index(a)] @ unit[self.index(b)])

    def most_similar(self, positive: Union[Key, Iterable[Key]] = (),
                     negative: Union[Key, Iterable[Key]] = (), topn: int = 10,
                     restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Words closest (cosine) to the mean of the positive unit vectors minus the
        negative ones, the query words excluded (3CosAdd)."""
        positive, negative = _key_list(positive, "positive"), _key_list(negative, "negative")
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 1:
            raise ValueError(f"topn={topn!r} is out of range: must be >= 1")
        unit = self.unit_vectors()
        used = [self.index(k) for k in positive] + [self.index(k) for k in negative]
        query = unit[used[:len(positive)]].sum(axis=0) - unit[used[len(positive):]].sum(axis=0)
        return self._nearest(query, topn, exclude=used, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn: int = 10,
                          restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"expected a vector of shape ({self.vector_size},), got {vector.shape}")
        return self._nearest(vector, topn, exclude=(), restrict_vocab=restrict_vocab)

    def _nearest(self, query, topn, exclude, restrict_vocab):
        unit = self.unit_vectors()
        if restrict_vocab is not None:
            if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) \
                    or restrict_vocab < 1:
                raise ValueError(f"restrict_vocab={restrict_vocab!r} is out of range: must be >= 1 "
                                 f"(or None for every word)")
            unit = unit[:restrict_vocab]
        norm = np.linalg.norm(query)
        scores = unit @ (query / norm if norm > 0 else query)
        scores[[i for i in exclude if i < len(scores)]] = -np.inf
        topn = min(topn, len(scores))
        best = np.argpartition(-scores, topn - 1)[:topn]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in best if scores[i] > -np.inf]

    def analogy(self, a: Key, b: Key, c: Key, topn: int = 1) -> List[Tuple[str, float]]:
        """a is to b as c is to ?: most_similar(positive=[b, c], negative=[a])."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    def doesnt_match(self, words: Iterable[Key]) -> str:
        """The word furthest from the mean of the others' unit vectors."""
        words = list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        unit = self.unit_vectors()[[self.index(w) for w in words]]
        mean = unit.mean(axis=0)
        return words[int(np.argmin(unit @ mean))]


def _first_repeat(words):
    seen = set()
    for word in words:
        if word in seen:
            return word
        seen.add(word)
    return None


def load_vectors(path, binary: Optional[bool] = None, unicode_errors: str = "strict") -> WordVectors:
    """WordVectors from a word2vec C (.bin / .txt) or fastText (.vec) file."""
    return WordVectors.load_word2vec_format(path, binary=binary, unicode_errors=unicode_errors)
def _key_list(keys, name: str) -> list:
    """One word or id, or an iterable of them, as a list (None: none)."""
    if keys is None:
        return []
    if isinstance(keys, (str, int, np.integer)):
        return [keys]
    try:
        return list(keys)
    except TypeError:
        raise TypeError(f"{name} must be a word, an id, or a list of them; got "
                        f"{type(keys).__name__}") from None
