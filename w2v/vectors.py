"""Queries on word vectors: lookup, similarity, neighbours, analogies; gensim's KeyedVectors API.

Every query reads `vectors` as it is at the time of the call: nothing derived from it
(unit vectors, norms) is cached, so editing the array in place (a model's `W_in`,
training in another thread) is seen by the next query. The cosines of all rows with a
query come from one pass over the matrix that computes each row's dot product and
length together (w2v._similarity), as fast as the matrix product against cached unit
vectors was (docs/benchmarks.md).

A zero vector has cosine similarity 0 with everything (gensim gives NaN).
"""
from __future__ import annotations

import os
import threading
import warnings
from numbers import Integral
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from w2v._similarity import row_cosines

Key = Union[str, int, np.integer]
KEY_TYPES = (str, int, np.integer)


class WordVectors:
    """Word vectors with their vocabulary, and the queries of gensim 4's KeyedVectors.

    `vectors` is used as given (not copied): the vectors of a model that is still
    training, or edited in place, are what every query sees. `index_to_key` lists
    the words in row order, `key_to_index` maps them back, `counts` (optional) holds
    their corpus counts.
    """

    def __init__(self, vectors: np.ndarray, index_to_key: Sequence[str],
                 counts: Optional[np.ndarray] = None,
                 key_to_index: Optional[Dict[str, int]] = None, *,
                 fixed_vocabulary: Optional[str] = None):
        vectors = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ValueError(f"{len(index_to_key)} words but vectors of shape {vectors.shape}")
        if vectors.dtype.kind != "f":
            raise TypeError(f"vectors must be floating point, got {vectors.dtype}")
        self.vectors = vectors
        self.index_to_key = index_to_key
        self.key_to_index = key_to_index if key_to_index is not None else {
            w: i for i, w in enumerate(index_to_key)}
        self.counts = counts
        # Why words cannot be added (the vectors belong to a model), or None.
        self._fixed_vocabulary = fixed_vocabulary
        self._spare: Optional[np.ndarray] = None     # add_vectors' buffer with room to grow

    # --------------------------------------------------------------- files
    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary: Optional[bool] = None,
                             encoding: str = "utf8", unicode_errors: str = "strict",
                             limit: Optional[int] = None, datatype=np.float32,
                             no_header: bool = False) -> "WordVectors":
        """Vectors from a word2vec C binary/text file or a fastText .vec file, with the
        arguments of gensim's KeyedVectors.load_word2vec_format.

        binary: None (the default, unlike gensim's False) decides from the file name,
        else the content. limit: read only the first `limit` vectors. datatype: the
        dtype of the vectors (float16/32/64). no_header: a text file without the
        "count dims" line. fvocab: a file of "word count" lines giving the counts.
        Words repeated in the file (possible after unicode_errors="replace") keep their
        first row, with a warning naming how many.
        """
        from w2v.io import load_word2vec_format, read_vocab_counts
        path = fname
        words, vectors = load_word2vec_format(path, binary=binary, unicode_errors=unicode_errors,
                                              limit=limit, datatype=datatype, no_header=no_header,
                                              encoding=encoding)
        key_to_index: Dict[str, int] = {}
        for i, word in enumerate(words):
            key_to_index.setdefault(word, i)
        if len(key_to_index) != len(words):
            warnings.warn(f"{path}: {len(words) - len(key_to_index)} word(s) occur more than "
                          f"once (first: {_first_repeat(words)!r}); lookups return the first row",
                          stacklevel=2)
        counts = None
        if fvocab is not None:
            counts = read_vocab_counts(fvocab, words, encoding=encoding,
                                       unicode_errors=unicode_errors)
        return cls(vectors, words, counts, key_to_index)

    def save_word2vec_format(self, path, binary: Optional[bool] = None) -> None:
        """Write word2vec C binary (default, or .bin) or text (.txt, .vec) vectors.
        Words read with unicode_errors="surrogateescape" are written back as the bytes
        they were read from."""
        from w2v.io import save_word2vec_format, vector_format_of
        save_word2vec_format(path, self.index_to_key, self.vectors,
                             binary=vector_format_of(path, binary, sniff=False) == "word2vec-bin")

    def save(self, path) -> None:
        """The vectors, words and counts in w2v's native format (an uncompressed .npz
        whose arrays can be memory-mapped by `WordVectors.load(path, mmap="r")`),
        written atomically."""
        from w2v.io import VECTORS_FORMAT, save_arrays, vocabulary_arrays
        arrays, meta = vocabulary_arrays(self.index_to_key)
        arrays["vectors"] = self.vectors
        if self.counts is not None:
            arrays["counts"] = np.asarray(self.counts, dtype=np.int64)
        save_arrays(path, arrays, meta, file_format=VECTORS_FORMAT)

    @classmethod
    def load(cls, path, mmap: Optional[str] = None) -> "WordVectors":
        """Vectors saved by `WordVectors.save`, or the word vectors (W_in) of a model
        saved by `Word2Vec.save`.

        mmap=None reads the arrays into memory; mmap="r" maps them read-only from the
        file (opening is quick whatever the size, and processes that map the same file
        share its pages). Nothing is unpickled; sizes are checked against the file
        before anything is mapped or allocated.
        """
        from w2v.io import (MODEL_FORMAT, VECTORS_FORMAT, ModelFileError, load_arrays,
                            vocabulary_from)
        arrays, meta = load_arrays(path, names=("vectors", "W_in", "counts", "words_utf8",
                                                "word_ends"),
                                   mmap=mmap, file_formats=(VECTORS_FORMAT, MODEL_FORMAT))
        name = "vectors" if meta["format"] == VECTORS_FORMAT else "W_in"
        for needed in (name, "words_utf8", "word_ends"):
            if needed not in arrays:
                raise ModelFileError(f"{path}: the file lacks the array {needed!r}")
        words = vocabulary_from(arrays, meta, path)
        vectors = arrays[name]
        if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.dtype.kind != "f":
            raise ModelFileError(f"{path}: {name} should be floating point with one row per "
                                 f"word ({len(words)}), found {vectors.dtype} {vectors.shape}")
        counts = arrays.get("counts")
        if counts is not None and (counts.shape != (len(words),) or counts.dtype.kind not in "iu"
                                   or (len(words) and counts.min() < 0)):
            raise ModelFileError(f"{path}: counts should hold one integer >= 0 per word")
        key_to_index = dict(zip(words, range(len(words))))
        if len(key_to_index) != len(words):
            raise ModelFileError(f"{path}: a word occurs twice in the vocabulary "
                                 f"({_first_repeat(words)!r})")
        return cls(vectors, words, counts, key_to_index)

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, vector_size={self.vector_size})"

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

    def get_index(self, key: Key, default: Optional[int] = None) -> int:
        """gensim's get_index: the row of a word, or an id in range returned as is;
        else `default` if given, else KeyError."""
        index = self.key_to_index.get(key, -1) if isinstance(key, str) else -1
        if index >= 0:
            return index
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) \
                and 0 <= key < len(self.index_to_key):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"word {key!r} not in vocabulary")

    def has_index_for(self, key: Key) -> bool:
        """True when get_index(key) finds a row (a known word, or an id in range)."""
        return self.get_index(key, -1) >= 0

    def vector(self, key: Key) -> np.ndarray:
        """The vector of a word or id (a view into the matrix)."""
        return self.vectors[self.index(key)]

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The vector of a word or id: a view into the matrix, or (norm=True) a unit
        length copy. Unknown words and ids out of range raise KeyError, as gensim."""
        row = self.vectors[self.get_index(key)]
        return _unit(row) if norm else row

    def __getitem__(self, keys):
        if isinstance(keys, (str, int, np.integer)):
            return self.vector(keys)
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
            if keys.size and (keys.min() < 0 or keys.max() >= len(self)):
                bad = keys[(keys < 0) | (keys >= len(self))].flat[0]
                raise IndexError(f"index {bad} out of range [0, {len(self)})")
            return self.vectors[keys]
        return self.vectors[[self.index(k) for k in keys]]

    def __setitem__(self, keys, vectors) -> None:
        """wv[key] = vector (or lists of both): add_vectors(..., replace=True)."""
        if isinstance(keys, str):
            keys, vectors = [keys], np.asarray(vectors).reshape(1, -1)
        self.add_vectors(keys, vectors, replace=True)

    def count(self, word: str) -> int:
        if self.counts is None:
            raise ValueError("these vectors carry no word counts")
        return int(self.counts[self.index(word)])

    def get_vecattr(self, key: Key, attr: str):
        """gensim's get_vecattr; the only attribute kept is "count"."""
        if attr != "count":
            raise KeyError(f"no attribute {attr!r}: WordVectors keeps only 'count'")
        if self.counts is None:
            raise ValueError("these vectors carry no word counts")
        return int(self.counts[self.get_index(key)])

    # ------------------------------------------------------------- adding words
    def add_vector(self, key: str, vector) -> int:
        """Add one word and its vector; returns its row. A word already present keeps
        its row and vector (as gensim)."""
        if isinstance(key, str) and key in self.key_to_index:
            return self.key_to_index[key]
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.key_to_index[key]

    def add_vectors(self, keys: Sequence[str], weights, replace: bool = False) -> None:
        """Append words and their vectors (gensim's add_vectors). Words already present
        keep their vectors unless replace=True. New words get count 0 when the vectors
        carry counts. Growth is amortised: adding words one at a time is cheap."""
        if self._fixed_vocabulary is not None:
            raise ValueError(f"cannot add words to these vectors: {self._fixed_vocabulary}")
        if isinstance(keys, str):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"words must be str, got {type(key).__name__} ({key!r})")
        weights = np.asarray(weights)
        if weights.ndim == 1 and len(keys) == 1:
            weights = weights.reshape(1, -1)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"{len(keys)} words need vectors of shape "
                             f"({len(keys)}, {self.vector_size}), got {weights.shape}")
        if weights.dtype.kind not in "fiu" or not np.all(np.isfinite(weights)):
            raise ValueError("vectors to add must be finite numbers")
        new_rows = {}                       # first occurrence of each new word
        for i, key in enumerate(keys):
            if key not in self.key_to_index:
                new_rows.setdefault(key, i)
        for i, key in enumerate(keys):
            if replace and key in self.key_to_index:
                self.vectors[self.key_to_index[key]] = weights[i]
        if not new_rows:
            return
        n, added = len(self.index_to_key), len(new_rows)
        self.vectors = self._grown(n + added)
        self.vectors[n:] = weights[list(new_rows.values())]
        for key in new_rows:
            self.key_to_index[key] = len(self.index_to_key)
            self.index_to_key.append(key)
        if self.counts is not None:
            self.counts = np.concatenate((self.counts, np.zeros(added, dtype=np.int64)))

    def _grown(self, rows: int) -> np.ndarray:
        """`self.vectors` with `rows` rows, the new ones uninitialised: in place in the
        spare buffer when there is room, else in a new buffer half as large again."""
        n = self.vectors.shape[0]
        spare = self._spare
        if spare is not None and rows <= spare.shape[0] and self.vectors.base is spare \
                and self.vectors.ctypes.data == spare.ctypes.data:
            return spare[:rows]
        capacity = max(rows, n + n // 2, 16)
        spare = np.empty((capacity, self.vector_size), dtype=self.vectors.dtype)
        spare[:n] = self.vectors
        self._spare = spare
        return spare[:rows]

    # ---------------------------------------------------------------- norms
    @property
    def norms(self) -> np.ndarray:
        """The length of every vector, computed now from the array."""
        return _row_norms(self.vectors)

    def fill_norms(self, force: bool = False) -> None:
        """gensim's fill_norms, kept so that gensim code runs: there is nothing to fill,
        the norms are computed from the array at every query."""

    def get_normed_vectors(self) -> np.ndarray:
        """A new array of the vectors scaled to unit length (zero vectors stay zero)."""
        return _unit_rows(self.vectors)

    def unit_vectors(self) -> np.ndarray:
        """The vectors scaled to unit length, computed now (as get_normed_vectors)."""
        return _unit_rows(self.vectors)

    def invalidate(self) -> None:
        """Kept for older code: queries always read the array, there is no cache."""

    # -------------------------------------------------------------- similarity
    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """Cosine similarity of `vector_1` with each row of `vectors_all`."""
        vector_1 = np.asarray(vector_1)
        vectors_all = np.asarray(vectors_all)
        return _cosines(vectors_all, _unit(vector_1))

    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two words (or ids)."""
        a, b = self.vectors[self.index(w1)], self.vectors[self.index(w2)]
        return float(_unit(a) @ _unit(b))

    def distance(self, w1: Key, w2: Key) -> float:
        """1 - similarity(w1, w2)."""
        return 1.0 - self.similarity(w1, w2)

    def distances(self, word_or_vector, other_words: Iterable[Key] = ()) -> np.ndarray:
        """1 - cosine similarity of a word or vector with `other_words`, or with every
        word (itself included) when `other_words` is empty."""
        if isinstance(word_or_vector, KEY_TYPES):
            vector = self.vectors[self.index(word_or_vector)]
        else:
            vector = self._as_query_vector(word_or_vector)
        other_words = list(other_words)
        others = self.vectors[[self.index(w) for w in other_words]] if other_words else self.vectors
        return 1 - self.cosine_similarities(vector, others)

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        """Cosine similarity of the means of two sets of word vectors (not normalised
        first, as gensim). Unknown words raise KeyError (gensim skips them)."""
        ws1, ws2 = _key_list(ws1, "ws1"), _key_list(ws2, "ws2")
        if not ws1 or not ws2:
            raise ZeroDivisionError("n_similarity needs at least one word in each list")
        mean1 = self.vectors[[self.index(k) for k in ws1]].mean(axis=0)
        mean2 = self.vectors[[self.index(k) for k in ws2]].mean(axis=0)
        return float(_unit(mean1) @ _unit(mean2))

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
        """Weighted mean of the vectors of `keys` (words, ids or raw vectors, the raw
        vectors taken as given), divided by the sum of |weights| of the items used, as
        gensim. pre_normalize: unit word vectors first; post_normalize: a unit result;
        ignore_missing=False: an unknown word raises KeyError."""
        keys = _key_list(keys, "keys")
        if len(keys) == 0:
            raise ValueError("cannot compute the mean of no vectors")
        dtype = self.vectors.dtype
        weights = np.ones(len(keys), dtype=dtype) if weights is None else \
            np.asarray(weights, dtype=dtype).reshape(-1)
        if weights.shape[0] != len(keys):
            raise ValueError(f"{len(keys)} keys but {weights.shape[0]} weights")
        mean = np.zeros(self.vector_size, dtype=dtype)
        total = 0.0
        for key, weight in zip(keys, weights):
            if isinstance(key, KEY_TYPES):
                index = self.get_index(key, -1)
                if index < 0:
                    if ignore_missing:
                        continue
                    raise KeyError(f"word {key!r} not in vocabulary")
                row = self.vectors[index]
                mean += weight * (_unit(row) if pre_normalize else row)
            else:
                mean += weight * self._as_query_vector(key)
            total += abs(float(weight))
        if total > 0:
            mean /= total
        return _unit(mean).astype(dtype, copy=False) if post_normalize else mean

    def most_similar(self, positive=None, negative=None, topn: Optional[int] = 10,
                     clip_start: int = 0, clip_end: Optional[int] = None,
                     restrict_vocab: Optional[int] = None):
        """The words closest (cosine) to the weighted mean of the positive unit vectors
        minus the negative ones (3CosAdd), the query words excluded.

        positive / negative: a word, an id, a raw vector, a (word or vector, weight)
        pair, or a list of them; raw vectors are used as given (not normalised), as
        gensim. topn=None returns the similarity of every word (query words included)
        as an array; topn=0 an empty list. restrict_vocab=N searches the first N words.
        """
        topn = _check_topn(topn)
        if topn == 0:
            return []
        start, end = self._search_range(clip_start, clip_end, restrict_vocab)
        items, weights = self._weighted_terms(positive, negative)
        if not items:
            raise ValueError("most_similar needs at least one positive or negative word")
        mean = self.get_mean_vector(items, weights, pre_normalize=True, post_normalize=True,
                                    ignore_missing=False)
        exclude = [self.get_index(k) for k in items if isinstance(k, KEY_TYPES)]
        scores = self._cosines(mean, start, end)
        if topn is None:
            return scores
        return self._best(scores, topn, exclude, start)

    def similar_by_word(self, word: Key, topn: Optional[int] = 10,
                        restrict_vocab: Optional[int] = None):
        """most_similar(positive=[word], ...)."""
        return self.similar_by_key(word, topn, restrict_vocab)

    def similar_by_key(self, key: Key, topn: Optional[int] = 10,
                       restrict_vocab: Optional[int] = None):
        """most_similar(positive=[key], ...)."""
        if not isinstance(key, KEY_TYPES):
            raise TypeError(f"a word (str) or an id (int) is needed, got {type(key).__name__}")
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn: Optional[int] = 10,
                          restrict_vocab: Optional[int] = None):
        """The words closest (cosine) to a raw vector; no word is excluded."""
        return self.most_similar(positive=[self._as_query_vector(vector)], topn=topn,
                                 restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None):
        """Levy & Goldberg's 3CosMul: argmax of prod((1 + cos(x, p)) / 2) over the
        positive terms divided by prod((1 + cos(x, n)) / 2) + 1e-6 over the negative
        ones, as gensim's most_similar_cosmul (raw vectors used as given). Unlike
        gensim, restrict_vocab is honoured."""
        topn = _check_topn(topn)
        if topn == 0:
            return []
        start, end = self._search_range(0, None, restrict_vocab)
        positive, negative = _key_list(positive, "positive"), _key_list(negative, "negative")
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        exclude = [self.index(k) for k in positive + negative if isinstance(k, KEY_TYPES)]
        terms = np.stack([_unit(self.vectors[self.index(k)]) if isinstance(k, KEY_TYPES)
                          else self._as_query_vector(k) for k in positive + negative], axis=1)
        rows = self.vectors[start:end]
        cosines = _safe_divide(rows @ terms, _row_norms(rows)[:, None])
        shifted = (1 + cosines) / 2
        scores = np.prod(shifted[:, :len(positive)], axis=1) / \
            (np.prod(shifted[:, len(positive):], axis=1) + 1e-6)
        if topn is None:
            return scores
        return self._best(scores, topn, exclude, start)

    def analogy(self, a: Key, b: Key, c: Key, topn: int = 1) -> List[Tuple[str, float]]:
        """a is to b as c is to ?: most_similar(positive=[b, c], negative=[a])."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    def rank_by_centrality(self, words: Iterable[Key], use_norm: bool = True):
        """(cosine with the normalised mean, word) for the known `words`, closest to the
        mean first; unknown words are skipped with a warning naming them (as gensim)."""
        words = _key_list(words, "words")
        used = [w for w in words if self.has_index_for(w)]
        if len(used) != len(words):
            missing = [w for w in words if not self.has_index_for(w)]
            warnings.warn(f"words not in the vocabulary, ignored: {missing}", stacklevel=3)
        if not used:
            raise ValueError("no word of the list is in the vocabulary")
        rows = self.vectors[[self.get_index(w) for w in used]]
        rows = _unit_rows(rows) if use_norm else rows
        mean = _unit(rows.mean(axis=0))
        scores = rows @ mean
        return sorted(zip(scores.tolist(), used), key=lambda p: p[0], reverse=True)

    def doesnt_match(self, words: Iterable[Key]) -> Key:
        """The word furthest from the mean of the unit vectors of all of them; unknown
        words are skipped with a warning (as gensim)."""
        words = _key_list(words, "words")
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        return self.rank_by_centrality(words)[-1][1]

    def closer_than(self, key1: Key, key2: Key) -> List[str]:
        """Every word closer to key1 than key2 is (key1 itself left out)."""
        all_distances = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        closer = np.flatnonzero(all_distances < all_distances[i2])
        return [self.index_to_key[i] for i in closer.tolist() if i != i1]

    def rank(self, key1: Key, key2: Key) -> int:
        """1 + the number of words closer to key1 than key2 is."""
        return len(self.closer_than(key1, key2)) + 1

    def relative_cosine_similarity(self, wa: Key, wb: Key, topn: int = 10) -> float:
        """similarity(wa, wb) over the sum of wa's `topn` nearest similarities
        (Leeuwenberg et al.'s relative cosine similarity, as gensim)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("relative_cosine_similarity needs topn >= 1 and other words")
        return self.similarity(wa, wb) / sum(s for _, s in sims)

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[Key]) -> Key:
        """The word of `keys_list` most similar to key1."""
        keys_list = list(keys_list)
        if not keys_list:
            raise ValueError("most_similar_to_given needs at least one candidate word")
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    # --------------------------------------------------------------- evaluation
    def evaluate_word_analogies(self, analogies, restrict_vocab: int = 300000,
                                case_insensitive: bool = True, dummy4unknown: bool = False,
                                similarity_function: str = "most_similar"):
        """gensim's evaluate_word_analogies: (accuracy, sections), each section a dict
        {"section", "correct": [(a, b, c, expected), ...], "incorrect": [...]}, the last
        one "Total accuracy". See w2v.evaluation.evaluate_word_analogies."""
        from w2v.evaluation import evaluate_word_analogies
        return evaluate_word_analogies(self, analogies, restrict_vocab=restrict_vocab,
                                       case_insensitive=case_insensitive,
                                       dummy4unknown=dummy4unknown,
                                       similarity_function=similarity_function)

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", encoding: str = "utf8",
                            restrict_vocab: int = 300000, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """gensim's evaluate_word_pairs: ((pearson, p-value), (spearman, p-value),
        oov_ratio in percent). See w2v.evaluation.evaluate_word_pairs_gensim."""
        from w2v.evaluation import evaluate_word_pairs_gensim
        return evaluate_word_pairs_gensim(self, pairs, delimiter=delimiter, encoding=encoding,
                                          restrict_vocab=restrict_vocab,
                                          case_insensitive=case_insensitive,
                                          dummy4unknown=dummy4unknown)

    # ---------------------------------------------------------------- helpers
    def _as_query_vector(self, vector) -> np.ndarray:
        if not isinstance(vector, np.ndarray):
            raise TypeError(f"expected a word, an id or a numpy vector, got "
                            f"{type(vector).__name__} ({vector!r:.60})")
        if vector.shape != (self.vector_size,):
            raise ValueError(f"expected a vector of shape ({self.vector_size},), got {vector.shape}")
        if vector.dtype.kind not in "fiu":
            raise TypeError(f"a vector of numbers is needed, got dtype {vector.dtype}")
        return vector.astype(self.vectors.dtype, copy=False)

    def _weighted_terms(self, positive, negative):
        """(items, weights) of most_similar's positive and negative arguments: +1 and -1,
        or the weight of a (word or vector, weight) pair (used as given, as gensim)."""
        items, weights = [], []
        for sign, terms, name in ((1.0, positive, "positive"), (-1.0, negative, "negative")):
            for term in _key_list(terms, name):
                weight = sign
                if isinstance(term, tuple):
                    if len(term) != 2 or not isinstance(term[1], (int, float, np.number)):
                        raise TypeError(f"{name}: {term!r:.60} is not a (word or vector, weight) pair")
                    term, weight = term[0], float(term[1])
                if not isinstance(term, KEY_TYPES):
                    self._as_query_vector(term)        # the error for a bad item
                elif isinstance(term, bool):
                    raise TypeError(f"{name}: {term!r} is not a word or an id")
                else:
                    self.index(term)                   # KeyError / IndexError naming it
                items.append(term)
                weights.append(weight)
        return items, weights

    def _search_range(self, clip_start, clip_end, restrict_vocab):
        n = len(self)
        if restrict_vocab is not None:
            if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, Integral) \
                    or restrict_vocab < 1:
                raise ValueError(f"restrict_vocab={restrict_vocab!r} is out of range: must be >= 1 "
                                 f"(or None for every word)")
            return 0, min(int(restrict_vocab), n)
        for name, value in (("clip_start", clip_start), ("clip_end", clip_end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, Integral)
                                      or value < 0):
                raise ValueError(f"{name}={value!r} is out of range: must be an integer >= 0")
        end = n if not clip_end else min(int(clip_end), n)
        return min(int(clip_start), end), end

    def _cosines(self, unit_query: np.ndarray, start: int, end: int) -> np.ndarray:
        """Cosine of the rows [start, end) with a unit query, norms computed now."""
        return _cosines(self.vectors[start:end], unit_query)

    def _best(self, scores, topn, exclude, start) -> List[Tuple[str, float]]:
        """The `topn` highest scores (row offset `start`), excluded rows left out."""
        exclude = {i - start for i in exclude if start <= i < start + len(scores)}
        k = min(topn + len(exclude), len(scores))
        if k == 0:
            return []
        if k < len(scores):
            best = np.argpartition(-scores, k - 1)[:k]
        else:
            best = np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        result = [(self.index_to_key[i + start], float(scores[i]))
                  for i in best.tolist() if i not in exclude]
        return result[:topn]


class SubwordVectors(WordVectors):
    """Word vectors with fastText's character n-grams: every word has a vector.

    `vectors` holds the in-vocabulary words' vectors (each the mean of its own input
    row and its n-grams' rows, as fastText's get_word_vector); `ngram_vectors` the
    `bucket` n-gram rows. A word not in the vocabulary gets the mean of its n-grams'
    rows (w2v.subwords: `<word>`'s n-grams of minn..maxn characters, row hash %
    bucket); KeyError only when it has none. Every query (vector, [], similarity,
    most_similar, analogy, distances...) accepts such words; `in`, `index` and
    `key_to_index` still mean the vocabulary. Exports (save_word2vec_format) write the
    in-vocabulary vectors, as fastText's .vec.
    """

    def __init__(self, vectors: np.ndarray, index_to_key: Sequence[str],
                 ngram_vectors: np.ndarray, minn: int, maxn: int,
                 counts: Optional[np.ndarray] = None,
                 key_to_index: Optional[Dict[str, int]] = None, *,
                 fixed_vocabulary: Optional[str] = "their n-grams fix them (subword vectors)",
                 source=None):
        super().__init__(vectors, index_to_key, counts, key_to_index,
                         fixed_vocabulary=fixed_vocabulary)
        if ngram_vectors.ndim != 2 or ngram_vectors.shape[1] != self.vector_size:
            raise ValueError(f"n-gram vectors of shape {ngram_vectors.shape} for "
                             f"{self.vector_size}-dimensional word vectors")
        self.ngram_vectors = ngram_vectors
        self.minn, self.maxn = int(minn), int(maxn)
        self.source = source            # the FastTextModel these vectors came from, if any

    @property
    def bucket(self) -> int:
        return self.ngram_vectors.shape[0]

    def __repr__(self) -> str:
        return (f"SubwordVectors({len(self)} words, vector_size={self.vector_size}, "
                f"minn={self.minn}, maxn={self.maxn}, bucket={self.bucket})")

    # ------------------------------------------------------------- files
    @classmethod
    def load_facebook(cls, path, mmap: Optional[str] = "r") -> "SubwordVectors":
        """The vectors of an unsupervised fastText .bin model: in-vocabulary words get
        fastText's get_word_vector, computed here once; the n-gram rows stay mapped
        from the file (mmap="r", the default) or are read (mmap=None)."""
        from w2v.fasttext_bin import read_fasttext_bin
        from w2v.subwords import compose_vectors, subword_table
        model = read_fasttext_bin(path, mmap=mmap)
        args = model.args
        bucket = args.bucket if model.has_subwords else 0
        starts, rows = subword_table(model.words, args.minn, args.maxn, bucket)
        vectors = compose_vectors(model.input_matrix, starts, rows)
        ngram_vectors = model.input_matrix[model.nwords:model.nwords + bucket]
        return cls(vectors, model.words, ngram_vectors, args.minn, args.maxn,
                   counts=model.counts, source=model)

    def save_facebook_model(self, path) -> None:
        """Write the fastText .bin these vectors were read from (load_facebook)."""
        if self.source is None:
            raise ValueError("these subword vectors were not read from a fastText .bin; save "
                             "the model they belong to (Word2Vec.save_facebook_model)")
        from w2v.fasttext_bin import write_fasttext_bin
        write_fasttext_bin(path, self.source)

    # ------------------------------------------------------------- lookup
    def ngram_rows(self, word: str) -> np.ndarray:
        """The rows of ngram_vectors that the n-grams of `word` hash to."""
        from w2v.subwords import ngram_rows
        return ngram_rows(word, self.minn, self.maxn, self.bucket, 0)

    def has_vector(self, key: Key) -> bool:
        """True when `key` has a vector: a known word or id, or a word with n-grams."""
        if isinstance(key, str) and key not in self.key_to_index:
            return self.bucket > 0 and len(self.ngram_rows(key)) > 0
        return self.has_index_for(key)

    def _unseen_vector(self, word: str) -> np.ndarray:
        from w2v.subwords import compose_vectors
        rows = self.ngram_rows(word)
        if len(rows) == 0:
            raise KeyError(f"word {word!r} not in vocabulary and without n-grams "
                           f"(minn={self.minn}, maxn={self.maxn}, bucket={self.bucket})")
        return compose_vectors(self.ngram_vectors, np.array([0, len(rows)]), rows)[0]

    def _is_unseen(self, key) -> bool:
        return isinstance(key, str) and key not in self.key_to_index

    def vector(self, key: Key) -> np.ndarray:
        """The vector of a word (seen or not) or id; unseen words: the mean of their
        n-grams' rows (a new array)."""
        return self._unseen_vector(key) if self._is_unseen(key) else super().vector(key)

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        if self._is_unseen(key):
            row = self._unseen_vector(key)
            return _unit(row) if norm else row
        return super().get_vector(key, norm)

    def __getitem__(self, keys):
        if isinstance(keys, (str, int, np.integer)):
            return self.vector(keys)
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
            return super().__getitem__(keys)
        return np.stack([self.vector(k) for k in keys]) if len(keys) else \
            self.vectors[:0].copy()

    def _as_vectors(self, keys, normalise: bool):
        """Unseen words among `keys` (a list) replaced by their vectors (unit when
        `normalise`, as a word would be); (word or vector, weight) pairs too."""
        out = []
        for key in keys:
            weight = None
            if isinstance(key, tuple) and len(key) == 2:
                key, weight = key
            if self._is_unseen(key) and self.has_vector(key):   # else: the caller's KeyError
                key = self._unseen_vector(key)
                key = _unit(key) if normalise else key
            out.append(key if weight is None else (key, weight))
        return out

    # -------------------------------------------------------------- similarity
    def similarity(self, w1: Key, w2: Key) -> float:
        return float(_unit(self.vector(w1)) @ _unit(self.vector(w2)))

    def distances(self, word_or_vector, other_words: Iterable[Key] = ()) -> np.ndarray:
        if self._is_unseen(word_or_vector):
            word_or_vector = self._unseen_vector(word_or_vector)
        other_words = list(other_words)
        if other_words:
            return 1 - self.cosine_similarities(
                self.vector(word_or_vector) if isinstance(word_or_vector, KEY_TYPES)
                else self._as_query_vector(word_or_vector), self[other_words])
        return super().distances(word_or_vector)

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        ws1, ws2 = _key_list(ws1, "ws1"), _key_list(ws2, "ws2")
        if not ws1 or not ws2:
            raise ZeroDivisionError("n_similarity needs at least one word in each list")
        return float(_unit(self[ws1].mean(axis=0)) @ _unit(self[ws2].mean(axis=0)))

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
        return super().get_mean_vector(self._as_vectors(_key_list(keys, "keys"), pre_normalize),
                                       weights, pre_normalize, post_normalize, ignore_missing)

    def _weighted_terms(self, positive, negative):
        return super()._weighted_terms(self._as_vectors(_key_list(positive, "positive"), True),
                                       self._as_vectors(_key_list(negative, "negative"), True))

    def most_similar_cosmul(self, positive=None, negative=None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None):
        return super().most_similar_cosmul(
            self._as_vectors(_key_list(positive, "positive"), True),
            self._as_vectors(_key_list(negative, "negative"), True), topn, restrict_vocab)


