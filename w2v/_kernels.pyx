# The CBOW + negative-sampling core. See _kernels.pxd for the structs and kernels.
#
# Maths of one window (position i, context rows c_1..c_n of W_in, outputs o_0 (the
# target, label 1) and o_1..o_k (negatives, label 0) of W_out):
#   h      = mean_j W_in[c_j]            (sum when cbow_mean is False)
#   s_t    = h . W_out[o_t]
#   loss   = -log sigmoid(s_0) - sum_{t>=1} log sigmoid(-s_t)
#   dL/ds_t = sigmoid(s_t) - label_t
#   dL/dW_out[o_t] = dL/ds_t * h,   dL/dh = sum_t dL/ds_t * W_out[o_t]
#   dL/dW_in[c_j]  = dL/dh / n       (times 1 when cbow_mean is False)
# Adam uses exactly these gradients (what autograd in PyTorch would give), summed over
# a minibatch of windows, divided by its size, one step per touched row.
# SGD follows word2vec.c and fastText instead: the output rows are updated one after
# the other, and every context row gets the whole error dL/dh, not dL/dh / n (with
# cbow_mean, n times the gradient). On text8like (5 epochs) that is worth 7 points of
# analogy accuracy for SGD: 34.1% against 26.9%, WS353 0.643 against 0.575. For Adam,
# which rescales every row itself, it is no better (33.3% / 0.621 against 32.4% / 0.663).
#
# Saturated scores: the sigmoid and the loss are computed exactly (expf, and one log1p
# per window in double, in a form that cannot overflow), so there is no clamp and no
# skip: a score of +-100 gives a gradient of (almost) 0 and a finite loss.
cimport cython
from libc.math cimport expf, fabsf, fmaxf, isinf, log1p, powf, sqrtf, pow, sqrt
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

import numpy as np

from w2v._random cimport next_below, next_float, next_u64, seed_state

cdef extern from *:
    """
    #ifndef W2V_DEBUG_CHECKS
    #define W2V_DEBUG_CHECKS 0
    #endif
    """
    const int W2V_DEBUG_CHECKS

DEBUG_CHECKS = bool(W2V_DEBUG_CHECKS)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define w2v_prefetch(address) __builtin_prefetch((const void*)(address))
    #else
    #define w2v_prefetch(address) ((void)(address))
    #endif
    """
    void prefetch "w2v_prefetch"(const void* address) noexcept nogil

cdef extern from *:
    """
    /* Adam's row update, 16 floats at a time with AVX-512. sqrt and division are the
       slow part of Adam (about 22 cycles per 16 floats); here 1/sqrt(v) and 1/(.+eps)
       come from the 14-bit hardware estimates refined by one Newton step each (relative
       error about 1e-7, float32 rounding). v == 0 is handled exactly. The last block of
       a row whose length is not a multiple of 16 is masked, so it does the whole row and
       returns n; without AVX-512 it returns 0 and the caller does the row with the plain
       formula. */
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
    # Adam's row updates ask for (prefetch) the row this many rows ahead
    ADAM_PREFETCH_AHEAD = 4


# --------------------------------------------------------------------- vector maths
cdef inline void prefetch_row(const real* row, int dim) noexcept nogil:
    """Ask for every cache line of a row (64 bytes = 16 floats a line)."""
    cdef int i
    for i in range(0, dim, 16):
        prefetch(row + i)


cdef real dot(const real* a, const real* b, int n) noexcept nogil:
    cdef int i
    cdef real total = 0
    for i in range(n):
        total += a[i] * b[i]
    return total


cdef void axpy(real alpha, const real* x, real* y, int n) noexcept nogil:
    cdef int i
    for i in range(n):
        y[i] += alpha * x[i]


cdef inline real output_dscore(real score, bint positive, WindowLoss* loss) noexcept nogil:
    """d loss / d score of one output (label 1 if positive), its loss added to `loss`.

    The loss of an output is softplus(-z) = log(1 + exp(-|z|)) + max(-z, 0) with z the
    score signed by the label. A window's outputs share one logarithm: `loss` keeps the
    product of their (1 + exp(-|z|)) as the excess over 1, in double, so that tiny
    terms are not lost to rounding, and log1p of it is taken once per window."""
    cdef real z = score if positive else -score
    cdef real e = expf(-z if z >= 0 else z)              # exp(-|z|), in (0, 1]
    # d softplus(-z) / dz = -sigmoid(-z), computed without cancellation in both tails
    cdef real one = 1                                    # keeps the arithmetic in float
    cdef real sigmoid_minus_z = e / (one + e) if z >= 0 else one / (one + e)
    loss.excess += e + loss.excess * e                   # (1 + x)(1 + e) = 1 + (x + e + xe)
    if z < 0:
        loss.linear -= z
    if loss.excess > 1e300:                              # only with thousands of negatives
        loss.linear += log1p(loss.excess)
        loss.excess = 0
    return -sigmoid_minus_z if positive else sigmoid_minus_z


