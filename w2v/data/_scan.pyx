# Counting words in UTF-8 bytes without making a Python string per token.
#
# A TokenCounter reads blocks of bytes that end on a token boundary, splits them on
# whitespace exactly as str.split() does for UTF-8 text (ASCII whitespace, \x1c-\x1f,
# and the multi-byte Unicode spaces), gives every new byte string the next id, counts
# it, and returns the ids. Words are decoded once each, at the end.
cimport cython
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy

from w2v.core.vector_math cimport prefetch

import numpy as np


cdef inline int space_width(const unsigned char* s, int64_t i, int64_t n) noexcept nogil:
    """Bytes taken by the whitespace character at s[i], or 0 if it is not whitespace."""
    cdef unsigned char c = s[i]
    if c == 32 or (9 <= c <= 13) or (28 <= c <= 31):
        return 1
    if c < 0xC2:
        return 0
    if c == 0xC2 and i + 1 < n and (s[i + 1] == 0x85 or s[i + 1] == 0xA0):
        return 2
    if i + 2 >= n:
        return 0
    if c == 0xE1 and s[i + 1] == 0x9A and s[i + 2] == 0x80:                  # U+1680
        return 3
    if c == 0xE2 and s[i + 1] == 0x80 and (0x80 <= s[i + 2] <= 0x8A or s[i + 2] == 0xA8
                                          or s[i + 2] == 0xA9 or s[i + 2] == 0xAF):
        return 3                                                              # U+2000-200A, 2028, 2029, 202F
    if c == 0xE2 and s[i + 1] == 0x81 and s[i + 2] == 0x9F:                  # U+205F
        return 3
    if c == 0xE3 and s[i + 1] == 0x80 and s[i + 2] == 0x80:                  # U+3000
        return 3
    return 0


# BYTE_CLASS[b]: TOKEN_BYTE for a byte that is always part of a token (printable ASCII,
# UTF-8 bytes that cannot start a multi-byte space); otherwise space_width decides.
cdef enum:
    TOKEN_BYTE = 0
    MAYBE_SPACE = 1
cdef unsigned char BYTE_CLASS[256]
cdef int _b
for _b in range(256):
    BYTE_CLASS[_b] = MAYBE_SPACE if (_b <= 32 or _b in (0xC2, 0xE1, 0xE2, 0xE3)) else TOKEN_BYTE


cdef enum:
    SCAN_AHEAD = 8         # tokens scanned ahead of the lookups (a power of two)


cdef extern from *:
    """
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    #define W2V_LITTLE_ENDIAN 1
    #else
    #define W2V_LITTLE_ENDIAN 0
    #endif
    """
    const bint W2V_LITTLE_ENDIAN

cdef enum:
    WORD_BYTES = 8         # same_bytes compares a token this short as one 64-bit word


cdef inline bint same_bytes(const unsigned char* known, const unsigned char* token, int32_t length,
                            int64_t readable) noexcept nogil:
    """known[:length] == token[:length]; `known` (the arena) may always be read
    WORD_BYTES on, `token` only `readable` bytes on. A short token is one 64-bit compare,
    not a call of memcmp."""
    cdef uint64_t a, b
    if W2V_LITTLE_ENDIAN and length <= WORD_BYTES and readable >= WORD_BYTES:
        memcpy(&a, known, WORD_BYTES)
        memcpy(&b, token, WORD_BYTES)
        if length == WORD_BYTES:
            return a == b
        return ((a ^ b) & ((1ULL << (8 * length)) - 1)) == 0     # the first `length` bytes
    return memcmp(known, token, length) == 0


cdef struct Slot:
    uint64_t hash         # the word's FNV-1a hash
    int32_t word          # its id; -1 when the slot is free
    int32_t length        # its length in bytes


