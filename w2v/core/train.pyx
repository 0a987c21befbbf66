# The training core: a chunk of sentences in one nogil call, for every model of the family.
#
# Per position i of a sentence (after subsampling), with a window of `reach` words each side:
# - CBOW: one example. Inputs: the context words' rows in one group (their mean, or sum);
#   outputs: those of the centre word (negative sampling and/or hierarchical softmax).
# - skip-gram with centre_inputs (fastText's orientation, used with subwords): the centre
#   word's rows (its own and its n-grams') are the input, each context word in turn the
#   target: one example per (centre, context) pair, negatives drawn for each, exactly
#   fastText's skipgram loop (shared_negatives does not apply).
# - skip-gram (word2vec C's and gensim's orientation): each context word's row is an input,
#   the centre word the target. shared_negatives=False: one example per (context, centre)
#   pair, negatives drawn afresh for each, exactly word2vec's loop. True: one example whose
#   groups are the context words and whose outputs (the centre's, negatives drawn once) they
#   all share: the same scores as the pairs, a few rows loaded instead of ~2 x reach x
#   (1 + negative) (Ji et al. 2016, "Parallelizing Word2Vec in Shared and Distributed
#   Memory").
# The step itself (step.pxd) does not know which model assembled it.
#
# Maths of an example (group g of input rows r_g1..r_gn, outputs o with label y_o):
#   h_g = mean_j W_in[r_gj] (sum for CBOW with cbow_mean off),  s_go = h_g . out_row(o)
#   loss = sum_g,o softplus(-(2 y_o - 1) s_go),   dL/ds_go = sigmoid(s_go) - y_o
#   dL/d out_row(o) = sum_g dL/ds_go h_g,   dL/dh_g = sum_o dL/ds_go out_row(o)
#   dL/dW_in[r_gj] = dL/dh_g / n (mean) or dL/dh_g (sum)
# Adam uses exactly these gradients, summed over a minibatch of windows and divided by its
# size; SGD gives every input row the whole dL/dh_g, as word2vec.c and fastText do
# (optimizers.pxd).
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

import numpy as np

from w2v.core._random cimport next_below, next_float, seed_state
from w2v.core.context_cache cimport add_input_position, enter_position, leave_position
from w2v.core.hot_rows cimport load_hot_rows, merge_hot_row, sync_hot_rows
from w2v.core.inputs cimport (add_input_word, close_group, hidden_of_group,
                              prefetch_input_rows, start_examples)
from w2v.core.losses cimport (add_output, add_target, draw_negative, example_loss,
                              output_dscore, output_dscores, prefetch_paths)
from w2v.core.optimizers cimport adam_apply_step
from w2v.core.step cimport train_example
from w2v.core.structs cimport (HS_TABLE, IN_TABLE, N_TABLES, NS_TABLE, OPT_ADAM, OPT_SGD,
                               W2V_DEBUG_CHECKS, AliasEntry, ChunkResult, ExampleLoss,
                               ModelArrays, SparseGrad, WorkerScratch, real)
from w2v.core.vector_math cimport exp_nonpositive, output_step

DEBUG_CHECKS = bool(W2V_DEBUG_CHECKS)
# SGD: rows of W_hs (the inner nodes nearest the Huffman root) each thread keeps its own
# copy of, and the windows between its syncs (hot_rows.pxd)
HOT_HS_ROWS = 64
HOT_SYNC_WINDOWS = 64
TABLE_NAMES = ("in", "out", "hs")     # TableId order: W_in, W_out (negative sampling), W_hs


# ------------------------------------------------------------------ one position, per model
cdef inline double cbow_position(const ModelArrays* m, WorkerScratch* w, int i, int lo, int hi,
                                 real lr) noexcept nogil:
    """CBOW: the context words in one group, the centre word's outputs. -1.0: a bad row."""
    cdef int j
    start_examples(w)
    for j in range(lo, hi):
        if j != i:
            if m.context_cache:
                add_input_position(w, j)
            else:
                add_input_word(m, w, &w.sentence[j])
    close_group(w)
    if add_target(m, w, w.sentence[i]) < 0:
        return -1
    return train_example(m, w, lr)


cdef inline double skipgram_position(const ModelArrays* m, WorkerScratch* w, int i, int lo, int hi,
                                     real lr) noexcept nogil:
    """Skip-gram: every context word an input, the centre word the target. -1.0: a bad row."""
    cdef int j, source, target
    cdef double loss = 0
    if m.shared_negatives and not m.centre_inputs:
        start_examples(w)
        for j in range(lo, hi):
            if j != i:
                add_input_word(m, w, &w.sentence[j])
                close_group(w)
        if add_target(m, w, w.sentence[i]) < 0:
            return -1
        return train_example(m, w, lr)
    for j in range(lo, hi):
        if j != i:
            # word2vec's orientation: the context word's rows in, the centre word out;
            # with subwords fastText's: the centre word's rows in, the context word out
            source, target = (i, j) if m.centre_inputs else (j, i)
            start_examples(w)
            add_input_word(m, w, &w.sentence[source])
            close_group(w)
            if add_target(m, w, w.sentence[target]) < 0:
                return -1
            loss += train_example(m, w, lr)
    return loss