cdef inline double window_loss(const WindowLoss* loss) noexcept nogil:
    return log1p(loss.excess) + loss.linear


cdef double loss_and_dscore(real score, bint positive, real* dscore) noexcept nogil:
    """Loss -log sigmoid(+-score) of one output, and its derivative in `score`."""
    cdef WindowLoss loss
    loss.excess = 0
    loss.linear = 0
    dscore[0] = output_dscore(score, positive, &loss)
    return window_loss(&loss)


cdef int32_t draw_negative(const AliasEntry* table, int64_t size, uint64_t* rng) noexcept nogil:
    """One draw from the alias table: one 64-bit random number, one table entry."""
    cdef uint64_t r = next_u64(rng)
    cdef int64_t slot = <int64_t>(((r >> 32) * <uint64_t>size) >> 32)
    cdef float coin = <float>(r & 0xFFFFFF) * (1.0 / 16777216.0)
    if coin < table[slot].prob:
        return <int32_t>slot
    return table[slot].alias


# ----------------------------------------------------------------------- one window
cdef void renorm_row(real* row, int dim, real max_norm, real norm_type) noexcept nogil:
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


cdef inline bint trains_in_row(const ModelArrays* m, int32_t row) noexcept nogil:
    return m.update_in and row != m.padding_idx


cdef int cbow_hidden(const ModelArrays* m, WorkerScratch* w,
                     const int32_t* context, int n_context) noexcept nogil:
    cdef int j, i, dim = m.dim
    cdef const real* row
    if m.max_norm > 0:              # nn.Embedding(max_norm=...): renormalised on lookup
        for j in range(n_context):
            renorm_row(m.w_in + <int64_t>context[j] * dim, dim, m.max_norm, m.norm_type)
    memset(w.hidden, 0, dim * sizeof(real))
    for j in range(n_context):
        row = m.w_in + <int64_t>context[j] * dim
        for i in range(dim):
            w.hidden[i] += row[i]
    if m.cbow_mean and n_context > 1:
        for i in range(dim):
            w.hidden[i] /= n_context
    return n_context


cdef double sgd_window(const ModelArrays* m, WorkerScratch* w, const int32_t* context,
                       int n_context, const int32_t* outputs, int n_outputs,
                       real lr) noexcept nogil:
    cdef int t, j, dim = m.dim
    cdef real dscore
    cdef real* out_row
    cdef WindowLoss loss
    loss.excess = 0
    loss.linear = 0
    cbow_hidden(m, w, context, n_context)
    memset(w.hidden_grad, 0, dim * sizeof(real))
    for t in range(n_outputs):
        out_row = m.w_out + <int64_t>outputs[t] * dim
        dscore = output_dscore(dot(w.hidden, out_row, dim), t == 0, &loss)
        axpy(dscore, out_row, w.hidden_grad, dim)      # before the row moves
        axpy(-lr * dscore, w.hidden, out_row, dim)
    for j in range(n_context):       # the whole error to every context row (word2vec.c)
        if trains_in_row(m, context[j]):
            axpy(-lr, w.hidden_grad, m.w_in + <int64_t>context[j] * dim, dim)
    return window_loss(&loss)


cdef inline real* grad_row(SparseGrad* g, int32_t row, int dim) noexcept nogil:
    """The gradient accumulator of `row`, zeroed the first time the minibatch touches it."""
    cdef int64_t slot = g.slot_of_row[row]
    if slot < 0:
        slot = g.n_rows
        g.n_rows += 1
        g.slot_of_row[row] = <int32_t>slot
        g.rows[slot] = row
        memset(g.grad + slot * dim, 0, dim * sizeof(real))
    return g.grad + slot * dim


