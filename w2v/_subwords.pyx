"""Character n-grams and their hashes, exactly as fastText's Dictionary computes them.

A word's n-grams are taken from `<word>` (fastText's boundary markers), counted in UTF-8
characters (a byte 10xxxxxx continues the character before it), from minn to maxn
characters long; a 1-character n-gram that is a boundary marker is left out. Each
n-gram is hashed with 32-bit FNV-1a over its bytes read as signed chars (fastText's
Dictionary::hash: `h ^= uint32_t(int8_t(c)); h *= 16777619`), so bytes >= 0x80 are
sign-extended before the xor. The input row of an n-gram is vocab_size + hash % bucket.
Words are bytes here: whatever bytes fastText would see, including invalid UTF-8.
"""
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy

import numpy as np

cdef uint32_t FNV_OFFSET_BASIS = 2166136261u
cdef uint32_t FNV_PRIME = 16777619u
EOS = b"</s>"          # fastText's end-of-sentence word: it never gets n-grams


cdef inline uint32_t fnv1a_step(uint32_t h, unsigned char byte) noexcept nogil:
    return (h ^ <uint32_t><int8_t>byte) * FNV_PRIME


cdef uint32_t fnv1a(const unsigned char* data, Py_ssize_t n) noexcept nogil:
    """fastText's Dictionary::hash of n bytes."""
    cdef uint32_t h = FNV_OFFSET_BASIS
    cdef Py_ssize_t i
    for i in range(n):
        h = fnv1a_step(h, data[i])
    return h


cdef Py_ssize_t max_ngrams(Py_ssize_t n_bytes, int minn, int maxn) noexcept nogil:
    """At most how many n-grams a bracketed word of n_bytes bytes has (no n-gram is
    longer than the word, whatever maxn says)."""
    cdef Py_ssize_t lo = minn if minn > 1 else 1
    cdef Py_ssize_t hi = maxn if maxn < n_bytes else n_bytes
    if hi < lo:
        return 0
    return n_bytes * (hi - lo + 1)


cdef Py_ssize_t bracketed_ngrams(const unsigned char* word, Py_ssize_t n, int minn, int maxn,
                                 uint32_t* hashes, int32_t* begins,
                                 int32_t* ends) noexcept nogil:
    """The n-grams of `word` (already bracketed: "<" + word + ">", n bytes) in fastText's
    order (by start character, then length): their hashes, and (when begins/ends are not
    NULL) their byte spans. Returns how many; the buffers hold max_ngrams(n, ...)."""
    cdef Py_ssize_t i, j, count = 0
    cdef int length
    cdef uint32_t h
    for i in range(n):
        if (word[i] & 0xC0) == 0x80:
            continue                      # inside a character
        h = FNV_OFFSET_BASIS
        j = i
        length = 1
        while j < n and length <= maxn:
            h = fnv1a_step(h, word[j])
            j += 1
            while j < n and (word[j] & 0xC0) == 0x80:
                h = fnv1a_step(h, word[j])
                j += 1
            if length >= minn and not (length == 1 and (i == 0 or j == n)):
                hashes[count] = h
                if begins != NULL:
                    begins[count] = <int32_t>i
                    ends[count] = <int32_t>j
                count += 1
            length += 1
    return count


def _check_lengths(int minn, int maxn):
    if minn < 0 or maxn < 0:
        raise ValueError(f"minn={minn} and maxn={maxn} must be >= 0")


def fnv1a_hash(const uint8_t[::1] data not None):
    """fastText's 32-bit hash of a byte string (Dictionary::hash)."""
    return int(fnv1a(&data[0] if data.shape[0] else NULL, data.shape[0]))


def bracketed_word_ngrams(bytes word not None, int minn, int maxn):
    """(hashes uint32, begins int32, ends int32) of the n-grams of `<word>` (`word` in
    bytes, unbracketed); begins/ends are byte offsets into `<word>`."""
    _check_lengths(minn, maxn)
    cdef bytes bracketed = b"<" + word + b">"
    cdef Py_ssize_t n = len(bracketed)
    cdef Py_ssize_t cap = max_ngrams(n, minn, maxn)
    hashes = np.empty(cap, dtype=np.uint32)
    begins = np.empty(cap, dtype=np.int32)
    ends = np.empty(cap, dtype=np.int32)
    if cap == 0:
        return hashes, begins, ends
    if n >= 2**31:
        raise ValueError("a word of 2**31 bytes or more")
    cdef uint32_t[::1] h = hashes
    cdef int32_t[::1] b = begins
    cdef int32_t[::1] e = ends
    cdef const unsigned char* data = bracketed
    cdef Py_ssize_t count
    with nogil:
        count = bracketed_ngrams(data, n, minn, maxn, &h[0], &b[0], &e[0])
    return hashes[:count], begins[:count], ends[:count]