cdef inline int train_position(const ModelArrays* m, WorkerScratch* w, int i, int lo, int hi,
                               int n, real lr, ChunkResult* result) noexcept nogil:
    """Train position i of w.sentence (n words; context lo..hi) with the model's
    examples; count it in `result`. -1: a bad row (debug builds)."""
    cdef double loss
    if m.hs:
        prefetch_paths(m, w.sentence, i, n)
    # the input rows the next positions will read: the next centre word's (skip-gram with
    # subwords), else the word the next windows will reach
    if m.sg and m.centre_inputs:
        if i + 1 < n:
            prefetch_input_rows(m, &w.sentence[i + 1])
    elif i + m.window + 1 < n:
        prefetch_input_rows(m, &w.sentence[i + m.window + 1])
    if m.sg:
        loss = skipgram_position(m, w, i, lo, hi, lr)
    else:
        loss = cbow_position(m, w, i, lo, hi, lr)
    if loss < 0:
        return -1
    result.loss += loss
    result.windows += 1
    if w.hot_count:
        w.hot_windows += 1
        if w.hot_windows >= m.hot_sync_windows:
            sync_hot_rows(m, w)
    if m.optimizer == OPT_ADAM:
        w.batch_count += 1
    return 0


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
    cdef int n, i, lo, hi, reach, p, entered
    cdef double lr = lr_start
    result.words = total_words
    result.windows = 0
    result.loss = 0
    result.steps = 0
    if w.hot_count:
        load_hot_rows(m, w)
    for s in range(first_sentence, end_sentence):
        begin = sentence_starts[s]
        end = sentence_starts[s + 1]
        n = <int>subsample(m, w, ids + begin, end - begin)
        if n < 0:
            break                              # w.bad_row says which row (debug builds)
        entered = 0                    # the context cache: positions < entered are read
        for i in range(n):
            lr = lr_start + (lr_end - lr_start) * (
                (words_before + (end - begin) * (<double>i / n)) / total_words)
            reach = m.window
            if m.shrink_windows:
                reach -= <int>next_below(&w.rng, m.window)        # 1 .. window
            lo = i - reach if i >= reach else 0
            hi = i + reach + 1 if i + reach + 1 <= n else n
            if m.context_cache:
                while entered < n and entered <= i + m.window:
                    enter_position(m, w, entered)
                    entered += 1
            if hi - lo >= 2 and (m.target_mask == NULL or m.target_mask[w.sentence[i]]):
                if train_position(m, w, i, lo, hi, n, <real>lr, &result) < 0:
                    break                      # w.bad_row says which row (debug builds)
            if m.context_cache and i >= m.window:
                leave_position(m, w, i - m.window)               # no later window reaches it
            if m.optimizer == OPT_ADAM and w.batch_count >= m.batch_windows:
                step += 1
                if m.context_cache:
                    # the rows move: the positions within reach hand in their gradients
                    # first and are read again after
                    for p in range(max(0, i - m.window + 1), entered):
                        leave_position(m, w, p)
                adam_apply_step(m, w, lr, step)
                if m.context_cache:
                    for p in range(max(0, i - m.window + 1), entered):
                        enter_position(m, w, p)
        if m.context_cache:
            for p in range(max(0, n - m.window), entered):
                leave_position(m, w, p)
        if w.bad_row != -1:
            break
        words_before += end - begin
    if w.hot_count:
        sync_hot_rows(m, w)
    if w.bad_row != -1:
        return result
    if m.optimizer == OPT_ADAM and w.batch_count > 0:
        step += 1
        adam_apply_step(m, w, lr_end, step)
    result.steps = step - step0
    return result


# ------------------------------------------------------------ Python-facing objects
cdef int set_table(ModelArrays* m, int table, w, moments, int64_t rows, int dim,
                   str name) except -1:
    """Point table `table` at the float32 array `w` (rows x dim; each row contiguous, rows
    at any stride) and its Adam moments (a pair shaped like it at the same row stride, as
    the interleaved layout of w2v.training.state gives, or None)."""
    cdef float[:, :] view = w
    cdef float[:, :] m1
    cdef float[:, :] m2
    if view.shape[0] != rows or view.shape[1] != dim:
        raise ValueError(f"{name} should have shape ({rows}, {dim}), got "
                         f"({view.shape[0]}, {view.shape[1]})")
    if rows and (view.strides[1] != sizeof(real) or view.strides[0] % sizeof(real)
                 or view.strides[0] < dim * <Py_ssize_t>sizeof(real)):
        raise ValueError(f"{name}: each row must be contiguous float32, rows at a positive stride")
    m.tables[table].rows = rows
    m.tables[table].stride = view.strides[0] // sizeof(real) if rows else dim
    m.tables[table].w = &view[0, 0] if rows else NULL
    m.tables[table].m1 = m.tables[table].m2 = NULL
    if moments is not None:
        m1, m2 = moments
        if m1.shape[0] != rows or m2.shape[0] != rows or m1.shape[1] != dim or m2.shape[1] != dim:
            raise ValueError(f"the Adam moments of {name} must be shaped like it")
        if rows:
            if (m1.strides[0] != view.strides[0] or m2.strides[0] != view.strides[0]
                    or m1.strides[1] != sizeof(real) or m2.strides[1] != sizeof(real)):
                raise ValueError(f"the Adam moments of {name} must have its row stride")
            m.tables[table].m1 = &m1[0, 0]
            m.tables[table].m2 = &m2[0, 0]
    return 0