cdef double adam_accumulate_window(const ModelArrays* m, WorkerScratch* w,
                                   const int32_t* context, int n_context,
                                   const int32_t* outputs, int n_outputs) noexcept nogil:
    cdef int t, j, dim = m.dim
    cdef real dscore, scale
    cdef const real* out_row
    cdef WindowLoss loss
    loss.excess = 0
    loss.linear = 0
    cbow_hidden(m, w, context, n_context)
    memset(w.hidden_grad, 0, dim * sizeof(real))
    for t in range(n_outputs):
        out_row = m.w_out + <int64_t>outputs[t] * dim
        dscore = output_dscore(dot(w.hidden, out_row, dim), t == 0, &loss)
        axpy(dscore, out_row, w.hidden_grad, dim)
        axpy(dscore, w.hidden, grad_row(&w.grad_out, outputs[t], dim), dim)
    scale = <real>1.0 / n_context if m.cbow_mean else 1
    for j in range(n_context):
        if trains_in_row(m, context[j]):
            axpy(scale, w.hidden_grad, grad_row(&w.grad_in, context[j], dim), dim)
    w.batch_count += 1
    return window_loss(&loss)


cdef void adam_rows(SparseGrad* g, real* param, real* moment1, real* moment2, int dim,
                    real grad_scale, real beta1, real beta2, real eps,
                    real step_size) noexcept nogil:
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
            offset = <int64_t>g.rows[s + ADAM_PREFETCH_AHEAD] * dim
            prefetch_row(param + offset, dim)
            prefetch_row(moment1 + offset, dim)
            prefetch_row(moment2 + offset, dim)
        offset = <int64_t>g.rows[s] * dim
        p = param + offset
        m1 = moment1 + offset
        m2 = moment2 + offset
        gr = g.grad + s * dim
        i = adam_row_simd(p, m1, m2, gr, dim, grad_scale, beta1, beta2, eps, step_size)
        for i in range(i, dim):      # what the SIMD path left (all of it without AVX-512)
            grad = gr[i] * grad_scale
            m1[i] = beta1 * m1[i] + one_minus_beta1 * grad
            m2[i] = beta2 * m2[i] + one_minus_beta2 * grad * grad
            p[i] -= step_size * m1[i] / (sqrtf(m2[i]) + eps)
        g.slot_of_row[g.rows[s]] = -1
    g.n_rows = 0


cdef void adam_apply_step(const ModelArrays* m, WorkerScratch* w, double lr,
                          int64_t step) noexcept nogil:
    """One lazy Adam step (PyTorch SparseAdam's update) on the rows the minibatch touched."""
    if w.batch_count == 0:
        return
    cdef double bias1 = 1 - pow(m.beta1, <double>step)
    cdef double bias2 = 1 - pow(m.beta2, <double>step)
    cdef real step_size = <real>(lr * sqrt(bias2) / bias1)
    cdef real grad_scale = <real>1.0 / w.batch_count
    adam_rows(&w.grad_in, m.w_in, m.m_in, m.v_in, m.dim, grad_scale,
              <real>m.beta1, <real>m.beta2, <real>m.eps, step_size)
    adam_rows(&w.grad_out, m.w_out, m.m_out, m.v_out, m.dim, grad_scale,
              <real>m.beta1, <real>m.beta2, <real>m.eps, step_size)
    w.batch_count = 0


# ----------------------------------------------------------------------- a chunk
cdef int64_t subsample(const ModelArrays* m, WorkerScratch* w, const int32_t* ids,
                       int64_t n) noexcept nogil:
    """Copy the words of a sentence that survive subsampling into w.sentence.

    Fresh draws on every call, so every epoch sees a different subsample. Returns how
    many were kept, or -1 (with w.bad_row set) for an out-of-range id in debug builds.
    """
    cdef int64_t p, kept = 0
    cdef int32_t word
    cdef float keep
    for p in range(n):
        word = ids[p]
        if W2V_DEBUG_CHECKS and (word < 0 or word >= m.vocab_size):
            w.bad_row = word
            return -1
        keep = m.keep_prob[word]
        if keep < 1 and next_float(&w.rng) >= keep:
            continue
        w.sentence[kept] = word
        kept += 1
    return kept