def subword_table(const uint8_t[::1] blob not None, const int64_t[::1] word_ends not None,
                  int minn, int maxn, int64_t bucket):
    """The input rows of every word, as fastText's Dictionary::initNgrams: word i's rows
    are i, then vocab_size + hash % bucket for each n-gram of `<word>` (repeats kept, as
    fastText). The word "</s>" (fastText's end of sentence) gets only its own row; so
    does every word when maxn == 0 or bucket == 0.

    blob / word_ends: the words' bytes one after the other and where each ends
    (w2v.io.encode_words). Returns (starts int64[n + 1], rows int32[starts[n]]): word
    i's rows are rows[starts[i]:starts[i + 1]], the CSR arrays the core reads.
    """
    _check_lengths(minn, maxn)
    cdef int64_t n_words = word_ends.shape[0], i, k, begin, length, longest = 0
    cdef int64_t total = 0
    if bucket < 0 or bucket >= 2**31:
        raise ValueError(f"bucket={bucket} out of range [0, 2**31)")
    if n_words + bucket >= 2**31:
        raise ValueError(f"{n_words} words + {bucket} buckets: the input rows must number "
                         f"fewer than 2**31")
    if (n_words and word_ends[n_words - 1] != blob.shape[0]) or (n_words == 0 and blob.shape[0]):
        raise ValueError("word_ends must end at the length of blob")
    begin = 0
    for i in range(n_words):
        if word_ends[i] < begin:
            raise ValueError("word_ends must not decrease")
        longest = max(longest, word_ends[i] - begin)
        begin = word_ends[i]
    if longest + 2 >= 2**31:
        raise ValueError("a word of 2**31 bytes or more")
    cdef bint with_ngrams = maxn > 0 and bucket > 0
    cdef Py_ssize_t cap = max_ngrams(longest + 2, minn, maxn) if with_ngrams else 0
    starts_array = np.empty(n_words + 1, dtype=np.int64)
    cdef int64_t[::1] starts = starts_array
    cdef unsigned char* bracketed = <unsigned char*>malloc(longest + 2)
    cdef uint32_t* hashes = <uint32_t*>malloc(max(cap, 1) * sizeof(uint32_t))
    cdef const unsigned char* words = &blob[0] if blob.shape[0] else NULL
    cdef const unsigned char* eos = EOS
    cdef int32_t[::1] rows
    cdef Py_ssize_t count
    if bracketed == NULL or hashes == NULL:
        free(bracketed)
        free(hashes)
        raise MemoryError()
    try:
        with nogil:
            # first pass: how many rows each word has
            starts[0] = 0
            begin = 0
            for i in range(n_words):
                length = word_ends[i] - begin
                count = 0
                if with_ngrams and not (length == 4 and memcmp(words + begin, eos, 4) == 0):
                    bracketed[0] = b"<"
                    memcpy(bracketed + 1, words + begin, length)
                    bracketed[length + 1] = b">"
                    count = bracketed_ngrams(bracketed, length + 2, minn, maxn, hashes,
                                             NULL, NULL)
                starts[i + 1] = starts[i] + 1 + count
                begin = word_ends[i]
        rows_array = np.empty(starts[n_words], dtype=np.int32)
        rows = rows_array
        with nogil:
            begin = 0
            for i in range(n_words):
                length = word_ends[i] - begin
                rows[starts[i]] = <int32_t>i
                if starts[i + 1] - starts[i] > 1:
                    bracketed[0] = b"<"
                    memcpy(bracketed + 1, words + begin, length)
                    bracketed[length + 1] = b">"
                    count = bracketed_ngrams(bracketed, length + 2, minn, maxn, hashes,
                                             NULL, NULL)
                    for k in range(count):
                        rows[starts[i] + 1 + k] = <int32_t>(n_words + hashes[k] % <uint32_t>bucket)
                begin = word_ends[i]
    finally:
        free(bracketed)
        free(hashes)
    return starts_array, rows_array


def mean_rows(matrix, const int64_t[::1] starts not None, const int32_t[::1] rows not None,
              float[:, ::1] out not None):
    """out[i] = the mean of matrix[rows[starts[i]:starts[i + 1]]] (zeros where the range is
    empty), as fastText's getWordVector: float32 sums in order, then times 1 / count.
    `matrix`: float32 rows, each contiguous (a memory-mapped matrix is read in place)."""
    cdef const float[:, :] source = matrix
    cdef int64_t n = starts.shape[0] - 1, i, k, r
    cdef Py_ssize_t dim = source.shape[1], j, stride
    cdef const float* base
    cdef const float* row
    cdef float* target
    cdef float scale
    if n < 0 or out.shape[0] != n or out.shape[1] != dim:
        raise ValueError(f"out should have shape ({max(n, 0)}, {dim})")
    if source.shape[0] and dim and source.strides[1] != sizeof(float):
        raise ValueError("each row of the matrix must be contiguous")
    for i in range(n):
        if starts[i + 1] < starts[i] or starts[i] < 0 or starts[i + 1] > rows.shape[0]:
            raise ValueError("starts must be non-decreasing offsets into rows")
    for k in range(starts[0], starts[n] if n >= 0 else 0):
        if not 0 <= rows[k] < source.shape[0]:
            raise IndexError(f"row {rows[k]} outside the matrix's {source.shape[0]} rows")
    if n == 0 or dim == 0:
        return np.asarray(out)
    stride = source.strides[0] // sizeof(float) if source.shape[0] else 0
    base = &source[0, 0] if source.shape[0] else NULL
    with nogil:
        for i in range(n):
            target = &out[i, 0]
            for j in range(dim):
                target[j] = 0
            for k in range(starts[i], starts[i + 1]):
                row = base + rows[k] * stride
                for j in range(dim):
                    target[j] += row[j]
            if starts[i + 1] > starts[i]:
                scale = <float>(1.0 / (starts[i + 1] - starts[i]))
                for j in range(dim):
                    target[j] *= scale
    return np.asarray(out)
