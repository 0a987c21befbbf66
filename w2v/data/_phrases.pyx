# Phrase detection on the id stream: counting phrase candidates and joining phrases.
#
# Words arrive as int32 ids (from the byte scanner's TokenCounter, or a dict for token
# lists). Ids below `n_connectors` are connector words ("of", "the", ...): a phrase
# candidate is a non-connector word, any number of connectors, and the next
# non-connector word, as in gensim's Phrases. Candidates are int32 sequences kept in a
# SequenceTable (open addressing over an arena of ids). Both passes over the stream are
# streaming: a candidate that runs across two blocks of the same line is still seen,
# because the open candidate is carried from one call to the next; a line end closes it.
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.math cimport INFINITY, isfinite, log
from libc.string cimport memcmp, memcpy, memset

import numpy as np

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define w2v_prefetch(p) __builtin_prefetch(p)
    #else
    #define w2v_prefetch(p) ((void)0)
    #endif
    """
    void w2v_prefetch(const void* p) noexcept nogil

cdef int32_t EMPTY = -1
cdef int64_t PREFETCH_AHEAD = 12     # tokens: the slot of a pair this far ahead is fetched early
cdef int64_t MAX_ENTRIES = 2147483646
cdef enum:
    COPY_CHUNK = 16                  # render copies a word this short as one 16-byte block
    PAIR_FILTER_BITS = 16            # the joiner's pair filter: bits per phrase (~6% pass wrongly)


cdef struct Slot:
    uint64_t key          # a pair's two ids packed; a longer (or shorter) key's hash
    int64_t value
    int32_t entry         # EMPTY when the slot is free
    int32_t length


cdef inline uint64_t mix(uint64_t h) noexcept nogil:
    """murmur3's 64-bit finaliser: every input bit moves every output bit."""
    h ^= h >> 33
    h *= 0xff51afd7ed558ccdULL
    h ^= h >> 33
    h *= 0xc4ceb9fe1a85ec53ULL
    h ^= h >> 33
    return h


cdef inline uint64_t key_of(const int32_t* ids, int64_t length) noexcept nogil:
    """The slot key of a sequence: a pair packed into 64 bits (compared without reading
    the arena: most candidates are pairs), any other length hashed."""
    cdef uint64_t h
    cdef int64_t k
    if length == 2:
        return (<uint64_t><unsigned int>ids[0] << 32) | <uint64_t><unsigned int>ids[1]
    h = 1469598103934665603ULL
    for k in range(length):
        h = mix(h ^ <uint64_t><unsigned int>ids[k])
    return h