cdef ChunkResult train_sentences(const ModelArrays* m, WorkerScratch* w,
                                 const int32_t* ids, const int64_t* sentence_starts,
                                 int64_t first_sentence, int64_t end_sentence,
                                 double lr_start, double lr_end, int64_t step0) noexcept nogil:
    cdef ChunkResult result
    cdef int64_t s, begin, end, words_before = 0
    cdef int64_t total_words = sentence_starts[end_sentence] - sentence_starts[first_sentence]
    cdef int64_t step = step0
    cdef int n, i, j, lo, hi, reach, n_context, n_outputs, d
    cdef int32_t target, negative_word
    cdef double lr
    result.words = total_words
    result.windows = 0
    result.loss = 0
    result.steps = 0
    for s in range(first_sentence, end_sentence):
        begin = sentence_starts[s]
        end = sentence_starts[s + 1]
        n = <int>subsample(m, w, ids + begin, end - begin)
        if n < 0:
            return result
        for i in range(n):
            lr = lr_start + (lr_end - lr_start) * (
                (words_before + (end - begin) * (<double>i / n)) / total_words)
            reach = m.window
            if m.shrink_windows:
                reach -= <int>next_below(&w.rng, m.window)        # 1 .. window
            lo = i - reach if i >= reach else 0
            hi = i + reach + 1 if i + reach + 1 <= n else n
            n_context = 0
            for j in range(lo, hi):
                if j != i:
                    w.context[n_context] = w.sentence[j]
                    n_context += 1
            if n_context == 0:
                continue
            target = w.sentence[i]
            w.outputs[0] = target
            prefetch_row(m.w_out + <int64_t>target * m.dim, m.dim)
            if i + m.window + 1 < n:       # the word the next windows will reach
                prefetch_row(m.w_in + <int64_t>w.sentence[i + m.window + 1] * m.dim, m.dim)
            n_outputs = 1
            for d in range(m.negative):
                negative_word = draw_negative(m.negatives, m.vocab_size, &w.rng)
                if W2V_DEBUG_CHECKS and (negative_word < 0 or negative_word >= m.vocab_size):
                    w.bad_row = negative_word
                    return result
                if negative_word != target:    # as word2vec: a draw of the target is skipped
                    w.outputs[n_outputs] = negative_word
                    n_outputs += 1
                    # a random row, likely not in cache: start loading it while the
                    # other draws and the context sum are computed
                    prefetch_row(m.w_out + <int64_t>negative_word * m.dim, m.dim)
            if m.optimizer == OPT_SGD:
                result.loss += sgd_window(m, w, w.context, n_context, w.outputs, n_outputs, <real>lr)
            else:
                result.loss += adam_accumulate_window(m, w, w.context, n_context, w.outputs, n_outputs)
                if w.batch_count >= m.batch_windows:
                    step += 1
                    adam_apply_step(m, w, lr, step)
            result.windows += 1
        words_before += end - begin
    if m.optimizer == OPT_ADAM and w.batch_count > 0:
        step += 1
        adam_apply_step(m, w, lr_end, step)
    result.steps = step - step0
    return result