PARALLEL_QUERY_FLOATS = 1 << 23     # matrices this large (32 MB of float32) use every core


def _cosines(rows: np.ndarray, unit_query: np.ndarray) -> np.ndarray:
    """The cosine of each row with a unit query vector (0 for a zero row), reading the
    rows once: the Cython kernel for float32 rows in C order (on every core for a large
    matrix), NumPy otherwise."""
    if not (rows.dtype == np.float32 and rows.ndim == 2 and rows.flags.c_contiguous):
        return _safe_divide(rows @ unit_query, _row_norms(rows))
    query = np.ascontiguousarray(unit_query, dtype=np.float32)
    out = np.empty(rows.shape[0], dtype=np.float32)
    parts = min(os.cpu_count() or 1, max(1, rows.size // PARALLEL_QUERY_FLOATS))
    bounds = np.linspace(0, rows.shape[0], parts + 1).astype(int).tolist()
    threads = [threading.Thread(target=row_cosines, args=(rows[lo:hi], query, out[lo:hi]))
               for lo, hi in zip(bounds[1:-1], bounds[2:])]
    for thread in threads:
        thread.start()
    row_cosines(rows[:bounds[1]], query, out[:bounds[1]])
    for thread in threads:
        thread.join()
    return out


def _row_norms(rows: np.ndarray) -> np.ndarray:
    """The Euclidean length of each row (in the rows' precision, one pass)."""
    return np.sqrt(np.einsum("ij,ij->i", rows, rows))


def _safe_divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (a zero vector)."""
    out = np.zeros(np.broadcast_shapes(np.shape(numerator), np.shape(denominator)),
                   dtype=np.result_type(numerator, denominator))
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _unit(vector: np.ndarray) -> np.ndarray:
    """A unit-length copy of a vector (a zero vector stays zero)."""
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector.copy()


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    norms = _row_norms(rows)[:, None]
    return _safe_divide(rows, norms).astype(rows.dtype, copy=False)


def _check_topn(topn):
    """topn as gensim reads it: None (or False) for every score, else an int >= 0."""
    if topn is None or topn is False:
        return None
    if isinstance(topn, bool) or not isinstance(topn, Integral) or topn < 0:
        raise ValueError(f"topn={topn!r} is out of range: must be an integer >= 0 "
                         f"(or None for every similarity)")
    return int(topn)


def _first_repeat(words):
    seen = set()
    for word in words:
        if word in seen:
            return word
        seen.add(word)
    return None


def load_vectors(path, binary: Optional[bool] = None, unicode_errors: str = "strict", *,
                 limit: Optional[int] = None, no_header: bool = False, datatype=np.float32,
                 encoding: str = "utf8", fvocab=None, mmap: Optional[str] = None) -> WordVectors:
    """WordVectors from a word2vec C (.bin / .txt) or fastText (.vec) file, with the
    options of gensim's load_word2vec_format (limit, no_header, datatype, encoding,
    fvocab), or from a w2v native file (WordVectors.save / Word2Vec.save), which
    mmap="r" maps instead of reading. A Facebook fastText .bin model (recognised by
    its magic number) gives SubwordVectors, its n-gram rows mapped from the file."""
    from w2v.fasttext_bin import is_fasttext_bin
    from w2v.io import is_native_file
    if is_native_file(path):
        return WordVectors.load(path, mmap=mmap)
    if is_fasttext_bin(path):
        return SubwordVectors.load_facebook(path, mmap="r" if mmap is None else mmap)
    if mmap is not None:
        raise ValueError(f"mmap={mmap!r}: only w2v's native files can be memory-mapped; "
                         f"{path} is a word2vec/fastText vector file")
    return WordVectors.load_word2vec_format(path, fvocab=fvocab, binary=binary,
                                            encoding=encoding, unicode_errors=unicode_errors,
                                            limit=limit, datatype=datatype, no_header=no_header)


def _key_list(keys, name: str) -> list:
    """One word, id or 1-D vector, or an iterable of them, as a list (None: none)."""
    if keys is None:
        return []
    if isinstance(keys, (str, int, np.integer)):
        return [keys]
    if isinstance(keys, np.ndarray):
        if keys.ndim == 1 and keys.dtype.kind == "f":
            return [keys]                               # one raw vector
        if keys.ndim == 2:
            return list(keys)                           # a vector per row
    if isinstance(keys, tuple) and len(keys) == 2 and isinstance(keys[1], (float, np.floating)):
        return [keys]                                   # one (word, weight) pair
    try:
        return list(keys)
    except TypeError:
        raise TypeError(f"{name} must be a word, an id, or a list of them; got "
                        f"{type(keys).__name__}") from None