cdef int set_embedding_options(ModelArrays* m, int64_t rows, bint freeze, int64_t frozen_rows,
                               int64_t padding_idx, double max_norm, double norm_type) except -1:
    """freeze: W_in's first `frozen_rows` rows stay fixed (-1: all of them)."""
    if not (padding_idx == -1 or 0 <= padding_idx < rows):
        raise IndexError(f"padding_idx {padding_idx} out of range [0, {rows})")
    if max_norm < 0 or not norm_type > 0:
        raise ValueError("max_norm must be >= 0 (0: off) and norm_type > 0")
    if frozen_rows < -1 or frozen_rows > rows:
        raise ValueError(f"frozen_rows {frozen_rows} out of range [-1, {rows}]")
    m.frozen_rows = (rows if frozen_rows == -1 else frozen_rows) if freeze else 0
    m.padding_idx = padding_idx
    m.max_norm = <real>max_norm
    m.norm_type = <real>norm_type
    return 0


cdef class TrainingArrays:
    """The shared arrays one training run reads and updates, as the kernels see them.

    tables: {"in": W_in, "out": W_out (negative sampling), "hs": W_hs (hierarchical
    softmax)}, float32, C-contiguous, updated in place; moments: {name: (m1, m2)} for Adam.
    input_rows: None (word i's input is row i of W_in) or CSR arrays (starts int64[vocab
    + 1], rows int32): word i's input rows (subwords: its row and its n-grams' rows, W_in
    then has vocab + bucket rows). centre_inputs: skip-gram in fastText's orientation.
    context_cache: CBOW reads and moves each context word's rows once (context_cache.pxd).
    target_mask: uint8 per word, or None; only words with a nonzero entry are targets
    (centre words): w2v.spark's row ownership.
    Holds references to every numpy array so the raw pointers stay valid.
    """
    cdef ModelArrays arrays
    cdef AliasEntry* alias_table
    cdef const int32_t* ids
    cdef const int64_t* sentence_starts
    cdef readonly int64_t n_sentences
    cdef readonly int64_t max_sentence_length
    cdef object _keep_alive

    def __cinit__(self, *, dict tables not None, moments, const float[::1] keep_prob not None,
                  const int32_t[::1] ids not None, const int64_t[::1] sentence_starts not None,
                  alias_prob=None, alias_index=None, huffman=None, input_rows=None,
                  bint sg=False, int window=5, int negative=5, bint hs=False,
                  bint cbow_mean=True, bint shrink_windows=True, bint shared_negatives=False,
                  bint centre_inputs=False, str optimizer="sgd", double beta1=0.9,
                  double beta2=0.999, double eps=1e-8,
                  int batch_windows=1, bint freeze=False, int64_t frozen_rows=-1,
                  int64_t padding_idx=-1,
                  double max_norm=0, double norm_type=2, int hot_hs_rows=HOT_HS_ROWS,
                  int hot_sync_windows=HOT_SYNC_WINDOWS, bint context_cache=False,
                  target_mask=None):
        cdef int64_t vocab_size = keep_prob.shape[0], i, k
        cdef int dim
        cdef ModelArrays* m
        cdef float[:, :] w_in = tables["in"]
        cdef const float[::1] prob
        cdef const int32_t[::1] alias
        cdef const int64_t[::1] starts
        cdef const int32_t[::1] rows
        cdef const uint8_t[::1] codes
        cdef const int32_t[::1] points
        cdef const uint8_t[::1] mask
        memset(&self.arrays, 0, sizeof(ModelArrays))
        dim = <int>w_in.shape[1]
        if vocab_size < 1 or vocab_size >= 2**31:
            raise ValueError(f"vocabulary size {vocab_size} out of range [1, 2**31)")
        if window < 1 or negative < 0 or batch_windows < 1:
            raise ValueError("window >= 1, negative >= 0 and batch_windows >= 1 are required")
        if hot_hs_rows < 0 or hot_sync_windows < 1:
            raise ValueError("hot_hs_rows >= 0 and hot_sync_windows >= 1 are required")
        if negative == 0 and not hs:
            raise ValueError("no loss to train: negative=0 and hs off")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"unknown optimizer {optimizer!r}")
        if optimizer == "adam" and moments is None:
            raise ValueError("Adam needs its moments")
        moments = moments or {}
        if sentence_starts.shape[0] < 1 or sentence_starts[0] != 0 \
                or sentence_starts[sentence_starts.shape[0] - 1] != ids.shape[0]:
            raise ValueError("sentence_starts must run from 0 to len(ids)")
        m = &self.arrays
        m.dim = dim
        m.vocab_size = vocab_size
        # Inputs: a word's own row, or (n-grams) the rows the CSR arrays give
        m.max_input_rows = 1
        if input_rows is None:
            set_table(m, IN_TABLE, w_in, moments.get("in"), vocab_size, dim, "W_in")
        else:
            starts, rows = input_rows
            if starts.shape[0] != vocab_size + 1 or starts[0] != 0 or starts[vocab_size] != rows.shape[0]:
                raise ValueError("input_rows: the offsets must run from 0 to len(rows), one per word + 1")
            set_table(m, IN_TABLE, w_in, moments.get("in"), w_in.shape[0], dim, "W_in")
            for i in range(vocab_size):
                if starts[i + 1] <= starts[i]:
                    raise ValueError(f"input_rows: word {i} has no input row")
                m.max_input_rows = max(m.max_input_rows, <int>(starts[i + 1] - starts[i]))
            for k in range(rows.shape[0]):
                if not 0 <= rows[k] < w_in.shape[0]:
                    raise ValueError(f"input_rows: row {rows[k]} outside W_in's {w_in.shape[0]} rows")
            m.input_starts = &starts[0]
            m.input_rows = &rows[0] if rows.shape[0] else NULL
        set_embedding_options(m, m.tables[IN_TABLE].rows, freeze, frozen_rows, padding_idx,
                              max_norm, norm_type)
        # Negative sampling
        m.negative = negative
        if negative > 0:
            set_table(m, NS_TABLE, tables.get("out"), moments.get("out"), vocab_size, dim, "W_out")
            if alias_prob is None or alias_index is None:
                raise ValueError("negative sampling needs the alias table (alias_prob, alias_index)")
            prob, alias = alias_prob, alias_index
            if prob.shape[0] != vocab_size or alias.shape[0] != vocab_size:
                raise ValueError("the alias table needs one entry per word")
            self.alias_table = <AliasEntry*>malloc(vocab_size * sizeof(AliasEntry))
            if self.alias_table == NULL:
                raise MemoryError()
            for i in range(vocab_size):
                if not (0 <= alias[i] < vocab_size):
                    raise ValueError(f"alias table entry {i} points outside the vocabulary")
                self.alias_table[i].prob = prob[i]
                self.alias_table[i].alias = alias[i]
            m.negatives = self.alias_table
        # Hierarchical softmax
        m.hs = hs
        if hs:
            if vocab_size < 2:
                raise ValueError("hierarchical softmax needs at least 2 words")
            set_table(m, HS_TABLE, tables.get("hs"), moments.get("hs"), vocab_size - 1, dim, "W_hs")
            if huffman is None:
                raise ValueError("hierarchical softmax needs the Huffman codes")
            starts, codes, points = huffman
            if starts.shape[0] != vocab_size + 1 or starts[0] != 0 \
                    or starts[vocab_size] != codes.shape[0] or codes.shape[0] != points.shape[0]:
                raise ValueError("the Huffman codes need offsets from 0 to len(codes), one per word + 1")
            for i in range(vocab_size):
                if starts[i + 1] <= starts[i]:
                    raise ValueError(f"word {i} has an empty Huffman code")
                m.max_code_length = max(m.max_code_length, <int>(starts[i + 1] - starts[i]))
            for k in range(points.shape[0]):
                if not 0 <= points[k] < vocab_size - 1 or codes[k] > 1:
                    raise ValueError(f"Huffman path entry {k} is not an inner node and a bit")
            m.code_starts, m.codes, m.points = &starts[0], &codes[0], &points[0]
        m.keep_prob = &keep_prob[0]
        if target_mask is not None:
            mask = target_mask
            if mask.shape[0] != vocab_size:
                raise ValueError(f"target_mask needs one entry per word ({vocab_size}), got {mask.shape[0]}")
            if centre_inputs and sg:
                raise ValueError("target_mask selects centre words as targets: not with centre_inputs")
            m.target_mask = &mask[0]
        m.sg = sg
        m.mean_inputs = cbow_mean or sg
        m.window = window
        m.shrink_windows = shrink_windows
        m.shared_negatives = shared_negatives
        m.centre_inputs = centre_inputs and sg
        m.optimizer = OPT_ADAM if optimizer == "adam" else OPT_SGD
        m.beta1, m.beta2, m.eps = beta1, beta2, eps
        m.batch_windows = batch_windows
        m.hot_hs_rows = hot_hs_rows if m.optimizer == OPT_SGD else 0
        m.hot_sync_windows = hot_sync_windows
        m.context_cache = context_cache and not sg
        self.ids = &ids[0] if ids.shape[0] > 0 else NULL
        self.sentence_starts = &sentence_starts[0]
        self.n_sentences = sentence_starts.shape[0] - 1
        self.max_sentence_length = 0
        for i in range(self.n_sentences):
            if sentence_starts[i + 1] < sentence_starts[i]:
                raise ValueError("sentence_starts must not decrease")
            self.max_sentence_length = max(self.max_sentence_length,
                                           sentence_starts[i + 1] - sentence_starts[i])
        self._keep_alive = (tables, moments, keep_prob, ids, sentence_starts, alias_prob,
                            alias_index, huffman, input_rows, target_mask)

    def __dealloc__(self):
        free(self.alias_table)

    @property
    def vocab_size(self):
        return self.arrays.vocab_size