cdef class TokenCounter:
    """Provisional ids for byte strings, in order of first appearance, with counts.

    Open addressing: a slot holds the hash, id and length of its word, so that finding a
    known token touches its slot, its bytes (to compare) and its count, nothing else
    (the scanner is bound by these memory accesses)."""
    cdef Slot* table             # size a power of two
    cdef int64_t table_size
    cdef int64_t* offsets        # per id: where its bytes start in the arena
    cdef int32_t* lengths
    cdef int64_t* counts
    cdef int64_t n_words, words_capacity
    cdef unsigned char* arena
    cdef int64_t arena_used, arena_capacity
    cdef readonly int64_t tokens

    def __cinit__(self):
        self.table_size = 1 << 16
        self.table = <Slot*>malloc(self.table_size * sizeof(Slot))
        self.words_capacity = 1 << 14
        self.offsets = <int64_t*>malloc(self.words_capacity * sizeof(int64_t))
        self.lengths = <int32_t*>malloc(self.words_capacity * sizeof(int32_t))
        self.counts = <int64_t*>malloc(self.words_capacity * sizeof(int64_t))
        self.arena_capacity = 1 << 20
        self.arena = <unsigned char*>malloc(self.arena_capacity)
        if (self.table == NULL or self.offsets == NULL or self.lengths == NULL
                or self.counts == NULL or self.arena == NULL):
            raise MemoryError()
        for i in range(self.table_size):
            self.table[i].word = -1

    def __dealloc__(self):
        free(self.table)
        free(self.offsets)
        free(self.lengths)
        free(self.counts)
        free(self.arena)

    @property
    def n_words(self):
        return self.n_words

    cdef int grow_table(self) noexcept nogil:
        cdef int64_t size = self.table_size * 2, i, slot
        cdef Slot* table = <Slot*>malloc(size * sizeof(Slot))
        if table == NULL:
            return -1
        for i in range(size):
            table[i].word = -1
        for i in range(self.table_size):
            if self.table[i].word == -1:
                continue
            slot = self.table[i].hash & (size - 1)
            while table[slot].word != -1:
                slot = (slot + 1) & (size - 1)
            table[slot] = self.table[i]
        free(self.table)
        self.table = table
        self.table_size = size
        return 0

    cdef inline Slot* probe(self, const unsigned char* token, int32_t length, uint64_t h,
                            int64_t readable) noexcept nogil:
        """The slot of `token` (FNV-1a hash h): its word's, or the free one where it would
        go. `readable`: bytes that may be read from token on (at least length)."""
        cdef int64_t slot = h & (self.table_size - 1)
        cdef Slot* at
        while True:
            at = &self.table[slot]
            if at.word == -1 or (at.hash == h and at.length == length and same_bytes(
                    self.arena + self.offsets[at.word], token, length, readable)):
                return at
            slot = (slot + 1) & (self.table_size - 1)

    cdef int32_t add(self, const unsigned char* token, int32_t length, uint64_t h,
                     int64_t readable) noexcept nogil:
        """The id of `token` (FNV-1a hash h), a new one if unseen; -1 if memory ran out."""
        cdef int32_t found
        cdef int64_t need
        cdef void* grown
        cdef Slot* at = self.probe(token, length, h, readable)
        if at.word != -1:
            self.counts[at.word] += 1
            return at.word
        if self.n_words >= 2147483646:
            return -1
        if self.n_words == self.words_capacity:
            self.words_capacity *= 2
            grown = realloc(self.offsets, self.words_capacity * sizeof(int64_t))
            if grown == NULL: return -1
            self.offsets = <int64_t*>grown
            grown = realloc(self.lengths, self.words_capacity * sizeof(int32_t))
            if grown == NULL: return -1
            self.lengths = <int32_t*>grown
            grown = realloc(self.counts, self.words_capacity * sizeof(int64_t))
            if grown == NULL: return -1
            self.counts = <int64_t*>grown
        need = self.arena_used + length
        if need + WORD_BYTES > self.arena_capacity:         # same_bytes may read a word past the end
            while need + WORD_BYTES > self.arena_capacity:
                self.arena_capacity *= 2
            grown = realloc(self.arena, self.arena_capacity)
            if grown == NULL: return -1
            self.arena = <unsigned char*>grown
        memcpy(self.arena + self.arena_used, token, length)
        found = <int32_t>self.n_words
        self.offsets[found] = self.arena_used
        self.lengths[found] = length
        self.counts[found] = 1
        self.arena_used = need
        at.hash, at.word, at.length = h, found, length
        self.n_words += 1
        if self.n_words * 10 > self.table_size * 7:
            if self.grow_table() != 0:
                return -1
        return found

    cdef inline int32_t find(self, const unsigned char* token, int32_t length, uint64_t h,
                             int64_t readable) noexcept nogil:
        """The id of `token` (FNV-1a hash h) if it is in the table, else -1; nothing counted."""
        return self.probe(token, length, h, readable).word

    def scan(self, const unsigned char[::1] block not None):
        """Ids of the tokens of `block` and the token counts at each newline in it; a
        token not seen before gets the next id, and every token is counted.

        The block must end on a token boundary (whitespace or end of input).
        """
        ids, ends, _, _ = self._scan(block, -1)
        return ids, ends

    def scan_known(self, const unsigned char[::1] block not None, int32_t foreign_base):
        """Like scan, for a table that is not to grow (a phrase model's words): a token
        in the table gets its id; any other ("foreign") token gets foreign_base + k, k
        counting the block's foreign tokens from 0, and starts[k], lengths[k] say where
        its bytes are in `block`. Returns (ids, line ends, starts, lengths); nothing is
        counted and the table is left as it was, so that a big text with many rare
        words keeps the lookups in a small table."""
        if foreign_base < self.n_words:
            raise ValueError(f"foreign_base {foreign_base} is below the {self.n_words} known ids")
        return self._scan(block, foreign_base)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef tuple _scan(self, const unsigned char[::1] block, int64_t foreign_base):
        """scan (foreign_base < 0: add and count every token) or scan_known."""
        cdef int64_t n = block.shape[0], i = 0, start, width, n_ids = 0, n_ends = 0
        cdef int64_t max_tokens = n // 2 + 1, n_foreign = 0
        cdef const unsigned char* s = &block[0] if n else NULL
        cdef bint known_only = foreign_base >= 0
        ids = np.empty(max_tokens, dtype=np.int32)
        ends = np.empty(max(1, n), dtype=np.int64)
        starts = np.empty(max_tokens if known_only else 0, dtype=np.int64)
        lengths = np.empty(max_tokens if known_only else 0, dtype=np.int32)
        cdef int32_t[::1] ids_view = ids
        cdef int64_t[::1] ends_view = ends
        cdef int64_t[::1] starts_view = starts
        cdef int32_t[::1] lengths_view = lengths
        cdef int32_t word
        cdef uint64_t h
        # tokens scanned but not yet looked up: a ring of SCAN_AHEAD (a power of two)
        cdef int64_t ring_start[SCAN_AHEAD]
        cdef int32_t ring_length[SCAN_AHEAD]
        cdef uint64_t ring_hash[SCAN_AHEAD]
        cdef int64_t looked_up = 0, r
        cdef bint failed = False
        if n == 0:
            return ids[:0], ends[:0], starts[:0], lengths[:0]
        if known_only and foreign_base + max_tokens > 2147483647:
            raise ValueError("foreign_base too large for the block's tokens")
        with nogil:
            # SCAN_AHEAD tokens behind: a token's slot is fetched (prefetch) as soon as its
            # hash is known, and looked up only after the next SCAN_AHEAD - 1 tokens have
            # been scanned (the lookups are bound by memory latency)
            while True:
                start = -1
                while i < n:
                    if BYTE_CLASS[s[i]] != TOKEN_BYTE:
                        width = space_width(s, i, n)
                        if width:
                            if s[i] == 10:
                                ends_view[n_ends] = self.tokens + n_ids
                                n_ends += 1
                            i += width
                            continue
                    start = i
                    h = 1469598103934665603ULL          # FNV-1a, 64 bit, while scanning
                    while i < n:
                        if BYTE_CLASS[s[i]] != TOKEN_BYTE and space_width(s, i, n) != 0:
                            break
                        h = (h ^ s[i]) * 1099511628211ULL
                        i += 1
                    if i - start >= 2147483647:
                        failed = True
                    else:
                        prefetch(&self.table[h & (self.table_size - 1)])
                    break
                if failed:
                    break
                # look up the oldest token once the ring is full, or all of them at the end
                while looked_up < n_ids and (start < 0 or n_ids - looked_up == SCAN_AHEAD):
                    r = looked_up & (SCAN_AHEAD - 1)
                    if known_only:
                        word = self.find(s + ring_start[r], ring_length[r], ring_hash[r], n - ring_start[r])
                        if word < 0:
                            word = <int32_t>(foreign_base + n_foreign)
                            starts_view[n_foreign] = ring_start[r]
                            lengths_view[n_foreign] = ring_length[r]
                            n_foreign += 1
                    else:
                        word = self.add(s + ring_start[r], ring_length[r], ring_hash[r], n - ring_start[r])
                        if word < 0:
                            failed = True
                            break
                    ids_view[looked_up] = word
                    looked_up += 1
                if failed or start < 0:                 # out of memory, or the block is done
                    break
                r = n_ids & (SCAN_AHEAD - 1)
                ring_start[r], ring_length[r], ring_hash[r] = start, <int32_t>(i - start), h
                n_ids += 1
        if failed:
            raise MemoryError("out of memory (or a token over 2 GB, or over 2**31 words) "
                              "while counting words")
        self.tokens += n_ids
        return ids[:n_ids].copy(), ends[:n_ends].copy(), starts[:n_foreign].copy(), \
            lengths[:n_foreign].copy()

    def counts_array(self):
        out = np.empty(self.n_words, dtype=np.int64)
        cdef int64_t i
        for i in range(self.n_words):
            out[i] = self.counts[i]
        return out

    def word_bytes(self, int64_t start=0):
        """Every word's bytes, in id order (those from id `start` on)."""
        return [(<char*>self.arena)[self.offsets[i]:self.offsets[i] + self.lengths[i]]
                for i in range(max(start, 0), self.n_words)]
