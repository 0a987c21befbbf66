# The losses: which output rows a target word is scored against, and the binary logistic
# loss every output shares (as fastText's binaryLogistic).
#
# - Negative sampling: the target's row of W_out with label 1, and `negative` words drawn
#   from counts ** ns_exponent with label 0 (a draw of the target itself is skipped, as
#   word2vec does).
# - Hierarchical softmax: the inner nodes on the target's Huffman path (rows of W_hs,
#   root first), each with label 1 - code (word2vec: g = (1 - code - f) * alpha).
#
# Both on: the outputs of both, as word2vec C trains them. The loss of an output with
# score s and label y is -log sigmoid(s) if y else -log sigmoid(-s); d loss / d s =
# sigmoid(s) - y.
from libc.math cimport log1p
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from w2v.core._random cimport next_u64
from w2v.core.hot_rows cimport hot_slot
from w2v.core.structs cimport (HOT_TABLE, HS_TABLE, NS_TABLE, W2V_DEBUG_CHECKS, AliasEntry,
                               ExampleLoss, ModelArrays, WorkerScratch, real)
from w2v.core.vector_math cimport exp_nonpositive, logistic_grads, prefetch, prefetch_row, row_of


cdef inline real output_dscore(real score, bint positive, ExampleLoss* loss) noexcept nogil:
    """d loss / d score of one output (label 1 if positive), its loss added to `loss`.

    The loss of an output is softplus(-z) = log(1 + exp(-|z|)) + max(-z, 0) with z the
    score signed by the label. An example's outputs share one logarithm: `loss` keeps the
    product of their (1 + exp(-|z|)) as the excess over 1, in double, so that tiny terms
    are not lost to rounding, and log1p of it is taken once per example. No clamp and no
    skipped update: a score of +-100 gives a gradient of (almost) 0 and a finite loss."""
    cdef real z = score if positive else -score
    cdef real e = exp_nonpositive(-z if z >= 0 else z)    # exp(-|z|), in [0, 1]
    # d softplus(-z) / dz = -sigmoid(-z), computed without cancellation in both tails
    cdef real one = 1                                    # keeps the arithmetic in float
    cdef real sigmoid_minus_z = e / (one + e) if z >= 0 else one / (one + e)
    loss.excess += e + loss.excess * e                   # (1 + x)(1 + e) = 1 + (x + e + xe)
    if z < 0:
        loss.linear -= z
    if loss.excess > 1e300:                              # only with thousands of outputs
        loss.linear += log1p(loss.excess)
        loss.excess = 0
    return -sigmoid_minus_z if positive else sigmoid_minus_z


cdef inline void output_dscores(real* z, int n, ExampleLoss* loss) noexcept nogil:
    """output_dscore of n outputs at once (vector_math.logistic_grads): z[i], the score
    signed by the output's label, becomes sigmoid(-z[i]); d loss / d score is -z[i] for a
    label 1 and z[i] for a label 0 (`signed_dscore`). Their loss is added to `loss`."""
    logistic_grads(z, n, &loss.excess, &loss.linear)


cdef inline real signed_score(real score, bint positive) noexcept nogil:
    """An output's score signed by its label, as output_dscores takes it."""
    return score if positive else -score


cdef inline real signed_dscore(real grad, bint positive) noexcept nogil:
    """d loss / d score from output_dscores' sigmoid(-z)."""
    return -grad if positive else grad


cdef inline double example_loss(const ExampleLoss* loss) noexcept nogil:
    return log1p(loss.excess) + loss.linear


cdef inline int32_t draw_negative(const AliasEntry* table, int64_t size, uint64_t* rng) noexcept nogil:
    """One draw from the alias table: one 64-bit random number, one table entry."""
    cdef uint64_t r = next_u64(rng)
    cdef int64_t slot = <int64_t>(((r >> 32) * <uint64_t>size) >> 32)
    cdef float coin = <float>(r & 0xFFFFFF) * (1.0 / 16777216.0)
    if coin < table[slot].prob:
        return <int32_t>slot
    return table[slot].alias


cdef inline void add_output(const ModelArrays* m, WorkerScratch* w, int32_t row, int table,
                            bint label) noexcept nogil:
    cdef int n = w.n_outputs
    cdef int slot = hot_slot(w, table, row)
    w.out_labels[n] = label
    w.n_outputs = n + 1
    if slot >= 0:                       # the thread's own copy (hot_rows.pxd)
        w.out_rows[n] = slot
        w.out_tables[n] = HOT_TABLE
        return
    w.out_rows[n] = row
    w.out_tables[n] = <uint8_t>table
    # a random row, likely not in cache: start loading it while the rest is assembled
    prefetch_row(row_of(&m.tables[table], row), m.dim)


cdef inline void prefetch_paths(const ModelArrays* m, const int32_t* sentence, int i,
                                int n) noexcept nogil:
    """Hierarchical softmax: start loading the Huffman paths of the targets ahead, three
    dependent loads otherwise missed in turn (where word i + 2's path starts, then word
    i + 1's codes and points, whose start the previous position asked for)."""
    cdef int64_t k
    if i + 2 < n:
        prefetch(&m.code_starts[sentence[i + 2]])
    if i + 1 < n:
        k = m.code_starts[sentence[i + 1]]
        prefetch(&m.points[k])
        prefetch(&m.codes[k])


cdef inline int add_target(const ModelArrays* m, WorkerScratch* w, int32_t target) noexcept nogil:
    """Append the outputs of `target` (negative sampling and/or hierarchical softmax) to
    the example's outputs. Returns 0, or -1 (w.bad_row set) for an out-of-range draw in
    debug builds."""
    cdef int d
    cdef int64_t k
    cdef int32_t word
    if m.negative > 0:
        add_output(m, w, target, NS_TABLE, True)
        for d in range(m.negative):
            word = draw_negative(m.negatives, m.vocab_size, &w.rng)
            if W2V_DEBUG_CHECKS and (word < 0 or word >= m.vocab_size):
                w.bad_row = word
                return -1
            if word != target:          # as word2vec: a draw of the target is skipped
                add_output(m, w, word, NS_TABLE, False)
    if m.hs:
        for k in range(m.code_starts[target], m.code_starts[target + 1]):
            add_output(m, w, m.points[k], HS_TABLE, m.codes[k] == 0)
    return 0
