# Hot output rows: with SGD each thread keeps its own copy of the output rows nearly every
# example updates, and syncs it with the shared table every few dozen windows.
#
# Hierarchical softmax puts the inner nodes near the Huffman root on every path (the last
# rows of W_hs: word2vec numbers the inner nodes in the order it makes them, the root
# last). Hogwild threads all write those few rows, and each write takes the cache line
# away from the other cores; a thread's copy stays in its own cache. (Negative sampling's
# most frequent words were tried as hot rows of W_out too: no faster on two threads, the
# negatives spread over many more rows; docs/benchmarks.md.)
#
# A sync merges as local SGD does: shared = copy + (shared - base), with base the shared
# value at the previous sync, so the other threads' moves since then are kept and this
# thread's are added; the copy and base restart from the result. With one thread shared ==
# base, so shared = copy exactly: one-thread training is bit for bit the same as without
# copies. Adam is not affected (its minibatches already update a row once a step).
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy

from w2v.core.structs cimport HOT_TABLE, HS_TABLE, ModelArrays, WorkerScratch, real
from w2v.core.vector_math cimport row_of


cdef inline real* output_row(const ModelArrays* m, const WorkerScratch* w, int table,
                             int32_t row) noexcept nogil:
    """Where an output row starts: the thread's copy for HOT_TABLE, else the shared table."""
    if table == HOT_TABLE:
        return w.hot + <int64_t>row * m.dim
    return row_of(&m.tables[table], row)


cdef inline int hot_slot(const WorkerScratch* w, int table, int32_t row) noexcept nogil:
    """The thread's copy slot of an output row, or -1 when the row is not hot."""
    if table == HS_TABLE and row >= w.hot_hs_first:
        return <int>(row - w.hot_hs_first)
    return -1


cdef inline real* shared_row_of_slot(const ModelArrays* m, const WorkerScratch* w,
                                     int slot) noexcept nogil:
    return row_of(&m.tables[HS_TABLE], w.hot_hs_first + slot)


cdef extern from *:
    """
    /* shared = copy + (shared - base), then copy = base = shared. Where no other thread
       moved a float (shared == base) the result is the copy itself, exactly: selected,
       not added, so setup.py's reassociating flags cannot turn the sum into
       (copy + shared) - base. AVX-512 masks the add and the row's last block; AVX2 blends;
       the plain loop does the rest (all of it without either). */
    #if defined(__AVX512F__)
    #include <immintrin.h>
    static inline int w2v_merge_hot_row_simd(float* shared, float* copy, float* base, int n) {
        const __m512 zero = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            const __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF
                                                : (__mmask16)((1u << (n - i)) - 1u);
            const __m512 c = _mm512_maskz_loadu_ps(lanes, copy + i);
            const __m512 moved = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, shared + i),
                                               _mm512_maskz_loadu_ps(lanes, base + i));
            const __mmask16 changed = _mm512_cmp_ps_mask(moved, zero, _CMP_NEQ_UQ);
            const __m512 value = _mm512_mask_add_ps(c, changed, c, moved);
            _mm512_mask_storeu_ps(shared + i, lanes, value);
            _mm512_mask_storeu_ps(copy + i, lanes, value);
            _mm512_mask_storeu_ps(base + i, lanes, value);
        }
        return n;
    }
    #elif defined(__AVX2__)
    #include <immintrin.h>
    static inline int w2v_merge_hot_row_simd(float* shared, float* copy, float* base, int n) {
        const __m256 zero = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            const __m256 c = _mm256_loadu_ps(copy + i);
            const __m256 moved = _mm256_sub_ps(_mm256_loadu_ps(shared + i), _mm256_loadu_ps(base + i));
            const __m256 changed = _mm256_cmp_ps(moved, zero, _CMP_NEQ_UQ);
            const __m256 value = _mm256_blendv_ps(c, _mm256_add_ps(c, moved), changed);
            _mm256_storeu_ps(shared + i, value);
            _mm256_storeu_ps(copy + i, value);
            _mm256_storeu_ps(base + i, value);
        }
        return i;
    }
    #else
    static inline int w2v_merge_hot_row_simd(float* shared, float* copy, float* base, int n) {
        return 0;
    }
    #endif
    """
    int merge_hot_row_simd "w2v_merge_hot_row_simd"(real* shared, real* copy, real* base,
                                                    int n) noexcept nogil


cdef inline void merge_hot_row(real* shared, real* copy, real* base, int dim) noexcept nogil:
    """shared = copy + (shared - base), then copy = base = shared; exactly the copy where
    no other thread moved a float (see the C above)."""
    cdef int i = merge_hot_row_simd(shared, copy, base, dim)
    cdef real value, moved
    for i in range(i, dim):
        value = copy[i]
        moved = shared[i] - base[i]
        if moved != 0:
            value = value + moved
        shared[i] = value
        copy[i] = value
        base[i] = value


cdef inline void load_hot_rows(const ModelArrays* m, WorkerScratch* w) noexcept nogil:
    """Copy the shared hot rows into the thread's copy and base (a chunk's start)."""
    cdef int slot
    cdef size_t size = m.dim * sizeof(real)
    for slot in range(w.hot_count):
        memcpy(w.hot + <int64_t>slot * m.dim, shared_row_of_slot(m, w, slot), size)
        memcpy(w.hot_base + <int64_t>slot * m.dim, shared_row_of_slot(m, w, slot), size)
    w.hot_windows = 0


cdef inline void sync_hot_rows(const ModelArrays* m, WorkerScratch* w) noexcept nogil:
    """Merge the thread's moves of the hot rows into the shared table (merge_hot_row)."""
    cdef int slot
    for slot in range(w.hot_count):
        merge_hot_row(shared_row_of_slot(m, w, slot), w.hot + <int64_t>slot * m.dim,
                      w.hot_base + <int64_t>slot * m.dim, m.dim)
    w.hot_windows = 0
