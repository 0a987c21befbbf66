# Vector maths on float rows: plain loops that GCC vectorises (setup.py's flags allow the
# reassociation), prefetching, and nn.Embedding's max_norm renormalisation.
from libc.math cimport fabsf, fmaxf, isinf, powf, sqrtf
from libc.stdint cimport int32_t, int64_t

from w2v.core.structs cimport Table, real

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define w2v_prefetch(address) __builtin_prefetch((const void*)(address))
    #else
    #define w2v_prefetch(address) ((void)(address))
    #endif
    """
    void prefetch "w2v_prefetch"(const void* address) noexcept nogil


cdef inline real* row_of(const Table* table, int64_t row) noexcept nogil:
    """Where row `row` of a table starts."""
    return table.w + row * table.stride


cdef inline void prefetch_row(const real* row, int dim) noexcept nogil:
    """Ask for every cache line of a row (64 bytes = 16 floats a line)."""
    cdef int i
    for i in range(0, dim, 16):
        prefetch(row + i)


cdef inline void scale_into(real alpha, const real* x, real* y, int n) noexcept nogil:
    """y = alpha * x (a plain loop: GCC vectorises it)."""
    cdef int i
    for i in range(n):
        y[i] = alpha * x[i]


cdef extern from *:
    """
    /* dot and axpy on float rows, with the whole row in vector registers: GCC vectorises
       the plain loops but does a row's last dim % 16 floats (4 of 100) one at a time, a
       serial chain after the reduction that took about 7% of CBOW + HS's time. AVX-512
       masks the last block; AVX2 + FMA loads it with a mask too; without either the
       plain loops. The dot keeps two accumulators, so consecutive FMAs do not wait on
       each other. Summation order differs from the plain loop: float32 rounding. */
    #if defined(__AVX512F__)
    #include <immintrin.h>
    static inline __mmask16 w2v_tail_mask(int left) {
        return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
    }
    static inline float w2v_dot(const float* a, const float* b, int n) {
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        }
        for (; i < n; i += 16) {
            const __mmask16 lanes = w2v_tail_mask(n - i);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, a + i),
                                 _mm512_maskz_loadu_ps(lanes, b + i), s0);
        }
        return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    }
    static inline void w2v_axpy(float alpha, const float* x, float* y, int n) {
        const __m512 a = _mm512_set1_ps(alpha);
        int i = 0;
        for (; i < n; i += 16) {
            const __mmask16 lanes = w2v_tail_mask(n - i);
            _mm512_mask_storeu_ps(y + i, lanes,
                                  _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(lanes, x + i),
                                                  _mm512_maskz_loadu_ps(lanes, y + i)));
        }
    }
    /* One output row r with d loss / d score s and one hidden vector h, SGD: hidden_grad
       += s r with r as it was, then r += step h (step = -lr s). One pass: each block of
       r loaded once, both FMAs as axpy's, so the same results as axpy(s, r, hidden_grad)
       then axpy(step, h, r). */
    static inline void w2v_output_step(float s, float* r, float* hidden_grad, float step,
                                       const float* h, int dim) {
        const __m512 sv = _mm512_set1_ps(s), stepv = _mm512_set1_ps(step);
        for (int i = 0; i < dim; i += 16) {
            const __mmask16 lanes = w2v_tail_mask(dim - i);
            const __m512 row = _mm512_maskz_loadu_ps(lanes, r + i);
            _mm512_mask_storeu_ps(hidden_grad + i, lanes,
                                  _mm512_fmadd_ps(sv, row, _mm512_maskz_loadu_ps(lanes, hidden_grad + i)));
            _mm512_mask_storeu_ps(r + i, lanes,
                                  _mm512_fmadd_ps(stepv, _mm512_maskz_loadu_ps(lanes, h + i), row));
        }
    }
    /* One output row r scored against G hidden vectors h_g (rows of h, dim apart) with
       d loss / d score s_g: hidden_grad_g += s_g r for every g, and delta = sum_g s_g h_g.
       One pass over r, delta summed in a register: each block of r is loaded once and
       delta stored once. Sums in the order of g, as the loops of axpy they replace. */
    static inline void w2v_output_grads(const float* r, const float* s, int groups,
                                        const float* h, float* hidden_grad, float* delta,
                                        int dim) {
        for (int i = 0; i < dim; i += 16) {
            const __mmask16 lanes = w2v_tail_mask(dim - i);
            const __m512 row = _mm512_maskz_loadu_ps(lanes, r + i);
            __m512 acc = _mm512_setzero_ps();
            for (int g = 0; g < groups; g++) {
                const __m512 sg = _mm512_set1_ps(s[g]);
                float* hg = hidden_grad + (long)g * dim + i;
                _mm512_mask_storeu_ps(hg, lanes, _mm512_fmadd_ps(sg, row, _mm512_maskz_loadu_ps(lanes, hg)));
                acc = _mm512_fmadd_ps(sg, _mm512_maskz_loadu_ps(lanes, h + (long)g * dim + i), acc);
            }
            _mm512_mask_storeu_ps(delta + i, lanes, acc);
        }
    }
    /* out = the sum of n rows (row k at base + rows[k] * stride), summed in registers:
       128 floats (8 registers) at a time over all the rows, so each row block is loaded
       once and out stored once. The loop it replaces (out += row, row by row) loaded and
       stored out for every row; with subwords a CBOW window sums ~100 rows. Same order
       of additions per float: the same results. */
    static inline void w2v_sum_rows(const float* base, long long stride, const int* rows, int n,
                                    float* out, int dim) {
        for (int b = 0; b < dim; b += 128) {
            __mmask16 m[8];
            for (int v = 0; v < 8; v++)
                m[v] = dim - b - 16 * v > 0 ? w2v_tail_mask(dim - b - 16 * v) : 0;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                   a6 = a0, a7 = a0;
            for (int j = 0; j < n; j++) {
                const float* r = base + rows[j] * stride + b;
                a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m[0], r));
                a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m[1], r + 16));
                a2 = _mm512_add_ps(a2, _mm512_maskz_loadu_ps(m[2], r + 32));
                a3 = _mm512_add_ps(a3, _mm512_maskz_loadu_ps(m[3], r + 48));
                a4 = _mm512_add_ps(a4, _mm512_maskz_loadu_ps(m[4], r + 64));
                a5 = _mm512_add_ps(a5, _mm512_maskz_loadu_ps(m[5], r + 80));
                a6 = _mm512_add_ps(a6, _mm512_maskz_loadu_ps(m[6], r + 96));
                a7 = _mm512_add_ps(a7, _mm512_maskz_loadu_ps(m[7], r + 112));
            }
            _mm512_mask_storeu_ps(out + b, m[0], a0);
            _mm512_mask_storeu_ps(out + b + 16, m[1], a1);
            _mm512_mask_storeu_ps(out + b + 32, m[2], a2);
            _mm512_mask_storeu_ps(out + b + 48, m[3], a3);
            _mm512_mask_storeu_ps(out + b + 64, m[4], a4);
            _mm512_mask_storeu_ps(out + b + 80, m[5], a5);
            _mm512_mask_storeu_ps(out + b + 96, m[6], a6);
            _mm512_mask_storeu_ps(out + b + 112, m[7], a7);
        }
    }
    /* row += alpha * x for n rows (row k at base + rows[k] * stride) but the frozen ones
       (rows[k] < first_trained, or == skip_row): x is held in registers, 128 floats at a
       time, so each row block is loaded and stored once. Rows in order, each with one
       FMA per float as axpy: the same results as n calls of axpy. */
    static inline void w2v_axpy_rows(float alpha, const float* x, float* base, long long stride,
                                     const int* rows, int n, int dim, long long first_trained,
                                     long long skip_row) {
        const __m512 a = _mm512_set1_ps(alpha);
        for (int b = 0; b < dim; b += 128) {
            __mmask16 m[8];
            for (int v = 0; v < 8; v++)
                m[v] = dim - b - 16 * v > 0 ? w2v_tail_mask(dim - b - 16 * v) : 0;
            const __m512 x0 = _mm512_maskz_loadu_ps(m[0], x + b),
                         x1 = _mm512_maskz_loadu_ps(m[1], x + b + 16),
                         x2 = _mm512_maskz_loadu_ps(m[2], x + b + 32),
                         x3 = _mm512_maskz_loadu_ps(m[3], x + b + 48),
                         x4 = _mm512_maskz_loadu_ps(m[4], x + b + 64),
                         x5 = _mm512_maskz_loadu_ps(m[5], x + b + 80),
                         x6 = _mm512_maskz_loadu_ps(m[6], x + b + 96),
                         x7 = _mm512_maskz_loadu_ps(m[7], x + b + 112);
            for (int j = 0; j < n; j++) {
                if (rows[j] < first_trained || rows[j] == skip_row) continue;
                float* r = base + rows[j] * stride + b;
    #define W2V_ROW_FMA(v, xv) _mm512_mask_storeu_ps(r + 16 * v, m[v], \
                _mm512_fmadd_ps(a, xv, _mm512_maskz_loadu_ps(m[v], r + 16 * v)))
                W2V_ROW_FMA(0, x0); W2V_ROW_FMA(1, x1); W2V_ROW_FMA(2, x2); W2V_ROW_FMA(3, x3);
                W2V_ROW_FMA(4, x4); W2V_ROW_FMA(5, x5); W2V_ROW_FMA(6, x6); W2V_ROW_FMA(7, x7);
    #undef W2V_ROW_FMA
            }
        }
    }
    #elif defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    static inline __m256i w2v_tail_mask(int left) {
        /* lane k on (all bits set) where k < left */
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static inline float w2v_dot(const float* a, const float* b, int n) {
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        int i = 0;
        for (; i + 16 <= n; i += 16) {
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        }
        for (; i < n; i += 8) {
            const __m256i lanes = w2v_tail_mask(n - i);
            s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, lanes),
                                 _mm256_maskload_ps(b + i, lanes), s0);
        }
        s0 = _mm256_add_ps(s0, s1);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_movehdup_ps(h));
        return _mm_cvtss_f32(h);
    }
    static inline void w2v_axpy(float alpha, const float* x, float* y, int n) {
        const __m256 a = _mm256_set1_ps(alpha);
        int i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        if (i < n) {
            const __m256i lanes = w2v_tail_mask(n - i);
            _mm256_maskstore_ps(y + i, lanes,
                                _mm256_fmadd_ps(a, _mm256_maskload_ps(x + i, lanes),
                                                _mm256_maskload_ps(y + i, lanes)));
        }
    }
    static inline void w2v_output_step(float s, float* r, float* hidden_grad, float step,
                                       const float* h, int dim) {
        const __m256 sv = _mm256_set1_ps(s), stepv = _mm256_set1_ps(step);
        int i = 0;
        for (; i + 8 <= dim; i += 8) {
            const __m256 row = _mm256_loadu_ps(r + i);
            _mm256_storeu_ps(hidden_grad + i, _mm256_fmadd_ps(sv, row, _mm256_loadu_ps(hidden_grad + i)));
            _mm256_storeu_ps(r + i, _mm256_fmadd_ps(stepv, _mm256_loadu_ps(h + i), row));
        }
        if (i < dim) {
            const __m256i lanes = w2v_tail_mask(dim - i);
            const __m256 row = _mm256_maskload_ps(r + i, lanes);
            _mm256_maskstore_ps(hidden_grad + i, lanes,
                                _mm256_fmadd_ps(sv, row, _mm256_maskload_ps(hidden_grad + i, lanes)));
            _mm256_maskstore_ps(r + i, lanes, _mm256_fmadd_ps(stepv, _mm256_maskload_ps(h + i, lanes), row));
        }
    }
    static inline void w2v_output_grads(const float* r, const float* s, int groups,
                                        const float* h, float* hidden_grad, float* delta,
                                        int dim) {
        for (int i = 0; i < dim; i += 8) {
            const __m256i lanes = w2v_tail_mask(dim - i);
            const __m256 row = _mm256_maskload_ps(r + i, lanes);
            __m256 acc = _mm256_setzero_ps();
            for (int g = 0; g < groups; g++) {
                const __m256 sg = _mm256_set1_ps(s[g]);
                float* hg = hidden_grad + (long)g * dim + i;
                _mm256_maskstore_ps(hg, lanes, _mm256_fmadd_ps(sg, row, _mm256_maskload_ps(hg, lanes)));
                acc = _mm256_fmadd_ps(sg, _mm256_maskload_ps(h + (long)g * dim + i, lanes), acc);
            }
            _mm256_maskstore_ps(delta + i, lanes, acc);
        }
    }
    static inline void w2v_sum_rows(const float* base, long long stride, const int* rows, int n,
                                    float* out, int dim) {   /* 64 floats at a time */
        for (int b = 0; b < dim; b += 64) {
            __m256i m[8];
            for (int v = 0; v < 8; v++) m[v] = w2v_tail_mask(dim - b - 8 * v);
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                   a6 = a0, a7 = a0;
            for (int j = 0; j < n; j++) {
                const float* r = base + rows[j] * stride + b;
                a0 = _mm256_add_ps(a0, _mm256_maskload_ps(r, m[0]));
                a1 = _mm256_add_ps(a1, _mm256_maskload_ps(r + 8, m[1]));
                a2 = _mm256_add_ps(a2, _mm256_maskload_ps(r + 16, m[2]));
                a3 = _mm256_add_ps(a3, _mm256_maskload_ps(r + 24, m[3]));
                a4 = _mm256_add_ps(a4, _mm256_maskload_ps(r + 32, m[4]));
                a5 = _mm256_add_ps(a5, _mm256_maskload_ps(r + 40, m[5]));
                a6 = _mm256_add_ps(a6, _mm256_maskload_ps(r + 48, m[6]));
                a7 = _mm256_add_ps(a7, _mm256_maskload_ps(r + 56, m[7]));
            }
            _mm256_maskstore_ps(out + b, m[0], a0);
            _mm256_maskstore_ps(out + b + 8, m[1], a1);
            _mm256_maskstore_ps(out + b + 16, m[2], a2);
            _mm256_maskstore_ps(out + b + 24, m[3], a3);
            _mm256_maskstore_ps(out + b + 32, m[4], a4);
            _mm256_maskstore_ps(out + b + 40, m[5], a5);
            _mm256_maskstore_ps(out + b + 48, m[6], a6);
            _mm256_maskstore_ps(out + b + 56, m[7], a7);
        }
    }
    static inline void w2v_axpy_rows(float alpha, const float* x, float* base, long long stride,
                                     const int* rows, int n, int dim, long long first_trained,
                                     long long skip_row) {   /* 64 floats at a time */
        const __m256 a = _mm256_set1_ps(alpha);
        for (int b = 0; b < dim; b += 64) {
            __m256i m[8];
            __m256 xv[8];
            for (int v = 0; v < 8; v++) {
                m[v] = w2v_tail_mask(dim - b - 8 * v);
                xv[v] = _mm256_maskload_ps(x + b + 8 * v, m[v]);
            }
            for (int j = 0; j < n; j++) {
                if (rows[j] < first_trained || rows[j] == skip_row) continue;
                float* r = base + rows[j] * stride + b;
                for (int v = 0; v < 8; v++)
                    _mm256_maskstore_ps(r + 8 * v, m[v],
                                        _mm256_fmadd_ps(a, xv[v], _mm256_maskload_ps(r + 8 * v, m[v])));
            }
        }
    }
    #else
    static inline float w2v_dot(const float* a, const float* b, int n) {
        float total = 0;
        for (int i = 0; i < n; i++) total += a[i] * b[i];
        return total;
    }
    static inline void w2v_axpy(float alpha, const float* x, float* y, int n) {
        for (int i = 0; i < n; i++) y[i] += alpha * x[i];
    }
    static inline void w2v_axpy_rows(float alpha, const float* x, float* base, long long stride,
                                     const int* rows, int n, int dim, long long first_trained,
                                     long long skip_row) {
        for (int j = 0; j < n; j++) {
            if (rows[j] < first_trained || rows[j] == skip_row) continue;
            w2v_axpy(alpha, x, base + rows[j] * stride, dim);
        }
    }
    static inline void w2v_sum_rows(const float* base, long long stride, const int* rows, int n,
                                    float* out, int dim) {
        for (int i = 0; i < dim; i++) out[i] = 0;
        for (int j = 0; j < n; j++) {
            const float* r = base + rows[j] * stride;
            for (int i = 0; i < dim; i++) out[i] += r[i];
        }
    }
    static inline void w2v_output_step(float s, float* r, float* hidden_grad, float step,
                                       const float* h, int dim) {
        w2v_axpy(s, r, hidden_grad, dim);
        w2v_axpy(step, h, r, dim);
    }
    static inline void w2v_output_grads(const float* r, const float* s, int groups,
                                        const float* h, float* hidden_grad, float* delta,
                                        int dim) {
        for (int i = 0; i < dim; i++) delta[i] = 0;
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < dim; i++) {
                hidden_grad[(long)g * dim + i] += s[g] * r[i];
                delta[i] += s[g] * h[(long)g * dim + i];
            }
        }
    }
    #endif
    """
    real dot "w2v_dot"(const real* a, const real* b, int n) noexcept nogil
    void axpy "w2v_axpy"(real alpha, const real* x, real* y, int n) noexcept nogil   # y += alpha * x
    void axpy_rows "w2v_axpy_rows"(real alpha, const real* x, real* base, int64_t stride,
                                   const int32_t* rows, int n, int dim, int64_t first_trained,
                                   int64_t skip_row) noexcept nogil  # each row += alpha * x
    void sum_rows "w2v_sum_rows"(const real* base, int64_t stride, const int32_t* rows, int n,
                                 real* out, int dim) noexcept nogil   # out = sum of the rows
    void output_grads "w2v_output_grads"(const real* row, const real* scores, int groups,
                                         const real* hidden, real* hidden_grad, real* delta,
                                         int dim) noexcept nogil
    # SGD on one output row: hidden_grad += s * row, then row += step * hidden
    void output_step "w2v_output_step"(real s, real* row, real* hidden_grad, real step,
                                       const real* hidden, int dim) noexcept nogil


cdef extern from *:
    """
    /* exp(x) for x <= 0, inline. The losses need exp(-|z|) once an output; glibc's expf
       is a call through the PLT that makes GCC spill the loop's registers around it (8%
       of CBOW + HS's time). x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two so that
       n ln2 is exact), exp(r) by its Taylor series to r^7 (truncation below 6e-9
       relative, under float32's half ulp), times 2^n built from the exponent bits, in two
       halves so that results below 2^-126 come out subnormal as expf's do. Within 2 ulp
       of the exact value (tests/test_kernels.py checks a dense grid against NumPy). */
    #include <math.h>
    #include <stdint.h>
    #include <string.h>
    #if defined(__FMA__) || defined(__aarch64__)
    #define W2V_FMAF(a, b, c) __builtin_fmaf(a, b, c)
    #else       /* no FMA instruction: fmaf would be a slow library call */
    #define W2V_FMAF(a, b, c) ((a) * (b) + (c))
    #endif
    static inline float w2v_pow2i(int k) {          /* 2^k for -126 <= k <= 127 */
        uint32_t bits = (uint32_t)(k + 127) << 23;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    static inline float w2v_exp_nonpositive(float x) {
        if (!(x > -104.0f)) return x != x ? x : 0.0f;    /* NaN stays NaN; below: 0 */
        const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
        /* n = x / ln2 rounded to nearest: x <= 0, so truncating x / ln2 - 0.5 does it
           (one rounding, as the vector form below computes it) */
        int k = (int)W2V_FMAF(x, 1.4426950408889634f, -0.5f);
        float n = (float)k;
    #if defined(__FMA__) || defined(__aarch64__)
        float r = W2V_FMAF(-n, ln2_hi, x);
        r = W2V_FMAF(-n, ln2_lo, r);
    #else   /* in double: -fassociative-math could merge the two steps of the split */
        float r = (float)((double)x - (double)n * 0.6931471805599453);
    #endif
        float p = 1.0f / 5040;
        p = W2V_FMAF(p, r, 1.0f / 720);
        p = W2V_FMAF(p, r, 1.0f / 120);
        p = W2V_FMAF(p, r, 1.0f / 24);
        p = W2V_FMAF(p, r, 1.0f / 6);
        p = W2V_FMAF(p, r, 0.5f);
        p = W2V_FMAF(p, r, 1.0f);
        p = W2V_FMAF(p, r, 1.0f);
        int half = k / 2;
        return p * w2v_pow2i(half) * w2v_pow2i(k - half);
    }

    /* The logistic loss's gradients of n outputs at once: z[i] is output i's score
       signed by its label (score if the label is 1, else -score); z[i] becomes
       sigmoid(-z[i]) = -d loss / d z[i], and the loss, log(1 + exp(-|z|)) + max(-z, 0)
       summed, is added to *excess and *linear as losses.output_dscore adds one output's
       (the product of the (1 + exp(-|z|)) minus 1, in double; the max(-z, 0) summed).
       With AVX-512 16 outputs a pass: the exp, the quotient and the loss terms of one
       output do not wait on the previous output's, as they did one at a time (a scalar
       exp, a division and a chain of double additions per output: 10-15% of skip-gram's
       time). The same operations per output as w2v_exp_nonpositive and output_dscore,
       so the same gradients; the loss is summed in another order. */
    #define W2V_LOSS_FLUSH 1e200        /* move the product into the log before it nears overflow */
    static inline void w2v_add_excess(double* excess, double* linear, double e) {
        if (*excess > W2V_LOSS_FLUSH) {
            *linear += log1p(*excess);
            *excess = 0;
        }
        *excess += e + *excess * e;
    }
    #if defined(__AVX512F__)
    static inline __m512 w2v_exp_nonpositive16(__m512 x) {
        const __mmask16 valid = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_GT_OQ);
        const __m512 xs = _mm512_maskz_mov_ps(valid, x);
        const __m512i k = _mm512_cvttps_epi32(
            _mm512_fmsub_ps(xs, _mm512_set1_ps(1.4426950408889634f), _mm512_set1_ps(0.5f)));
        const __m512 n = _mm512_cvtepi32_ps(k);
        __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xs);
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
        __m512 p = _mm512_set1_ps(1.0f / 5040);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
        /* k / 2 rounded toward zero, as C's division */
        const __m512i half = _mm512_srai_epi32(_mm512_add_epi32(k, _mm512_srli_epi32(k, 31)), 1);
        const __m512i bias = _mm512_set1_epi32(127);
        const __m512 a = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, bias), 23));
        const __m512 b = _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(k, half), bias), 23));
        const __m512 e = _mm512_mul_ps(_mm512_mul_ps(p, a), b);
        /* below -104: 0; NaN stays NaN */
        const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        return _mm512_mask_mov_ps(_mm512_maskz_mov_ps(nan, x), valid, e);
    }
    static inline void w2v_logistic_grads(float* z, int n, double* excess, double* linear) {
        const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
        const __m512 sign = _mm512_set1_ps(-0.0f);
        for (int chunk = 0; chunk < n; chunk += 256) {   /* a lane's product stays below 2^16 */
            const int end = n - chunk < 256 ? n : chunk + 256;
            __m512d ex0 = _mm512_setzero_pd(), ex1 = ex0, lin = ex0;
            for (int i = chunk; i < end; i += 16) {
                const __mmask16 lanes = w2v_tail_mask(end - i);
                const __m512 zv = _mm512_maskz_loadu_ps(lanes, z + i);
                const __m512 e = _mm512_maskz_mov_ps(lanes,
                    w2v_exp_nonpositive16(_mm512_or_ps(zv, sign)));       /* exp(-|z|) */
                const __mmask16 nonneg = _mm512_cmp_ps_mask(zv, zero, _CMP_GE_OQ);
                const __m512 num = _mm512_mask_mov_ps(one, nonneg, e);
                _mm512_mask_storeu_ps(z + i, lanes, _mm512_div_ps(num, _mm512_add_ps(one, e)));
                const __m512d e0 = _mm512_cvtps_pd(_mm512_castps512_ps256(e));
                const __m512d e1 = _mm512_cvtps_pd(_mm256_castpd_ps(
                    _mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)));
                ex0 = _mm512_fmadd_pd(ex0, e0, _mm512_add_pd(ex0, e0));
                ex1 = _mm512_fmadd_pd(ex1, e1, _mm512_add_pd(ex1, e1));
                /* max(-z, 0) where z < 0 */
                const __mmask16 negz = _mm512_mask_cmp_ps_mask(lanes, zv, zero, _CMP_LT_OQ);
                const __m512 minus = _mm512_maskz_sub_ps(negz, zero, zv);
                lin = _mm512_add_pd(lin, _mm512_add_pd(
                    _mm512_cvtps_pd(_mm512_castps512_ps256(minus)),
                    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(minus), 1)))));
            }
            double lane[16];
            _mm512_storeu_pd(lane, ex0);
            _mm512_storeu_pd(lane + 8, ex1);
            /* the lanes' products, multiplied pairwise, then into *excess */
            for (int width = 8; width >= 1; width /= 2)
                for (int j = 0; j < width; j++)
                    lane[j] += lane[j + width] + lane[j] * lane[j + width];
            w2v_add_excess(excess, linear, lane[0]);
            *linear += _mm512_reduce_add_pd(lin);
        }
    }
    #else
    static inline void w2v_logistic_grads(float* z, int n, double* excess, double* linear) {
        for (int i = 0; i < n; i++) {
            const float e = w2v_exp_nonpositive(z[i] >= 0 ? -z[i] : z[i]);
            if (z[i] < 0) *linear -= z[i];
            z[i] = (z[i] >= 0 ? e : 1.0f) / (1.0f + e);
            w2v_add_excess(excess, linear, e);
        }
    }
    #endif
    """
    real exp_nonpositive "w2v_exp_nonpositive"(real x) noexcept nogil
    void logistic_grads "w2v_logistic_grads"(real* z, int n, double* excess,
                                             double* linear) noexcept nogil


cdef inline void renorm_row(real* row, int dim, real max_norm, real norm_type) noexcept nogil:
    """Rescale `row` to p-norm max_norm if it is longer, as torch's embedding_renorm_."""
    cdef int i
    cdef real norm = 0
    if norm_type == 2:
        norm = sqrtf(dot(row, row, dim))
    elif norm_type == 1:
        for i in range(dim):
            norm += fabsf(row[i])
    elif isinf(norm_type):
        for i in range(dim):
            norm = fmaxf(norm, fabsf(row[i]))
    else:
        for i in range(dim):
            norm += powf(fabsf(row[i]), norm_type)
        norm = powf(norm, 1 / norm_type)
    if norm > max_norm:
        norm = max_norm / (norm + <real>1e-7)
        for i in range(dim):
            row[i] *= norm