cdef int alloc_sparse_grad(SparseGrad* g, int64_t rows, int64_t capacity, int dim) noexcept:
    g.n_rows = 0
    g.capacity = min(capacity, rows)
    if rows == 0:
        return 0
    g.slot_of_row = <int32_t*>malloc(rows * sizeof(int32_t))
    g.rows = <int32_t*>malloc(g.capacity * sizeof(int32_t))
    g.grad = <real*>malloc(g.capacity * dim * sizeof(real))
    if g.slot_of_row == NULL or g.rows == NULL or g.grad == NULL:
        return -1
    memset(g.slot_of_row, 0xFF, rows * sizeof(int32_t))    # all -1
    return 0


cdef void free_sparse_grad(SparseGrad* g) noexcept:
    free(g.slot_of_row)
    free(g.rows)
    free(g.grad)


cdef int alloc_scratch(WorkerScratch* w, const ModelArrays* m, int64_t sentence_length,
                       int64_t windows_per_step) except -1:
    """Buffers for one thread: sized for the longest example the model can assemble and,
    for Adam, for the rows `windows_per_step` windows can touch."""
    cdef int pairs = 2 * m.window          # context words of a window, at most
    cdef int64_t per_window_in, per_window_ns, per_window_hs
    memset(w, 0, sizeof(WorkerScratch))
    w.bad_row = -1
    w.max_groups = pairs
    w.max_group_rows = pairs * m.max_input_rows
    w.max_outputs = (1 + m.negative) + m.max_code_length
    w.sentence = <int32_t*>malloc((sentence_length + 1) * sizeof(int32_t))
    w.input_rows = <int32_t*>malloc(w.max_group_rows * sizeof(int32_t))
    w.group_ends = <int32_t*>malloc((w.max_groups + 1) * sizeof(int32_t))
    w.hidden = <real*>calloc(w.max_groups * m.dim, sizeof(real))
    w.hidden_grad = <real*>calloc(w.max_groups * m.dim, sizeof(real))
    w.out_delta = <real*>calloc(m.dim, sizeof(real))
    w.scores = <real*>calloc(w.max_groups * w.max_outputs, sizeof(real))   # an example's scores
    w.out_rows = <int32_t*>malloc(w.max_outputs * sizeof(int32_t))
    w.out_tables = <uint8_t*>malloc(w.max_outputs * sizeof(uint8_t))
    w.out_labels = <uint8_t*>malloc(w.max_outputs * sizeof(uint8_t))
    if (w.sentence == NULL or w.input_rows == NULL or w.group_ends == NULL or w.hidden == NULL
            or w.hidden_grad == NULL or w.out_delta == NULL or w.scores == NULL or w.out_rows == NULL
            or w.out_tables == NULL or w.out_labels == NULL):
        raise MemoryError()
    # the thread's copies of the hot output rows (hot_rows.pxd)
    w.hot_hs_first = m.tables[HS_TABLE].rows - min(m.hot_hs_rows, m.tables[HS_TABLE].rows)
    w.hot_count = <int>(m.tables[HS_TABLE].rows - w.hot_hs_first)
    if w.hot_count:
        w.hot = <real*>malloc(w.hot_count * m.dim * sizeof(real))
        w.hot_base = <real*>malloc(w.hot_count * m.dim * sizeof(real))
        if w.hot == NULL or w.hot_base == NULL:
            raise MemoryError()
    if m.context_cache:           # every position within reach of a window has a slot
        w.cache_slots = 2 * m.window + 2
        w.cache_sums = <real*>calloc(w.cache_slots * m.dim, sizeof(real))
        w.cache_grads = <real*>calloc(w.cache_slots * m.dim, sizeof(real))
        w.cache_rows = <int32_t*>calloc(w.cache_slots, sizeof(int32_t))
        w.cache_used = <uint8_t*>calloc(w.cache_slots, sizeof(uint8_t))
        if (w.cache_sums == NULL or w.cache_grads == NULL or w.cache_rows == NULL
                or w.cache_used == NULL):
            raise MemoryError()
    if m.optimizer == OPT_ADAM:
        # The distinct rows of each table one window can touch, at most.
        per_window_in = pairs * m.max_input_rows
        per_window_ns = (1 + m.negative) * (
            pairs if m.sg and (m.centre_inputs or not m.shared_negatives) else 1)
        per_window_hs = m.max_code_length * (pairs if m.centre_inputs else 1)
        if (alloc_sparse_grad(&w.grads[IN_TABLE], m.tables[IN_TABLE].rows,
                              windows_per_step * per_window_in, m.dim) != 0
                or alloc_sparse_grad(&w.grads[NS_TABLE], m.tables[NS_TABLE].rows,
                                     windows_per_step * per_window_ns, m.dim) != 0
                or alloc_sparse_grad(&w.grads[HS_TABLE], m.tables[HS_TABLE].rows,
                                     windows_per_step * per_window_hs, m.dim) != 0):
            raise MemoryError()
    return 0


