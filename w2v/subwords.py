"""Subword vectors as fastText builds them: a word's input rows are its own row and the
rows of its character n-grams.

The n-grams of a word are those of `<word>` (fastText's boundary markers "<" and ">"),
minn to maxn characters long, characters counted in UTF-8 (a 1-character n-gram that
is a marker is left out). Each n-gram is hashed with fastText's 32-bit FNV-1a
(Dictionary::hash, bytes read as signed chars) and lands in input row
vocab_size + hash % bucket: n-grams share rows by hash, as in fastText, and there is no
n-gram vocabulary to store. A word's vector is the mean of its rows; a word never seen
has the mean of its n-gram rows alone.

The hashing runs in Cython (w2v/_subwords.pyx); this module gives it words as str
(encoded to UTF-8, with surrogateescape so that words read from non-UTF-8 text hash as
the bytes they came from) and builds the CSR table (starts, rows) the training core
reads as each word's input rows (w2v.core.train.TrainingArrays(input_rows=...)).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from w2v._subwords import (EOS, bracketed_word_ngrams, fnv1a_hash, mean_rows,
                           subword_table as _subword_table)

DEFAULT_BUCKET = 2_000_000      # fastText's -bucket
BOUNDARY_START, BOUNDARY_END = "<", ">"
__all__ = ["DEFAULT_BUCKET", "EOS", "compose_vectors", "fasttext_hash", "ngram_hashes",
           "ngram_rows", "ngrams", "reachable_rows", "subword_table", "word_bytes"]


def word_bytes(word) -> bytes:
    """The bytes fastText would hash for `word`: UTF-8, lone surrogates from
    surrogateescape decoding turned back into their bytes."""
    if isinstance(word, bytes):
        return word
    if not isinstance(word, str):
        raise TypeError(f"a word (str) is needed, got {type(word).__name__}")
    return word.encode("utf-8", "surrogateescape")


def fasttext_hash(text) -> int:
    """fastText's Dictionary::hash: 32-bit FNV-1a over the bytes as signed chars."""
    return fnv1a_hash(np.frombuffer(word_bytes(text), dtype=np.uint8))


def _checked(minn: int, maxn: int, bucket: int = 1) -> None:
    for name, value in (("minn", minn), ("maxn", maxn), ("bucket", bucket)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}={value!r} is out of range: an integer >= 0")


def ngrams(word, minn: int, maxn: int) -> List[str]:
    """The character n-grams of `<word>`, in fastText's order (by first character, then
    length), repeats kept. "</s>" and maxn == 0 give none."""
    _checked(minn, maxn)
    data = word_bytes(word)
    if data == EOS or maxn == 0:
        return []
    bracketed = b"<" + data + b">"
    _, begins, ends = bracketed_word_ngrams(data, minn, maxn)
    return [bracketed[b:e].decode("utf-8", "surrogateescape")
            for b, e in zip(begins.tolist(), ends.tolist())]


def ngram_hashes(word, minn: int, maxn: int) -> np.ndarray:
    """The fastText hashes (uint32) of the n-grams of `<word>`, in ngrams()' order."""
    _checked(minn, maxn)
    data = word_bytes(word)
    if data == EOS or maxn == 0:
        return np.empty(0, dtype=np.uint32)
    return bracketed_word_ngrams(data, minn, maxn)[0]


def ngram_rows(word, minn: int, maxn: int, bucket: int, vocab_size: int) -> np.ndarray:
    """The input rows (int64) of the n-grams of `word`: vocab_size + hash % bucket
    (none when bucket == 0)."""
    _checked(minn, maxn, bucket)
    if bucket == 0:
        return np.empty(0, dtype=np.int64)
    return vocab_size + (ngram_hashes(word, minn, maxn) % np.uint32(bucket)).astype(np.int64)


def subword_table(words: Sequence[str], minn: int, maxn: int,
                  bucket: int) -> Tuple[np.ndarray, np.ndarray]:
    """Every word's input rows as CSR arrays (starts int64[n + 1], rows int32): word i's
    rows are rows[starts[i]:starts[i + 1]], its own row i first, then its n-grams' rows
    (len(words) + hash % bucket), as fastText's Dictionary::initNgrams."""
    _checked(minn, maxn, bucket)
    from w2v.io import encode_words
    blob, ends = encode_words(words, errors="surrogateescape")
    return _subword_table(blob, ends, int(minn), int(maxn), int(bucket))


def reachable_rows(table: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The W_in rows a subword table (starts, rows) names, sorted, each once: the rows
    training can move (the words' own and their n-grams'); the rest of the bucket keeps
    its initial values."""
    return np.unique(table[1])


def compose_vectors(matrix: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 vectors, one per CSR range: the mean of its rows of `matrix` (zeros for an
    empty range), summed in float32 as fastText's getWordVector."""
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.int32)
    if matrix.dtype != np.float32 or matrix.ndim != 2:
        raise TypeError(f"a 2-D float32 matrix is needed, got {matrix.dtype} {matrix.shape}")
    out = np.empty((max(len(starts) - 1, 0), matrix.shape[1]), dtype=np.float32)
    return mean_rows(matrix, starts, rows, out)
