# The optimizers, applied to the rows an example touched:
#
# - SGD (word2vec's): an output row moves as soon as its gradient is known (its score used
#   the row before the move), then every input row gets -lr times d loss / d hidden: the
#   whole error, not divided by the number of input rows (word2vec.c and fastText; on
#   text8like that convention is worth 7 points of CBOW analogy accuracy).
# - Adam: lazy, as PyTorch's SparseAdam. The exact gradients (what autograd would give: an
#   input row of a mean gets d loss / d hidden divided by the group's size) are summed per
#   touched row over a minibatch of `batch_windows` windows; then one step, each touched
#   row updated once with its gradient averaged over the minibatch.
from libc.math cimport pow, sqrt, sqrtf
from libc.stdint cimport int32_t, int64_t

from w2v.core.hot_rows cimport output_row
from w2v.core.structs cimport (IN_TABLE, N_TABLES, OPT_SGD, ModelArrays, SparseGrad, Table,
                               WorkerScratch, real)
from w2v.core.vector_math cimport (axpy, axpy_rows, output_step, prefetch_row, row_of,
                                   scale_into)

cdef extern from *:
    """
    /* Adam's row update with AVX-512 (16 floats at a time) or AVX2 + FMA (8). sqrt and
       division are the slow part of Adam (about 20 cycles per vector, more than the rest
       of the update: half of CBOW + Adam's time went there on an AVX2 machine); here
       1/sqrt(v) and 1/(. + eps) come from the hardware estimates (14 or 12 bits) refined
       by one Newton step each (relative error about 1e-7, float32 rounding). v == 0 is
       handled exactly. AVX-512 masks the last block of a row, so it does the whole row and
       returns n; AVX2 returns how many floats it did (a multiple of 8) and the caller does
       the rest, as everything without either, with the plain formula. */
    #if defined(__AVX512F__)
    #include <immintrin.h>
    static inline int w2v_adam_row_simd(float* p, float* m1, float* m2, const float* g, int n,
                                        float grad_scale, float beta1, float beta2, float eps,
                                        float step_size) {
        const __m512 scale = _mm512_set1_ps(grad_scale), b1 = _mm512_set1_ps(beta1),
                     b2 = _mm512_set1_ps(beta2), c1 = _mm512_set1_ps(1.0f - beta1),
                     c2 = _mm512_set1_ps(1.0f - beta2), e = _mm512_set1_ps(eps),
                     step = _mm512_set1_ps(step_size), half = _mm512_set1_ps(0.5f),
                     three_halves = _mm512_set1_ps(1.5f), two = _mm512_set1_ps(2.0f),
                     zero = _mm512_setzero_ps();
        int i = 0;
        for (; i < n; i += 16) {
            /* the last block of a row whose length is not a multiple of 16 is masked */
            const __mmask16 lanes = n - i >= 16 ? (__mmask16)0xFFFF
                                                : (__mmask16)((1u << (n - i)) - 1u);
            __m512 grad = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, g + i), scale);
            __m512 m = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(lanes, m1 + i),
                                       _mm512_mul_ps(c1, grad));
            __m512 v = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(lanes, m2 + i),
                                       _mm512_mul_ps(c2, _mm512_mul_ps(grad, grad)));
            _mm512_mask_storeu_ps(m1 + i, lanes, m);
            _mm512_mask_storeu_ps(m2 + i, lanes, v);
            /* sqrt(v) = v * rsqrt(v), rsqrt refined by Newton: r (1.5 - 0.5 v r^2) */
            __m512 r = _mm512_rsqrt14_ps(v);
            r = _mm512_mul_ps(r, _mm512_fnmadd_ps(_mm512_mul_ps(half, v), _mm512_mul_ps(r, r),
                                                  three_halves));
            __mmask16 positive = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
            __m512 root = _mm512_maskz_mul_ps(positive, v, r);        /* 0 where v == 0 */
            __m512 denom = _mm512_add_ps(root, e);
            /* 1/d refined by Newton: q (2 - d q) */
            __m512 q = _mm512_rcp14_ps(denom);
            q = _mm512_mul_ps(q, _mm512_fnmadd_ps(denom, q, two));
            __m512 param = _mm512_maskz_loadu_ps(lanes, p + i);
            _mm512_mask_storeu_ps(p + i, lanes, _mm512_fnmadd_ps(_mm512_mul_ps(step, m), q, param));
        }
        return n;
    }
    #elif defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    static inline int w2v_adam_row_simd(float* p, float* m1, float* m2, const float* g, int n,
                                        float grad_scale, float beta1, float beta2, float eps,
                                        float step_size) {
        const __m256 scale = _mm256_set1_ps(grad_scale), b1 = _mm256_set1_ps(beta1),
                     b2 = _mm256_set1_ps(beta2), c1 = _mm256_set1_ps(1.0f - beta1),
                     c2 = _mm256_set1_ps(1.0f - beta2), e = _mm256_set1_ps(eps),
                     step = _mm256_set1_ps(step_size), half = _mm256_set1_ps(0.5f),
                     three_halves = _mm256_set1_ps(1.5f), two = _mm256_set1_ps(2.0f),
                     zero = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256 grad = _mm256_mul_ps(_mm256_loadu_ps(g + i), scale);
            __m256 m = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m1 + i), _mm256_mul_ps(c1, grad));
            __m256 v = _mm256_fmadd_ps(b2, _mm256_loadu_ps(m2 + i),
                                       _mm256_mul_ps(c2, _mm256_mul_ps(grad, grad)));
            _mm256_storeu_ps(m1 + i, m);
            _mm256_storeu_ps(m2 + i, v);
            /* sqrt(v) = v * rsqrt(v), rsqrt refined by Newton: r (1.5 - 0.5 v r^2) */
            __m256 r = _mm256_rsqrt_ps(v);
            r = _mm256_mul_ps(r, _mm256_fnmadd_ps(_mm256_mul_ps(half, v), _mm256_mul_ps(r, r),
                                                  three_halves));
            __m256 positive = _mm256_cmp_ps(v, zero, _CMP_GT_OQ);
            __m256 root = _mm256_and_ps(positive, _mm256_mul_ps(v, r));   /* 0 where v == 0 */
            __m256 denom = _mm256_add_ps(root, e);
            /* 1/d refined by Newton: q (2 - d q) */
            __m256 q = _mm256_rcp_ps(denom);
            q = _mm256_mul_ps(q, _mm256_fnmadd_ps(denom, q, two));
            __m256 param = _mm256_loadu_ps(p + i);
            _mm256_storeu_ps(p + i, _mm256_fnmadd_ps(_mm256_mul_ps(step, m), q, param));
        }
        return i;
    }
    #else
    static inline int w2v_adam_row_simd(float* p, float* m1, float* m2, const float* g, int n,
                                        float grad_scale, float beta1, float beta2, float eps,
                                        float step_size) {
        return 0;
    }
    #endif
    """
    int adam_row_simd "w2v_adam_row_simd"(real* p, real* m1, real* m2, const real* g, int n,
                                            real grad_scale, real beta1, real beta2, real eps,
                                            real step_size) noexcept nogil