# ------------------------------------------------------------ Python-facing objects
cdef class TrainingArrays:
    """The shared arrays one training run reads and updates, as the kernels see them.

    Holds references to every numpy array so the raw pointers stay valid.
    """
    cdef ModelArrays arrays
    cdef AliasEntry* alias_table
    cdef const int32_t* ids
    cdef const int64_t* sentence_starts
    cdef readonly int64_t n_sentences
    cdef readonly int64_t max_sentence_length
    cdef object _keep_alive

    def __cinit__(self, float[:, ::1] w_in not None, float[:, ::1] w_out not None,
                  moments, const float[::1] keep_prob not None,
                  const float[::1] alias_prob not None, const int32_t[::1] alias_index not None,
                  const int32_t[::1] ids not None, const int64_t[::1] sentence_starts not None,
                  int window, int negative, bint cbow_mean, str optimizer,
                  double beta1=0.9, double beta2=0.999, double eps=1e-8, int batch_windows=1,
                  bint shrink_windows=True, bint freeze=False, int64_t padding_idx=-1,
                  double max_norm=0, double norm_type=2):
        cdef int64_t vocab_size = w_in.shape[0], i
        cdef float[:, ::1] m_in, v_in, m_out, v_out
        if w_out.shape[0] != vocab_size or w_out.shape[1] != w_in.shape[1]:
            raise ValueError("w_in and w_out must have the same shape")
        if not (keep_prob.shape[0] == alias_prob.shape[0] == alias_index.shape[0] == vocab_size):
            raise ValueError("keep_prob and the alias table need one entry per word")
        if vocab_size < 1 or vocab_size >= 2**31:
            raise ValueError(f"vocabulary size {vocab_size} out of range [1, 2**31)")
        if sentence_starts.shape[0] < 1 or sentence_starts[0] != 0 \
                or sentence_starts[sentence_starts.shape[0] - 1] != ids.shape[0]:
            raise ValueError("sentence_starts must run from 0 to len(ids)")
        if window < 1 or negative < 0 or batch_windows < 1:
            raise ValueError("window >= 1, negative >= 0 and batch_windows >= 1 are required")
        set_embedding_options(&self.arrays, vocab_size, freeze, padding_idx, max_norm, norm_type)
        self.arrays.w_in = &w_in[0, 0]
        self.arrays.w_out = &w_out[0, 0]
        self.arrays.m_in = self.arrays.v_in = self.arrays.m_out = self.arrays.v_out = NULL
        if optimizer == "adam":
            m_in, v_in, m_out, v_out = moments
            if not (m_in.shape[0] == v_in.shape[0] == m_out.shape[0] == v_out.shape[0] == vocab_size
                    and m_in.shape[1] == v_in.shape[1] == m_out.shape[1] == v_out.shape[1] == w_in.shape[1]):
                raise ValueError("Adam moments must be shaped like w_in")
            self.arrays.m_in, self.arrays.v_in = &m_in[0, 0], &v_in[0, 0]
            self.arrays.m_out, self.arrays.v_out = &m_out[0, 0], &v_out[0, 0]
            self.arrays.optimizer = OPT_ADAM
        elif optimizer == "sgd":
            self.arrays.optimizer = OPT_SGD
        else:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        self.alias_table = <AliasEntry*>malloc(vocab_size * sizeof(AliasEntry))
        if self.alias_table == NULL:
            raise MemoryError()
        for i in range(vocab_size):
            if not (0 <= alias_index[i] < vocab_size):
                raise ValueError(f"alias table entry {i} points outside the vocabulary")
            self.alias_table[i].prob = alias_prob[i]
            self.alias_table[i].alias = alias_index[i]
        self.arrays.keep_prob = &keep_prob[0]
        self.arrays.negatives = self.alias_table
        self.arrays.vocab_size = vocab_size
        self.arrays.dim = <int>w_in.shape[1]
        self.arrays.window = window
        self.arrays.negative = negative
        self.arrays.cbow_mean = cbow_mean
        self.arrays.shrink_windows = shrink_windows
        self.arrays.beta1, self.arrays.beta2, self.arrays.eps = beta1, beta2, eps
        self.arrays.batch_windows = batch_windows
        self.ids = &ids[0] if ids.shape[0] > 0 else NULL
        self.sentence_starts = &sentence_starts[0]
        self.n_sentences = sentence_starts.shape[0] - 1
        self.max_sentence_length = 0
        for i in range(self.n_sentences):
            if sentence_starts[i + 1] < sentence_starts[i]:
                raise ValueError("sentence_starts must not decrease")
            self.max_sentence_length = max(self.max_sentence_length,
                                           sentence_starts[i + 1] - sentence_starts[i])
        self._keep_alive = (w_in, w_out, moments, keep_prob, ids, sentence_starts)

    def __dealloc__(self):
        free(self.alias_table)


cdef int set_embedding_options(ModelArrays* m, int64_t vocab_size, bint freeze,
                               int64_t padding_idx, double max_norm, double norm_type) except -1:
    if not (padding_idx == -1 or 0 <= padding_idx < vocab_size):
        raise IndexError(f"padding_idx {padding_idx} out of range [0, {vocab_size})")
    if max_norm < 0 or not norm_type > 0:
        raise ValueError("max_norm must be >= 0 (0: off) and norm_type > 0")
    m.update_in = not freeze
    m.padding_idx = padding_idx
    m.max_norm = <real>max_norm
    m.norm_type = <real>norm_type
    return 0


cdef int alloc_sparse_grad(SparseGrad* g, int64_t vocab_size, int64_t capacity, int dim) noexcept:
    g.n_rows = 0
    g.capacity = capacity
    g.slot_of_row = <int32_t*>malloc(vocab_size * sizeof(int32_t))
    g.rows = <int32_t*>malloc(capacity * sizeof(int32_t))
    g.grad = <real*>malloc(capacity * dim * sizeof(real))
    if g.slot_of_row == NULL or g.rows == NULL or g.grad == NULL:
        return -1
    memset(g.slot_of_row, 0xFF, vocab_size * sizeof(int32_t))    # all -1
    return 0