cdef void free_scratch(WorkerScratch* w) noexcept:
    cdef int t
    free(w.sentence)
    free(w.input_rows)
    free(w.group_ends)
    free(w.hidden)
    free(w.hidden_grad)
    free(w.out_delta)
    free(w.scores)
    free(w.out_rows)
    free(w.out_tables)
    free(w.out_labels)
    free(w.hot)
    free(w.hot_base)
    free(w.cache_sums)
    free(w.cache_grads)
    free(w.cache_rows)
    free(w.cache_used)
    for t in range(N_TABLES):
        free_sparse_grad(&w.grads[t])


cdef class Worker:
    """Per-thread state: RNG seeded from (seed, thread id) and every scratch buffer."""
    cdef WorkerScratch scratch
    cdef readonly uint64_t thread_id

    def __cinit__(self, TrainingArrays arrays not None, uint64_t seed, uint64_t thread_id):
        alloc_scratch(&self.scratch, &arrays.arrays, arrays.max_sentence_length,
                      arrays.arrays.batch_windows)
        self.thread_id = thread_id
        self.scratch.rng = seed_state(seed, thread_id)

    def __dealloc__(self):
        free_scratch(&self.scratch)

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


def build_huffman_tree(counts):
    """word2vec C's Huffman tree of the words' counts (CreateBinaryTree): the same codes
    and inner nodes for the same counts, ties included. word2vec builds it over words
    sorted by descending count, as a fresh vocabulary is; other orders (a vocabulary grown
    by build_vocab(update=True), pretrained words) are sorted first, stably.

    Two queues, the leaves from the rarest up and the inner nodes in creation order; each
    merge takes the smaller head, a leaf only when it is strictly smaller. The first node
    taken is the 0 branch, the second the 1 branch. Inner node a (0-based, created in
    order) is row a of W_hs; the root is the last, vocab_size - 2.

    Returns (code_starts int64[n + 1], codes uint8[], points int32[]): word i's path is
    codes/points[code_starts[i]:code_starts[i + 1]], root first.
    """
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if counts.ndim != 1 or len(counts) < 2:
        raise ValueError(f"a Huffman tree needs at least 2 words, got {counts.size}")
    if np.any(counts < 0):
        raise ValueError("counts must be >= 0")
    if np.any(np.diff(counts) > 0):
        order = np.argsort(-counts, kind="stable")
        return _reorder_paths(_huffman_of_sorted(counts[order]), order)
    return _huffman_of_sorted(counts)