cdef enum:
    # Adam's row updates ask for (prefetch) the row this many rows ahead. 8 against 4 and
    # 16 (text8like's first 5 M words, one epoch, alternating, 3 runs each, quiet machine):
    # 1 thread medians 3.54 / 4.04 / 3.95 s, 2 threads 4.31 / 5.12 / 4.84 s (2 epochs).
    ADAM_PREFETCH_AHEAD = 8


cdef inline bint trains_in_row(const ModelArrays* m, int32_t row) noexcept nogil:
    """Whether a W_in row may move: not frozen, not the padding row."""
    return row >= m.frozen_rows and row != m.padding_idx


cdef inline void add_grad(SparseGrad* g, int32_t row, real coefficient, const real* vector,
                          int dim) noexcept nogil:
    """Add coefficient * vector to the minibatch's gradient of `row`. The first touch
    writes the product into a fresh slot (no zeroing pass first: a third to two thirds of
    a minibatch's touches are first ones)."""
    cdef int64_t slot = g.slot_of_row[row]
    if slot >= 0:
        axpy(coefficient, vector, g.grad + slot * dim, dim)
        return
    slot = g.n_rows
    g.n_rows += 1
    g.slot_of_row[row] = <int32_t>slot
    g.rows[slot] = row
    scale_into(coefficient, vector, g.grad + slot * dim, dim)


cdef inline void update_output_row(const ModelArrays* m, WorkerScratch* w, int table,
                                   int32_t row, real coefficient, const real* vector,
                                   real lr) noexcept nogil:
    """An output row's gradient is coefficient * vector: SGD moves the row now, Adam
    adds the gradient to the minibatch's (hot rows are SGD's only)."""
    if m.optimizer == OPT_SGD:
        axpy(-lr * coefficient, vector, output_row(m, w, table, row), m.dim)
    else:
        add_grad(&w.grads[table], row, coefficient, vector, m.dim)


cdef inline void update_output_row_after_hidden_grad(const ModelArrays* m, WorkerScratch* w,
                                                    int table, int32_t row, real* out_row,
                                                    real dscore, const real* hidden,
                                                    real* hidden_grad, real lr) noexcept nogil:
    """An output row with d loss / d score `dscore` against one hidden vector: hidden_grad
    += dscore * the row as it was, then the row's update (update_output_row). SGD does
    both in one pass over the row (vector_math.output_step, the same FMAs as the two
    axpys: 1.04-1.08x CBOW's speed on one thread)."""
    if m.optimizer == OPT_SGD:
        output_step(dscore, out_row, hidden_grad, -lr * dscore, hidden, m.dim)
    else:
        axpy(dscore, out_row, hidden_grad, m.dim)
        add_grad(&w.grads[table], row, dscore, hidden, m.dim)