cdef void free_sparse_grad(SparseGrad* g) noexcept:
    free(g.slot_of_row)
    free(g.rows)
    free(g.grad)


cdef class Worker:
    """Per-thread state: RNG seeded from (seed, thread id) and every scratch buffer."""
    cdef WorkerScratch scratch
    cdef readonly uint64_t thread_id

    def __cinit__(self, TrainingArrays arrays not None, uint64_t seed, uint64_t thread_id):
        cdef const ModelArrays* m = &arrays.arrays
        cdef int64_t per_batch_in, per_batch_out
        memset(&self.scratch, 0, sizeof(WorkerScratch))
        self.thread_id = thread_id
        self.scratch.rng = seed_state(seed, thread_id)
        self.scratch.bad_row = -1
        self.scratch.hidden = <real*>calloc(m.dim, sizeof(real))
        self.scratch.hidden_grad = <real*>calloc(m.dim, sizeof(real))
        self.scratch.sentence = <int32_t*>malloc((arrays.max_sentence_length + 1) * sizeof(int32_t))
        self.scratch.context = <int32_t*>malloc(2 * m.window * sizeof(int32_t))
        self.scratch.outputs = <int32_t*>malloc((m.negative + 1) * sizeof(int32_t))
        if (self.scratch.hidden == NULL or self.scratch.hidden_grad == NULL
                or self.scratch.sentence == NULL or self.scratch.context == NULL
                or self.scratch.outputs == NULL):
            raise MemoryError()
        if m.optimizer == OPT_ADAM:
            # A minibatch touches at most this many distinct rows of each matrix.
            per_batch_in = min(<int64_t>m.batch_windows * 2 * m.window, m.vocab_size)
            per_batch_out = min(<int64_t>m.batch_windows * (m.negative + 1), m.vocab_size)
            if (alloc_sparse_grad(&self.scratch.grad_in, m.vocab_size, per_batch_in, m.dim) != 0
                    or alloc_sparse_grad(&self.scratch.grad_out, m.vocab_size, per_batch_out, m.dim) != 0):
                raise MemoryError()

    def __dealloc__(self):
        free(self.scratch.hidden)
        free(self.scratch.hidden_grad)
        free(self.scratch.sentence)
        free(self.scratch.context)
        free(self.scratch.outputs)
        free_sparse_grad(&self.scratch.grad_in)
        free_sparse_grad(&self.scratch.grad_out)

    def get_rng_state(self):
        """The thread's RNG state (a nonzero uint64), for checkpoints."""
        return int(self.scratch.rng)

    def set_rng_state(self, state):
        """Restore a state from get_rng_state(); xorshift needs it nonzero and < 2**64."""
        if isinstance(state, bool) or not isinstance(state, int) or not 0 < state < 2**64:
            raise ValueError(f"RNG state must be an integer in [1, 2**64), got {state!r}")
        self.scratch.rng = <uint64_t>state


def train_chunk(TrainingArrays arrays not None, Worker worker not None,
                int64_t first_sentence, int64_t end_sentence,
                double lr_start, double lr_end, int64_t step0=0):
    """Train sentences [first_sentence, end_sentence) in one nogil region.

    Returns (raw words, windows trained, loss summed over windows, optimizer steps).
    """
    if not (0 <= first_sentence <= end_sentence <= arrays.n_sentences):
        raise IndexError(f"sentence range [{first_sentence}, {end_sentence}) outside "
                         f"[0, {arrays.n_sentences})")
    cdef ChunkResult result
    with nogil:
        result = train_sentences(&arrays.arrays, &worker.scratch, arrays.ids,
                                 arrays.sentence_starts, first_sentence, end_sentence,
                                 lr_start, lr_end, step0)
    if worker.scratch.bad_row != -1:
        row, worker.scratch.bad_row = worker.scratch.bad_row, -1
        raise IndexError(f"row {row} outside [0, {arrays.arrays.vocab_size}) in the training data")
    return result.words, result.windows, result.loss, result.steps