def _reorder_paths(paths, order):
    """Paths built for words in `order` (sorted), given back in word id order."""
    starts, codes, points = paths
    n = len(order)                  # (no negative indices: this module has wraparound off)
    lengths = np.empty(n, dtype=np.int64)
    lengths[order] = np.diff(starts)
    new_starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_starts[1:])
    source = np.empty(n, dtype=np.int64)
    source[order] = starts[:n]
    gather = np.repeat(source - new_starts[:n], lengths) + np.arange(new_starts[n])
    return new_starts, codes[gather], points[gather]


def _huffman_of_sorted(counts):
    cdef const int64_t[::1] leaf = counts
    cdef int64_t n = leaf.shape[0], a, b, pos1, pos2, min1, min2, length, total = 0
    weight_array = np.empty(2 * n - 1, dtype=np.int64)
    parent_array = np.empty(2 * n - 1, dtype=np.int64)
    branch_array = np.zeros(2 * n - 1, dtype=np.uint8)
    depth_array = np.zeros(n, dtype=np.int64)
    cdef int64_t[::1] weight = weight_array
    cdef int64_t[::1] parent = parent_array
    cdef uint8_t[::1] branch = branch_array
    cdef int64_t[::1] depth = depth_array
    with nogil:
        for a in range(n):
            weight[a] = leaf[a]
        pos1, pos2 = n - 1, n
        for a in range(n - 1):
            # the two smallest of the leaf queue's head (pos1, going down) and the inner
            # queue's head (pos2, going up); a leaf is taken only when strictly smaller
            if pos1 >= 0 and (pos2 >= n + a or weight[pos1] < weight[pos2]):
                min1 = pos1
                pos1 -= 1
            else:
                min1 = pos2
                pos2 += 1
            if pos1 >= 0 and (pos2 >= n + a or weight[pos1] < weight[pos2]):
                min2 = pos1
                pos1 -= 1
            else:
                min2 = pos2
                pos2 += 1
            weight[n + a] = weight[min1] + weight[min2]
            parent[min1] = n + a
            parent[min2] = n + a
            branch[min2] = 1
        for a in range(n):
            length = 0
            b = a
            while b != 2 * n - 2:
                length += 1
                b = parent[b]
            depth[a] = length
            total += length
    code_starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(depth_array, out=code_starts[1:])
    codes = np.empty(total, dtype=np.uint8)
    points = np.empty(total, dtype=np.int32)
    cdef int64_t[::1] starts_view = code_starts
    cdef uint8_t[::1] codes_view = codes
    cdef int32_t[::1] points_view = points
    cdef int64_t k
    with nogil:
        for a in range(n):
            # walk up from the leaf, writing the path from its end (the root goes first)
            k = starts_view[a + 1] - 1
            b = a
            while b != 2 * n - 2:
                codes_view[k] = branch[b]
                points_view[k] = <int32_t>(parent[b] - n)
                k -= 1
                b = parent[b]
    return code_starts, codes, points