cdef class SequenceTable:
    """int32 sequences (phrase candidates) -> an int64 value (a count, or a phrase id).

    Open addressing over slots that hold the key (a packed pair, or a hash) and the
    value, so that counting a pair touches one slot. Entries are numbered in order of
    insertion; their ids sit back to back in one arena, entry i being
    arena[offsets[i]:offsets[i + 1]].
    """
    cdef Slot* slots               # size a power of two
    cdef int64_t n_slots
    cdef int64_t* offsets          # n_entries + 1
    cdef int64_t n_entries, capacity
    cdef int32_t* arena
    cdef int64_t arena_capacity

    def __cinit__(self):
        self.n_slots = 1 << 16
        self.capacity = 1 << 14
        self.arena_capacity = 1 << 16
        self.slots = <Slot*>malloc(self.n_slots * sizeof(Slot))
        self.offsets = <int64_t*>malloc((self.capacity + 1) * sizeof(int64_t))
        self.arena = <int32_t*>malloc(self.arena_capacity * sizeof(int32_t))
        if self.slots == NULL or self.offsets == NULL or self.arena == NULL:
            raise MemoryError()
        self.offsets[0] = 0
        cdef int64_t i
        for i in range(self.n_slots):
            self.slots[i].entry = EMPTY

    def __dealloc__(self):
        free(self.slots)
        free(self.offsets)
        free(self.arena)

    def __len__(self):
        return self.n_entries

    cdef inline void prefetch_pair(self, int32_t a, int32_t b) noexcept nogil:
        """Start loading the slot where the pair (a, b) would be: counting is bound by
        memory latency, and the next pairs are known ahead."""
        cdef uint64_t k = (<uint64_t><unsigned int>a << 32) | <uint64_t><unsigned int>b
        w2v_prefetch(&self.slots[mix(k) & (self.n_slots - 1)])

    cdef int rehash(self, int64_t n_slots) noexcept nogil:
        """Move the filled slots into a table of n_slots (the arena is not read)."""
        cdef Slot* slots = <Slot*>malloc(n_slots * sizeof(Slot))
        cdef int64_t i, slot
        if slots == NULL:
            return -1
        for i in range(n_slots):
            slots[i].entry = EMPTY
        for i in range(self.n_slots):
            if self.slots[i].entry == EMPTY:
                continue
            slot = mix(self.slots[i].key) & (n_slots - 1)
            while slots[slot].entry != EMPTY:
                slot = (slot + 1) & (n_slots - 1)
            slots[slot] = self.slots[i]
        free(self.slots)
        self.slots = slots
        self.n_slots = n_slots
        return 0

    cdef Slot* find(self, const int32_t* key, int64_t length) noexcept nogil:
        """The slot holding `key`, or NULL."""
        cdef uint64_t k = key_of(key, length)
        cdef int64_t slot = mix(k) & (self.n_slots - 1)
        cdef Slot* s
        while True:
            s = &self.slots[slot]
            if s.entry == EMPTY:
                return NULL
            if s.key == k and s.length == length and (length == 2 or memcmp(
                    self.arena + self.offsets[s.entry], key, length * sizeof(int32_t)) == 0):
                return s
            slot = (slot + 1) & (self.n_slots - 1)

    cdef int64_t add(self, const int32_t* key, int64_t length, int64_t value) noexcept nogil:
        """Add `value` to key's value (a new entry starts at 0); 0, or -1 when memory
        (or the 2**31 - 2 entry limit) ran out."""
        cdef uint64_t k = key_of(key, length)
        cdef int64_t slot = mix(k) & (self.n_slots - 1)
        cdef int64_t need
        cdef void* grown
        cdef Slot* s
        while True:
            s = &self.slots[slot]
            if s.entry == EMPTY:
                break
            if s.key == k and s.length == length and (length == 2 or memcmp(
                    self.arena + self.offsets[s.entry], key, length * sizeof(int32_t)) == 0):
                s.value += value
                return 0
            slot = (slot + 1) & (self.n_slots - 1)
        if self.n_entries >= MAX_ENTRIES or length >= 2147483647:
            return -1
        if self.n_entries == self.capacity:
            self.capacity *= 2
            grown = realloc(self.offsets, (self.capacity + 1) * sizeof(int64_t))
            if grown == NULL: return -1
            self.offsets = <int64_t*>grown
        need = self.offsets[self.n_entries] + length
        if need > self.arena_capacity:
            while need > self.arena_capacity:
                self.arena_capacity *= 2
            grown = realloc(self.arena, self.arena_capacity * sizeof(int32_t))
            if grown == NULL: return -1
            self.arena = <int32_t*>grown
        memcpy(self.arena + self.offsets[self.n_entries], key, length * sizeof(int32_t))
        self.offsets[self.n_entries + 1] = need
        s.key, s.value, s.entry, s.length = k, value, <int32_t>self.n_entries, <int32_t>length
        self.n_entries += 1
        if self.n_entries * 10 > self.n_slots * 7:
            if self.rehash(self.n_slots * 2) != 0:
                return -1
        return 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def insert(self, const int32_t[::1] parts not None, const int64_t[::1] offsets not None,
               const int64_t[::1] values not None):
        """Set entry i = parts[offsets[i]:offsets[i + 1]] to values[i] (keys must be new)."""
        cdef int64_t i, n = values.shape[0]
        if offsets.shape[0] != n + 1 or offsets[0] != 0 or offsets[n] != parts.shape[0]:
            raise ValueError("offsets do not match parts and values")
        for i in range(n):
            if offsets[i + 1] <= offsets[i]:
                raise ValueError("empty phrase")
            if self.find(&parts[offsets[i]], offsets[i + 1] - offsets[i]) != NULL:
                raise ValueError(f"phrase {i} given twice")
            if self.add(&parts[offsets[i]], offsets[i + 1] - offsets[i], values[i]) < 0:
                raise MemoryError("out of memory while building the phrase table")

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def lookup(self, const int32_t[::1] key not None):
        """The value of `key`, or None."""
        cdef Slot* s = self.find(&key[0], key.shape[0]) if key.shape[0] else NULL
        return None if s == NULL else s.value

    cdef int entry_values(self, int64_t* values) noexcept nogil:
        cdef int64_t i
        for i in range(self.n_slots):
            if self.slots[i].entry != EMPTY:
                values[self.slots[i].entry] = self.slots[i].value
        return 0

    def prune(self, int64_t min_value):
        """Drop every entry whose value is below `min_value` (word2vec's and gensim's
        vocabulary pruning); returns how many were dropped. Survivors keep their order."""
        cdef int64_t i, kept = 0, length, position = 0, dropped = self.n_entries
        cdef int64_t* renumber = <int64_t*>malloc(max(self.n_entries, 1) * sizeof(int64_t))
        if renumber == NULL:
            raise MemoryError("out of memory while pruning phrase candidates")
        with nogil:
            self.entry_values(renumber)
            for i in range(self.n_entries):
                if renumber[i] < min_value:
                    renumber[i] = -1
                    continue
                length = self.offsets[i + 1] - self.offsets[i]
                if position != self.offsets[i]:
                    memcpy(self.arena + position, self.arena + self.offsets[i], length * sizeof(int32_t))
                self.offsets[kept] = position
                renumber[i] = kept
                position += length
                kept += 1
            self.offsets[kept] = position
            for i in range(self.n_slots):
                if self.slots[i].entry != EMPTY:
                    self.slots[i].entry = <int32_t>renumber[self.slots[i].entry]
                    if self.slots[i].entry < 0:
                        self.slots[i].entry = EMPTY
            dropped -= kept
            self.n_entries = kept
            i = self.rehash(self.n_slots)       # closes the gaps the dropped slots left
        free(renumber)
        if i != 0:
            raise MemoryError("out of memory while pruning phrase candidates")
        return dropped

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def select(self, const int64_t[::1] word_counts not None, int scoring, double n_entries,
               double tokens, int64_t min_count, double threshold):
        """(parts, offsets, counts, scores) of the candidates (values: counts) that score
        above `threshold`, in entry order, without copying the others out.

        scoring 0: gensim's (ab - min_count) / (a * b) * n_entries; 1: npmi,
        log(p(ab) / (p(a) p(b))) / -log(p(ab)) with p(x) = x / tokens, for ab >= min_count;
        2: word2phrase's (ab - min_count) / (a * b) * tokens, for a, b >= min_count.
        a and b are word_counts of the first and last word; a candidate with a or b 0 is
        never chosen. Scores are computed in the same order of operations as gensim's.
        """
        cdef int64_t i, k, n_chosen = 0, first, last, n_words = word_counts.shape[0]
        cdef double a, b, ab, score
        cdef Slot* slot
        chosen_entries = np.empty(max(self.n_entries, 1), dtype=np.int64)
        chosen_scores = np.empty(max(self.n_entries, 1), dtype=np.float64)
        chosen_counts = np.empty(max(self.n_entries, 1), dtype=np.int64)
        cdef int64_t[::1] entries = chosen_entries, chosen = chosen_counts
        cdef double[::1] scores = chosen_scores
        if scoring < 0 or scoring > 2:
            raise ValueError(f"scoring {scoring}: 0, 1 or 2")
        with nogil:
            for i in range(self.n_slots):
                slot = &self.slots[i]
                if slot.entry == EMPTY:
                    continue
                first = self.arena[self.offsets[slot.entry]]
                last = self.arena[self.offsets[slot.entry + 1] - 1]
                if first < 0 or first >= n_words or last < 0 or last >= n_words:
                    continue
                a, b, ab = <double>word_counts[first], <double>word_counts[last], <double>slot.value
                if a <= 0 or b <= 0:
                    continue
                if scoring == 1:
                    if slot.value < min_count:
                        continue
                    score = log((ab / tokens) / ((a / tokens) * (b / tokens))) / -log(ab / tokens)
                elif scoring == 2:
                    if word_counts[first] < min_count or word_counts[last] < min_count:
                        continue
                    score = (ab - <double>min_count) / (a * b) * tokens
                else:
                    score = (ab - <double>min_count) / (a * b) * n_entries
                if isfinite(score) and score > threshold:
                    entries[n_chosen] = slot.entry
                    chosen[n_chosen] = slot.value
                    scores[n_chosen] = score
                    n_chosen += 1
        order = np.argsort(chosen_entries[:n_chosen], kind="stable")
        chosen_entries = chosen_entries[:n_chosen][order]
        chosen_scores = chosen_scores[:n_chosen][order]
        offsets = np.zeros(n_chosen + 1, dtype=np.int64)
        cdef int64_t[::1] entry_view = chosen_entries, offsets_view = offsets
        for k in range(n_chosen):
            offsets_view[k + 1] = offsets_view[k] + self.offsets[entry_view[k] + 1] - self.offsets[entry_view[k]]
        parts = np.empty(offsets_view[n_chosen], dtype=np.int32)
        cdef int32_t[::1] parts_view = parts
        for k in range(n_chosen):
            memcpy(&parts_view[offsets_view[k]], self.arena + self.offsets[entry_view[k]],
                   (offsets_view[k + 1] - offsets_view[k]) * sizeof(int32_t))
        return parts, offsets, chosen_counts[:n_chosen][order], chosen_scores

    def arrays(self):
        """(parts, offsets, values) of every entry, in entry order (copies)."""
        parts = np.empty(self.offsets[self.n_entries], dtype=np.int32)
        offsets = np.empty(self.n_entries + 1, dtype=np.int64)
        values = np.empty(self.n_entries, dtype=np.int64)
        if self.n_entries:
            memcpy(<void*><size_t>parts.ctypes.data, self.arena, self.offsets[self.n_entries] * sizeof(int32_t))
            self.entry_values(<int64_t*><size_t>values.ctypes.data)
        memcpy(<void*><size_t>offsets.ctypes.data, self.offsets, (self.n_entries + 1) * sizeof(int64_t))
        return parts, offsets, values