# ----------------------------------------------------------------- table builders
def build_alias_table(weights):
    """Walker/Vose alias table for sampling index i with probability weights[i] / sum.

    Returns (prob float32[n], alias int32[n]). Exact up to float rounding: no word,
    however rare, is left out (unlike word2vec's fixed 1e8-slot table).
    """
    cdef double[::1] scaled = np.ascontiguousarray(weights, dtype=np.float64).copy()
    cdef int64_t n = scaled.shape[0], i, small_top = 0, large_top = 0, s, l
    if n < 1:
        raise ValueError("the alias table needs at least one weight")
    if n >= 2**31:
        raise ValueError("the alias table holds at most 2**31 - 1 entries")
    total = float(np.sum(scaled))
    if not np.all(np.isfinite(scaled)) or np.any(np.asarray(scaled) < 0) or not total > 0:
        raise ValueError("alias weights must be finite, >= 0, and not all 0")
    prob = np.ones(n, dtype=np.float32)
    alias = np.arange(n, dtype=np.int32)
    cdef float[::1] prob_view = prob
    cdef int32_t[::1] alias_view = alias
    cdef int64_t[::1] small = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] large = np.empty(n, dtype=np.int64)
    for i in range(n):
        scaled[i] = scaled[i] * n / total
        if scaled[i] < 1.0:
            small[small_top] = i
            small_top += 1
        else:
            large[large_top] = i
            large_top += 1
    while small_top > 0 and large_top > 0:
        small_top -= 1
        s = small[small_top]
        l = large[large_top - 1]
        prob_view[s] = <float>scaled[s]
        alias_view[s] = <int32_t>l
        scaled[l] = (scaled[l] + scaled[s]) - 1.0
        if scaled[l] < 1.0:
            large_top -= 1
            small[small_top] = l
            small_top += 1
    # Leftovers are 1 up to rounding: they keep their own slot (prob 1, alias self).
    return prob, alias


# ------------------------------------------ single-step twins, for tests against NumPy
cdef class _Scratch:
    cdef WorkerScratch s
    def __cinit__(self, int64_t vocab_size, int dim):
        memset(&self.s, 0, sizeof(WorkerScratch))
        self.s.hidden = <real*>calloc(dim, sizeof(real))
        self.s.hidden_grad = <real*>calloc(dim, sizeof(real))
        self.s.bad_row = -1
        if (self.s.hidden == NULL or self.s.hidden_grad == NULL
                or alloc_sparse_grad(&self.s.grad_in, vocab_size, vocab_size, dim) != 0
                or alloc_sparse_grad(&self.s.grad_out, vocab_size, vocab_size, dim) != 0):
            raise MemoryError()

    def __dealloc__(self):
        free(self.s.hidden)
        free(self.s.hidden_grad)
        free_sparse_grad(&self.s.grad_in)
        free_sparse_grad(&self.s.grad_out)


def _window_ids(values, int64_t vocab_size, what):
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D list of ids")
    if array.min() < 0 or array.max() >= vocab_size:
        raise IndexError(f"{what} id out of range [0, {vocab_size})")
    return array.astype(np.int32)


def py_sgd_window(float[:, ::1] w_in not None, float[:, ::1] w_out not None, context,
                  outputs, double lr, bint cbow_mean=True, bint freeze=False,
                  int64_t padding_idx=-1, double max_norm=0, double norm_type=2):
    """One SGD step on one window; outputs[0] is the target, the rest negatives. Returns the loss."""
    cdef ModelArrays m
    cdef int32_t[::1] ctx = _window_ids(context, w_in.shape[0], "context")
    cdef int32_t[::1] out = _window_ids(outputs, w_in.shape[0], "outputs")
    scratch = _Scratch(w_in.shape[0], w_in.shape[1])
    memset(&m, 0, sizeof(ModelArrays))
    m.w_in, m.w_out, m.vocab_size, m.dim, m.cbow_mean = &w_in[0, 0], &w_out[0, 0], w_in.shape[0], w_in.shape[1], cbow_mean
    set_embedding_options(&m, w_in.shape[0], freeze, padding_idx, max_norm, norm_type)
    return sgd_window(&m, &(<_Scratch>scratch).s, &ctx[0], ctx.shape[0], &out[0], out.shape[0], <real>lr)