# ------------------------------------------ single-step twins, for tests against NumPy
cdef class _Example:
    """A WorkerScratch and ModelArrays for one hand-made example (py_* twins)."""
    cdef WorkerScratch s
    cdef ModelArrays m
    cdef object _keep_alive

    def __cinit__(self, tables, moments, optimizer, int n_groups, int group_rows,
                  int n_outputs, bint mean_inputs, bint freeze, int64_t padding_idx,
                  double max_norm, double norm_type, double beta1=0.9, double beta2=0.999,
                  double eps=1e-8):
        cdef int t
        cdef float[:, :] w_in = tables["in"]
        memset(&self.m, 0, sizeof(ModelArrays))
        memset(&self.s, 0, sizeof(WorkerScratch))
        self.m.dim = <int>w_in.shape[1]
        self.m.vocab_size = w_in.shape[0]
        self.m.mean_inputs = mean_inputs
        self.m.optimizer = OPT_ADAM if optimizer == "adam" else OPT_SGD
        self.m.beta1, self.m.beta2, self.m.eps = beta1, beta2, eps
        moments = moments or {}
        for t, name in enumerate(TABLE_NAMES):
            if tables.get(name) is not None:
                set_table(&self.m, t, tables[name], moments.get(name), tables[name].shape[0],
                          self.m.dim, name)
        set_embedding_options(&self.m, w_in.shape[0], freeze, -1, padding_idx, max_norm, norm_type)
        self._keep_alive = (tables, moments)
        s = &self.s
        s.bad_row = -1
        s.max_groups = n_groups
        s.input_rows = <int32_t*>malloc(max(group_rows, 1) * sizeof(int32_t))
        s.group_ends = <int32_t*>malloc((n_groups + 1) * sizeof(int32_t))
        s.hidden = <real*>calloc(n_groups * self.m.dim, sizeof(real))
        s.hidden_grad = <real*>calloc(n_groups * self.m.dim, sizeof(real))
        s.out_delta = <real*>calloc(self.m.dim, sizeof(real))
        s.scores = <real*>calloc(max(n_groups * n_outputs, 1), sizeof(real))   # see alloc_scratch
        s.out_rows = <int32_t*>malloc(max(n_outputs, 1) * sizeof(int32_t))
        s.out_tables = <uint8_t*>malloc(max(n_outputs, 1) * sizeof(uint8_t))
        s.out_labels = <uint8_t*>malloc(max(n_outputs, 1) * sizeof(uint8_t))
        if (s.input_rows == NULL or s.group_ends == NULL or s.hidden == NULL
                or s.hidden_grad == NULL or s.out_delta == NULL or s.scores == NULL
                or s.out_rows == NULL
                or s.out_tables == NULL or s.out_labels == NULL):
            raise MemoryError()
        for t in range(N_TABLES):
            if self.m.tables[t].rows and alloc_sparse_grad(
                    &s.grads[t], self.m.tables[t].rows, self.m.tables[t].rows, self.m.dim) != 0:
                raise MemoryError()

    def __dealloc__(self):
        free_scratch(&self.s)


def _ids(values, int64_t rows, what):
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D list of ids")
    if array.min() < 0 or array.max() >= rows:
        raise IndexError(f"{what} id out of range [0, {rows})")
    return array.astype(np.int32)


cdef int load_example(_Example example, groups, outputs) except -1:
    """Fill the example's groups (lists of W_in rows) and outputs ((table, row, label))."""
    cdef WorkerScratch* s = &example.s
    cdef int g, j, o
    start_examples(s)
    for rows in groups:
        rows = _ids(rows, example.m.tables[IN_TABLE].rows, "an input group")
        for j in range(len(rows)):
            s.input_rows[s.group_ends[s.n_groups]] = rows[j]
            s.group_ends[s.n_groups] += 1
        close_group(s)
    for o, (table, row, label) in enumerate(outputs):
        t = TABLE_NAMES.index(table)
        _ids([row], example.m.tables[t].rows, f"an output of {table}")
        s.out_rows[o] = row
        s.out_tables[o] = t
        s.out_labels[o] = bool(label)
    s.n_outputs = len(outputs)
    return 0


def py_train_example(tables, groups, outputs, double lr, str optimizer="sgd", moments=None,
                     int64_t step=1, bint mean_inputs=True, bint freeze=False,
                     int64_t padding_idx=-1, double max_norm=0, double norm_type=2,
                     double beta1=0.9, double beta2=0.999, double eps=1e-8):
    """One step of the core on a hand-made example: `groups` are lists of W_in rows (one
    hidden vector each), `outputs` (table, row, label) with table "out" (negative
    sampling's W_out) or "hs" (W_hs). SGD updates in place; Adam accumulates the example
    and takes one step (`step` for the bias correction). Returns the loss."""
    cdef double loss
    example = _Example(tables, moments, optimizer, len(groups), sum(len(g) for g in groups),
                       len(outputs), mean_inputs, freeze, padding_idx, max_norm, norm_type,
                       beta1, beta2, eps)
    load_example(example, groups, outputs)
    loss = train_example(&example.m, &example.s, <real>lr)
    if optimizer == "adam":
        example.s.batch_count = 1
        adam_apply_step(&example.m, &example.s, lr, step)
    return loss