cdef inline void update_input_rows(const ModelArrays* m, WorkerScratch* w, const int32_t* rows,
                                   int n_rows, const real* hidden_grad, real lr) noexcept nogil:
    """Every input row of a group gets the group's d loss / d hidden (SGD: whole; Adam:
    divided by the group's size when the hidden vector is their mean)."""
    cdef int j
    cdef real scale
    if m.optimizer == OPT_SGD:      # the rows trains_in_row allows, as one axpy each
        axpy_rows(-lr, hidden_grad, m.tables[IN_TABLE].w, m.tables[IN_TABLE].stride, rows,
                  n_rows, m.dim, m.frozen_rows, m.padding_idx)
    else:
        scale = <real>1.0 / n_rows if m.mean_inputs else 1
        for j in range(n_rows):
            if trains_in_row(m, rows[j]):
                add_grad(&w.grads[IN_TABLE], rows[j], scale, hidden_grad, m.dim)


cdef inline void collect_input_grads(const ModelArrays* m, real* collected, int64_t stride,
                                     const int32_t* slots, int n_slots, int n_rows,
                                     const real* hidden_grad, real lr) noexcept nogil:
    """The context cache (context_cache.pxd): each of `slots` (rows of `collected`) adds
    what update_input_rows would give each input row of a group of n_rows rows: SGD the
    move -lr d loss / d hidden, Adam the gradient (divided by n_rows for a mean)."""
    cdef real alpha
    if m.optimizer == OPT_SGD:
        alpha = -lr
    else:
        alpha = <real>1.0 / n_rows if m.mean_inputs else 1
    axpy_rows(alpha, hidden_grad, collected, stride, slots, n_slots, m.dim, 0, -1)


cdef inline void apply_collected_grad(const ModelArrays* m, WorkerScratch* w, const int32_t* rows,
                                      int n_rows, const real* collected) noexcept nogil:
    """Give each of a word's input rows what its cache slot collected: SGD moves the rows
    (those trains_in_row allows), Adam adds it to the minibatch's gradient."""
    cdef int j
    if m.optimizer == OPT_SGD:
        axpy_rows(1, collected, m.tables[IN_TABLE].w, m.tables[IN_TABLE].stride, rows,
                  n_rows, m.dim, m.frozen_rows, m.padding_idx)
    else:
        for j in range(n_rows):
            if trains_in_row(m, rows[j]):
                add_grad(&w.grads[IN_TABLE], rows[j], 1, collected, m.dim)


cdef inline void adam_rows(SparseGrad* g, const Table* table, int dim, real grad_scale,
                           real beta1, real beta2, real eps, real step_size) noexcept nogil:
    """One Adam step on the rows of `table` the minibatch touched; clears `g`."""
    cdef int64_t s, offset
    cdef int i
    cdef real grad
    cdef real one_minus_beta1 = 1 - beta1, one_minus_beta2 = 1 - beta2
    cdef real* p
    cdef real* m1
    cdef real* m2
    cdef const real* gr
    for s in range(g.n_rows):
        if s + ADAM_PREFETCH_AHEAD < g.n_rows:   # rows a few ahead are cache misses: ask now
            offset = <int64_t>g.rows[s + ADAM_PREFETCH_AHEAD] * table.stride
            prefetch_row(table.w + offset, dim)
            prefetch_row(table.m1 + offset, dim)
            prefetch_row(table.m2 + offset, dim)
        offset = <int64_t>g.rows[s] * table.stride
        p = table.w + offset
        m1 = table.m1 + offset
        m2 = table.m2 + offset
        gr = g.grad + s * dim
        i = adam_row_simd(p, m1, m2, gr, dim, grad_scale, beta1, beta2, eps, step_size)
        for i in range(i, dim):      # what the SIMD path left (all of it without AVX-512)
            grad = gr[i] * grad_scale
            m1[i] = beta1 * m1[i] + one_minus_beta1 * grad
            m2[i] = beta2 * m2[i] + one_minus_beta2 * grad * grad
            p[i] -= step_size * m1[i] / (sqrtf(m2[i]) + eps)
        g.slot_of_row[g.rows[s]] = -1
    g.n_rows = 0


cdef inline void adam_apply_step(const ModelArrays* m, WorkerScratch* w, double lr,
                                 int64_t step) noexcept nogil:
    """One lazy Adam step (PyTorch SparseAdam's update) on the rows the minibatch touched."""
    if w.batch_count == 0:
        return
    cdef int t
    cdef double bias1 = 1 - pow(m.beta1, <double>step)
    cdef double bias2 = 1 - pow(m.beta2, <double>step)
    cdef real step_size = <real>(lr * sqrt(bias2) / bias1)
    cdef real grad_scale = <real>1.0 / w.batch_count
    for t in range(N_TABLES):
        if w.grads[t].n_rows:
            adam_rows(&w.grads[t], &m.tables[t], m.dim, grad_scale, <real>m.beta1,
                      <real>m.beta2, <real>m.eps, step_size)
    w.batch_count = 0