def py_adam_step(float[:, ::1] w_in not None, float[:, ::1] w_out not None,
                 float[:, ::1] m_in not None, float[:, ::1] v_in not None,
                 float[:, ::1] m_out not None, float[:, ::1] v_out not None,
                 windows, double lr, int64_t step, double beta1=0.9, double beta2=0.999,
                 double eps=1e-8, bint cbow_mean=True, bint freeze=False,
                 int64_t padding_idx=-1, double max_norm=0, double norm_type=2):
    """One lazy Adam step over a minibatch of windows [(context, outputs), ...]. Returns the loss sum."""
    cdef ModelArrays m
    cdef int32_t[::1] ctx
    cdef int32_t[::1] out
    cdef double loss = 0
    if step < 1:
        raise ValueError("step counts from 1")
    scratch = _Scratch(w_in.shape[0], w_in.shape[1])
    memset(&m, 0, sizeof(ModelArrays))
    m.w_in, m.w_out, m.vocab_size, m.dim, m.cbow_mean = &w_in[0, 0], &w_out[0, 0], w_in.shape[0], w_in.shape[1], cbow_mean
    m.m_in, m.v_in, m.m_out, m.v_out = &m_in[0, 0], &v_in[0, 0], &m_out[0, 0], &v_out[0, 0]
    set_embedding_options(&m, w_in.shape[0], freeze, padding_idx, max_norm, norm_type)
    m.beta1, m.beta2, m.eps, m.optimizer = beta1, beta2, eps, OPT_ADAM
    for context, outputs in windows:
        ctx = _window_ids(context, w_in.shape[0], "context")
        out = _window_ids(outputs, w_in.shape[0], "outputs")
        loss += adam_accumulate_window(&m, &(<_Scratch>scratch).s, &ctx[0], ctx.shape[0],
                                       &out[0], out.shape[0])
    adam_apply_step(&m, &(<_Scratch>scratch).s, lr, step)
    return loss


def py_draw_negatives(const float[::1] alias_prob not None, const int32_t[::1] alias_index not None,
                      int64_t n, uint64_t seed):
    """n draws from the alias table with the kernel's own sampler."""
    cdef int64_t size = alias_prob.shape[0], i
    cdef AliasEntry* table = <AliasEntry*>malloc(size * sizeof(AliasEntry))
    cdef uint64_t rng = seed_state(seed, 0)
    draws = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] out = draws
    if table == NULL:
        raise MemoryError()
    try:
        for i in range(size):
            table[i].prob = alias_prob[i]
            table[i].alias = alias_index[i]
        with nogil:
            for i in range(n):
                out[i] = draw_negative(table, size, &rng)
    finally:
        free(table)
    return draws


def py_embedding_lookup(float[:, ::1] w_in not None, context, double max_norm=0,
                        double norm_type=2, bint cbow_mean=True):
    """The hidden vector of a window as the kernels compute it (rows renormalised in
    place first when max_norm > 0, as torch.nn.functional.embedding does)."""
    cdef ModelArrays m
    cdef int32_t[::1] ctx = _window_ids(context, w_in.shape[0], "context")
    scratch = _Scratch(w_in.shape[0], w_in.shape[1])
    memset(&m, 0, sizeof(ModelArrays))
    m.w_in, m.vocab_size, m.dim, m.cbow_mean = &w_in[0, 0], w_in.shape[0], w_in.shape[1], cbow_mean
    set_embedding_options(&m, w_in.shape[0], False, -1, max_norm, norm_type)
    cbow_hidden(&m, &(<_Scratch>scratch).s, &ctx[0], ctx.shape[0])
    return np.asarray(<real[:w_in.shape[1]]>(<_Scratch>scratch).s.hidden).copy()


def py_loss_and_dscore(float score, bint positive):
    """(loss, dloss/dscore) of one output, as the kernels compute it."""
    cdef real dscore
    cdef double loss = loss_and_dscore(score, positive, &dscore)
    return loss, dscore


def py_subsample(const int32_t[::1] ids not None, const float[::1] keep_prob not None,
                 uint64_t seed):
    """The ids that survive one subsampling pass, with the kernel's own code and RNG."""
    cdef ModelArrays m
    cdef WorkerScratch w
    cdef int64_t kept
    if ids.shape[0] and (np.min(ids) < 0 or np.max(ids) >= keep_prob.shape[0]):
        raise IndexError(f"ids must lie in [0, {keep_prob.shape[0]})")
    out = np.empty(ids.shape[0] + 1, dtype=np.int32)
    cdef int32_t[::1] out_view = out
    memset(&m, 0, sizeof(ModelArrays))
    memset(&w, 0, sizeof(WorkerScratch))
    m.keep_prob = &keep_prob[0]
    m.vocab_size = keep_prob.shape[0]
    w.sentence = &out_view[0]
    w.rng = seed_state(seed, 0)
    with nogil:
        kept = subsample(&m, &w, &ids[0] if ids.shape[0] else NULL, ids.shape[0])
    return out[:kept].copy()