def py_adam_minibatch(tables, moments, examples, double lr, int64_t step,
                      bint mean_inputs=True, bint freeze=False, int64_t padding_idx=-1,
                      double max_norm=0, double norm_type=2, double beta1=0.9,
                      double beta2=0.999, double eps=1e-8):
    """One lazy Adam step over a minibatch of examples [(groups, outputs), ...], each a
    window. Returns the summed loss."""
    cdef double loss = 0
    if step < 1:
        raise ValueError("step counts from 1")
    n_groups = max(len(g) for g, _ in examples)
    group_rows = max(sum(len(r) for r in g) for g, _ in examples)
    n_outputs = max(len(o) for _, o in examples)
    example = _Example(tables, moments, "adam", n_groups, group_rows, n_outputs, mean_inputs,
                       freeze, padding_idx, max_norm, norm_type, beta1, beta2, eps)
    for groups, outputs in examples:
        load_example(example, groups, outputs)
        loss += train_example(&example.m, &example.s, <real>lr)
        example.s.batch_count += 1
    adam_apply_step(&example.m, &example.s, lr, step)
    return loss


def py_sgd_window(w_in, w_out, context, outputs, double lr, bint cbow_mean=True, bint freeze=False,
                  int64_t padding_idx=-1, double max_norm=0, double norm_type=2):
    """One SGD step on one CBOW window; outputs[0] is the target, the rest negatives."""
    return py_train_example({"in": w_in, "out": w_out}, [context],
                            _ns_outputs(outputs), lr, "sgd", None, 1, cbow_mean, freeze,
                            padding_idx, max_norm, norm_type)


def py_adam_step(w_in, w_out, m_in, v_in, m_out, v_out, windows, double lr, int64_t step, double beta1=0.9, double beta2=0.999,
                 double eps=1e-8, bint cbow_mean=True, bint freeze=False,
                 int64_t padding_idx=-1, double max_norm=0, double norm_type=2):
    """One lazy Adam step over a minibatch of CBOW windows [(context, outputs), ...]."""
    return py_adam_minibatch({"in": w_in, "out": w_out},
                             {"in": (m_in, v_in), "out": (m_out, v_out)},
                             [([context], _ns_outputs(outputs)) for context, outputs in windows],
                             lr, step, cbow_mean, freeze, padding_idx, max_norm, norm_type,
                             beta1, beta2, eps)


def _ns_outputs(outputs):
    """Negative sampling's outputs of a window: the target (first) and its negatives."""
    return [("out", int(row), t == 0) for t, row in enumerate(outputs)]


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


def py_embedding_lookup(w_in, context, double max_norm=0, double norm_type=2,
                        bint cbow_mean=True):
    """The hidden vector of a window as the kernels compute it (rows renormalised in
    place first when max_norm > 0, as torch.nn.functional.embedding does)."""
    cdef int32_t[::1] rows = _ids(context, w_in.shape[0], "context")
    example = _Example({"in": w_in}, None, "sgd", 1, len(rows), 1, cbow_mean, False, -1,
                       max_norm, norm_type)
    hidden_of_group(&(<_Example>example).m, &rows[0], rows.shape[0], (<_Example>example).s.hidden)
    return np.asarray(<real[:w_in.shape[1]]>(<_Example>example).s.hidden).copy()


def py_merge_hot_row(float[::1] shared not None, float[::1] copy not None,
                     float[::1] base not None):
    """A thread's sync of one hot output row, in place (hot_rows.merge_hot_row)."""
    if not shared.shape[0] == copy.shape[0] == base.shape[0]:
        raise ValueError("the three rows must have the same length")
    merge_hot_row(&shared[0], &copy[0], &base[0], <int>shared.shape[0])


def py_output_step(float score, float[::1] row not None, float[::1] hidden_grad not None,
                   float step, const float[::1] hidden not None):
    """SGD's one-pass update of an output row (vector_math.output_step), in place:
    hidden_grad += score * row (the row as it was), then row += step * hidden."""
    if not row.shape[0] == hidden_grad.shape[0] == hidden.shape[0]:
        raise ValueError("row, hidden_grad and hidden must have the same length")
    if row.shape[0]:
        output_step(score, &row[0], &hidden_grad[0], step, &hidden[0], <int>row.shape[0])


def py_loss_and_dscore(float score, bint positive):
    """(loss, dloss/dscore) of one output, as the kernels compute it."""
    cdef ExampleLoss loss
    loss.excess = 0
    loss.linear = 0
    cdef real dscore = output_dscore(score, positive, &loss)
    return example_loss(&loss), dscore


def py_logistic_grads(const float[::1] z not None):
    """The kernels' gradients of many outputs at once (losses.output_dscores): for z, the
    scores signed by their labels, (sigmoid(-z) as float32, the summed loss)."""
    grads = np.array(z, dtype=np.float32)
    cdef float[::1] view = grads
    cdef ExampleLoss loss
    loss.excess = 0
    loss.linear = 0
    if view.shape[0]:
        output_dscores(&view[0], <int>view.shape[0], &loss)
    return grads, example_loss(&loss)


def py_exp_nonpositive(const float[::1] x not None):
    """The kernels' exp (for x <= 0) of each element, as float32."""
    out = np.empty(x.shape[0], dtype=np.float32)
    cdef float[::1] out_view = out
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        out_view[i] = exp_nonpositive(x[i])
    return out


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