cdef class _OpenCandidate:
    """The candidate being read: its first word and the connectors after it, carried
    from one block of a line to the next. buffer[0] is the start word (-1: none)."""
    cdef int32_t* buffer
    cdef int64_t length, capacity

    def __cinit__(self):
        self.capacity = 64
        self.buffer = <int32_t*>malloc(self.capacity * sizeof(int32_t))
        if self.buffer == NULL:
            raise MemoryError()
        self.length = 0

    def __dealloc__(self):
        free(self.buffer)

    cdef int push(self, int32_t word) noexcept nogil:
        cdef void* grown
        if self.length == self.capacity:
            grown = realloc(self.buffer, 2 * self.capacity * sizeof(int32_t))
            if grown == NULL:
                return -1
            self.buffer = <int32_t*>grown
            self.capacity *= 2
        self.buffer[self.length] = word
        self.length += 1
        return 0


cdef class CandidateCounter:
    """Counts phrase candidates (start word, connectors, end word) in a stream of ids."""
    cdef readonly SequenceTable table
    cdef _OpenCandidate open
    cdef int32_t n_connectors

    def __cinit__(self, int32_t n_connectors):
        self.table = SequenceTable()
        self.open = _OpenCandidate()
        self.n_connectors = n_connectors

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def count(self, const int32_t[::1] ids not None, const int64_t[::1] line_ends not None):
        """Count the candidates of a block of ids; line_ends index into the block where a
        line closes (a candidate never spans a line end)."""
        cdef int64_t n = ids.shape[0], n_ends = line_ends.shape[0], i, e = 0
        cdef int32_t word
        cdef bint failed = False
        cdef _OpenCandidate open = self.open
        with nogil:
            for i in range(n):
                if i + PREFETCH_AHEAD < n:
                    self.table.prefetch_pair(ids[i + PREFETCH_AHEAD - 1], ids[i + PREFETCH_AHEAD])
                while e < n_ends and line_ends[e] <= i:
                    open.length = 0
                    e += 1
                word = ids[i]
                if word >= self.n_connectors:
                    if open.length:
                        if open.push(word) != 0 or self.table.add(open.buffer, open.length, 1) < 0:
                            failed = True
                            break
                    open.length = 0
                    open.push(word)
                elif open.length:
                    if open.push(word) != 0:
                        failed = True
                        break
            if e < n_ends and line_ends[n_ends - 1] >= n:
                open.length = 0
        if failed:
            raise MemoryError("out of memory (or over 2**31 - 2 candidates: set max_vocab_size) "
                              "while counting phrase candidates")


cdef inline uint64_t pair_bit_of(int32_t first, int32_t last, uint64_t mask) noexcept nogil:
    cdef uint64_t k = (<uint64_t><unsigned int>first << 32) | <uint64_t><unsigned int>last
    return (mix(k) >> 24) & mask      # other bits than the table's slot


cdef class JoinFilter:
    """What a PhraseJoiner tests before its table, built once from the table and shared by
    every joiner of it (a joiner is made per pass over a text, or per sentence):

    ends[w] & 1: some phrase starts with word w; & 2: some phrase ends with it. Most
    candidates fail this test and skip the table lookup. pair_bits: a bit per hash of every
    two-word phrase (PAIR_FILTER_BITS bits a phrase, a power of two in all): a pair whose
    bit is clear is no phrase, and most pairs that pass the ends test are no phrase; the
    filter is small enough to stay in cache, the table not. The table must not change
    after the filter is built."""
    cdef uint8_t* ends
    cdef int64_t n_ends
    cdef uint64_t* pair_bits
    cdef uint64_t pair_mask

    def __cinit__(self, SequenceTable table not None):
        cdef int64_t i, largest = -1
        cdef int32_t first, last
        for i in range(table.n_entries):
            largest = max(largest, table.arena[table.offsets[i]], table.arena[table.offsets[i + 1] - 1])
        self.n_ends = largest + 1
        self.ends = <uint8_t*>malloc(max(self.n_ends, 1))
        if self.ends == NULL:
            raise MemoryError()
        memset(self.ends, 0, max(self.n_ends, 1))
        for i in range(table.n_entries):
            first, last = table.arena[table.offsets[i]], table.arena[table.offsets[i + 1] - 1]
            self.ends[first] |= 1
            self.ends[last] |= 2
        cdef int64_t n_bits = 64
        while n_bits < PAIR_FILTER_BITS * table.n_entries:
            n_bits *= 2
        self.pair_mask = n_bits - 1
        self.pair_bits = <uint64_t*>calloc(n_bits // 64, sizeof(uint64_t))
        if self.pair_bits == NULL:
            raise MemoryError()
        cdef uint64_t bit
        for i in range(table.n_entries):
            if table.offsets[i + 1] - table.offsets[i] == 2:
                bit = pair_bit_of(table.arena[table.offsets[i]], table.arena[table.offsets[i] + 1],
                                  self.pair_mask)
                self.pair_bits[bit >> 6] |= 1ULL << (bit & 63)

    def __dealloc__(self):
        free(self.ends)
        free(self.pair_bits)


cdef class PhraseJoiner:
    """Joins phrases in a stream of ids, gensim's greedy left-to-right rule: a candidate
    (start, connectors, end) that is a phrase becomes the phrase's id, and its end word
    cannot start another; otherwise its words pass through and the end word starts the
    next candidate. Every token is kept: only joined, never dropped.

    PhraseJoiner(table, n_connectors, filter=None): filter, the table's JoinFilter
    (built here when None; `joiner.filter` gives it to the next joiner of the table)."""
    cdef readonly SequenceTable table   # candidate -> phrase id
    cdef readonly JoinFilter filter
    cdef _OpenCandidate open
    cdef int32_t n_connectors
    # the filter's arrays (JoinFilter), read in the loops without the GIL
    cdef const uint8_t* ends
    cdef int64_t n_ends
    cdef const uint64_t* pair_bits
    cdef uint64_t pair_mask

    def __cinit__(self, SequenceTable table not None, int32_t n_connectors,
                  JoinFilter filter=None):
        self.table = table
        self.open = _OpenCandidate()
        self.n_connectors = n_connectors
        self.filter = JoinFilter(table) if filter is None else filter
        self.ends, self.n_ends = self.filter.ends, self.filter.n_ends
        self.pair_bits, self.pair_mask = self.filter.pair_bits, self.filter.pair_mask

    cdef inline bint may_be_pair(self, int32_t first, int32_t last) noexcept nogil:
        cdef uint64_t bit = pair_bit_of(first, last, self.pair_mask)
        return (self.pair_bits[bit >> 6] >> (bit & 63)) & 1

    cdef inline bint may_start(self, int32_t word) noexcept nogil:
        return word < self.n_ends and (self.ends[word] & 1) != 0

    cdef inline bint may_be_phrase(self, int32_t first, int32_t last) noexcept nogil:
        return (first < self.n_ends and last < self.n_ends
                and (self.ends[first] & 1) != 0 and (self.ends[last] & 2) != 0)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def join(self, const int32_t[::1] ids not None, const int64_t[::1] line_ends not None,
             bint final=False):
        """(ids, line_ends) of the joined block. Words of a candidate still open at the end
        of the block are held back for the next call; final=True lets them out. A word
        that starts no phrase never opens a candidate (it and the connectors after it
        pass straight through), so that only ids that can start a phrase are held back:
        ids past every phrase's words (transform_file's block-local "foreign" ids)
        always leave with their own block."""
        cdef int64_t n = ids.shape[0], n_ends = line_ends.shape[0], i, e = 0, k
        cdef Slot* found
        cdef int64_t n_out = 0, n_out_ends = 0
        cdef int32_t word
        cdef bint failed = False
        cdef _OpenCandidate open = self.open
        out = np.empty(n + open.length + 1, dtype=np.int32)
        out_ends = np.empty(n_ends, dtype=np.int64)
        cdef int32_t[::1] o = out
        cdef int64_t[::1] oe = out_ends
        with nogil:
            for i in range(n + 1):
                while e < n_ends and line_ends[e] <= i:
                    for k in range(open.length):
                        o[n_out] = open.buffer[k]
                        n_out += 1
                    open.length = 0
                    oe[n_out_ends] = n_out
                    n_out_ends += 1
                    e += 1
                if i == n:
                    break
                word = ids[i]
                if word >= self.n_connectors:
                    if open.length:
                        if open.push(word) != 0:
                            failed = True
                            break
                        found = NULL
                        if self.may_be_phrase(open.buffer[0], word) and (
                                open.length > 2 or self.may_be_pair(open.buffer[0], word)):
                            found = self.table.find(open.buffer, open.length)
                        if found != NULL:
                            o[n_out] = <int32_t>found.value
                            n_out += 1
                            open.length = 0
                            continue
                        for k in range(open.length - 1):
                            o[n_out] = open.buffer[k]
                            n_out += 1
                    open.length = 0
                    if self.may_start(word):
                        open.push(word)
                    else:
                        o[n_out] = word
                        n_out += 1
                elif open.length:
                    if open.push(word) != 0:
                        failed = True
                        break
                else:
                    o[n_out] = word
                    n_out += 1
            if final and not failed:
                for k in range(open.length):
                    o[n_out] = open.buffer[k]
                    n_out += 1
                open.length = 0
        if failed:
            raise MemoryError("out of memory while joining phrases")
        return out[:n_out], out_ends[:n_out_ends]

    @property
    def held(self):
        """Tokens held back (an open candidate)."""
        return self.open.length


@cython.boundscheck(False)
@cython.wraparound(False)
def render(const int32_t[::1] ids not None, const int64_t[::1] line_ends not None,
           const unsigned char[::1] arena not None, const int64_t[::1] offsets not None,
           bint line_open, const uint8_t[::1] is_phrase not None,
           const unsigned char[::1] block=None, const int64_t[::1] foreign_starts=None,
           const int32_t[::1] foreign_lengths=None):
    """(text, line_open, phrases) of a block of ids: the text (a memoryview) has the
    words (arena[offsets[i]:offsets[i + 1]]) separated by one space and a newline at
    each line end; line_open (given and returned): the block ended inside a line with a
    word, so the next one starts with a space; phrases: how many ids have is_phrase set
    (ids past its end count as words). Ids from len(offsets) - 1 on are foreign words
    (TokenCounter.scan_known): id n_words + k is block[foreign_starts[k]:][:foreign_lengths[k]]."""
    cdef int64_t n = ids.shape[0], n_ends = line_ends.shape[0], i, e = 0, size = 0, length
    cdef int64_t n_flags = is_phrase.shape[0], phrases = 0, start
    cdef int32_t word
    cdef int64_t n_words = offsets.shape[0] - 1
    cdef int64_t n_foreign = foreign_starts.shape[0] if foreign_starts is not None else 0
    if n_foreign and (block is None or foreign_lengths is None
                      or foreign_lengths.shape[0] != n_foreign):
        raise ValueError("foreign words need the block and their starts and lengths")
    for i in range(n):
        word = ids[i]
        if word < 0 or word >= n_words + n_foreign:
            raise IndexError(f"word id {word} outside the {n_words} known words"
                             + (f" and {n_foreign} foreign ones" if n_foreign else ""))
        if word < n_words:
            size += offsets[word + 1] - offsets[word] + 1
        else:
            start, length = foreign_starts[word - n_words], foreign_lengths[word - n_words]
            if start < 0 or length < 0 or start + length > block.shape[0]:
                raise IndexError(f"foreign word {word - n_words} outside the block")
            size += length + 1
        if word < n_flags:
            phrases += is_phrase[word]
    size += n_ends + 1
    out = bytearray(size + COPY_CHUNK)     # room for the last word's whole chunk
    cdef unsigned char[::1] text = out
    cdef int64_t at = 0, readable
    cdef bint start_of_line = not line_open
    cdef const unsigned char* source
    cdef int64_t arena_size = arena.shape[0], block_size = block.shape[0] if block is not None else 0
    with nogil:
        for i in range(n + 1):
            while e < n_ends and line_ends[e] <= i:
                text[at] = 10
                at += 1
                start_of_line = True
                e += 1
            if i == n:
                break
            if not start_of_line:
                text[at] = 32
                at += 1
            word = ids[i]
            if word < n_words:
                start, length = offsets[word], offsets[word + 1] - offsets[word]
                source, readable = &arena[start], arena_size - start
            else:
                start, length = foreign_starts[word - n_words], foreign_lengths[word - n_words]
                source, readable = &block[start], block_size - start
            if length <= COPY_CHUNK and readable >= COPY_CHUNK:
                memcpy(&text[at], source, COPY_CHUNK)      # one fixed-size move: most words
            elif length:
                memcpy(&text[at], source, length)
            at += length
            start_of_line = False
    return memoryview(out)[:at], not start_of_line, phrases      # no copy of the text
