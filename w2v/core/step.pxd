# The training step, the same for every model of the family (as fastText's Model::update):
#
#   groups of input rows of W_in -> one hidden vector per group (mean or sum)
#   -> every hidden vector scored against every output row (losses.pxd) with the binary
#      logistic loss -> d loss / d hidden, d loss / d output row
#   -> the optimizer moves the touched rows in place (optimizers.pxd)
#
# Models differ only in how they fill the groups and the outputs (train.pyx): CBOW, one
# group (the context words) and the outputs of the centre word; skip-gram, one group per
# context word and the outputs of the centre word, drawn once for all of them
# (shared_negatives) or afresh for each. With one group this is word2vec's update exactly:
# each output row moves as soon as its gradient is known. With several groups an output
# row's gradient is summed over the groups first, every score using the rows as they were
# when the output came up. With the context cache (CBOW, context_cache.pxd) a group holds
# cache slots, each standing for a context word's rows by their sum, and the input rows
# get their gradient when the word leaves reach.
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memset

from w2v.core.context_cache cimport collect_cached_group, hidden_of_cached_group
from w2v.core.hot_rows cimport output_row
from w2v.core.inputs cimport hidden_of_group
from w2v.core.losses cimport (example_loss, output_dscore, output_dscores, signed_dscore,
                              signed_score)
from w2v.core.optimizers cimport (update_input_rows, update_output_row,
                                  update_output_row_after_hidden_grad)
from w2v.core.structs cimport NS_TABLE, OPT_SGD, ExampleLoss, ModelArrays, WorkerScratch, real
from w2v.core.vector_math cimport dot, output_grads


cdef inline bint outputs_distinct(const WorkerScratch* w) noexcept nogil:
    """Whether no row of a table is among the example's outputs twice. Only negative
    sampling can repeat one (a word drawn twice); a Huffman path's nodes are distinct,
    whether in W_hs or in the thread's copy of its hot rows."""
    cdef int a, b
    for a in range(w.n_outputs):
        if w.out_tables[a] == NS_TABLE:
            for b in range(a + 1, w.n_outputs):
                if w.out_rows[b] == w.out_rows[a] and w.out_tables[b] == NS_TABLE:
                    return False
    return True


cdef inline double train_example(const ModelArrays* m, WorkerScratch* w, real lr) noexcept nogil:
    """One step on the example assembled in `w` (groups and outputs). Returns its loss."""
    cdef int g, o, dim = m.dim, n_groups = w.n_groups
    cdef int start
    cdef bint batched
    cdef real dscore
    cdef real* out_row
    cdef ExampleLoss loss
    loss.excess = 0
    loss.linear = 0
    start = 0
    for g in range(n_groups):
        if m.context_cache:
            hidden_of_cached_group(m, w, w.input_rows + start, w.group_ends[g] - start,
                                   w.hidden + g * dim)
        else:
            hidden_of_group(m, w.input_rows + start, w.group_ends[g] - start, w.hidden + g * dim)
        start = w.group_ends[g]
    memset(w.hidden_grad, 0, n_groups * dim * sizeof(real))
    batched = m.optimizer != OPT_SGD or outputs_distinct(w)
    if batched and n_groups == 1:
        # One hidden vector, and every output a different row (or Adam, whose rows do not
        # move within an example): a score is the same whether the outputs before it have
        # moved their rows or not, so the scores, then their gradients, then the updates
        # each run as a loop of independent pieces the CPU overlaps, instead of one
        # dot -> exp -> update chain an output. The same arithmetic in the same order as
        # the loop below: the results are identical.
        for o in range(w.n_outputs):
            w.scores[o] = dot(w.hidden, output_row(m, w, w.out_tables[o], w.out_rows[o]), dim)
        for o in range(w.n_outputs):
            w.scores[o] = output_dscore(w.scores[o], w.out_labels[o], &loss)
        for o in range(w.n_outputs):
            update_output_row_after_hidden_grad(
                m, w, w.out_tables[o], w.out_rows[o],
                output_row(m, w, w.out_tables[o], w.out_rows[o]), w.scores[o], w.hidden,
                w.hidden_grad, lr)
    elif batched:
        # Several hidden vectors (skip-gram), every output a different row (or Adam): the
        # same reasoning for the outputs x groups scores, all computed first, then their
        # gradients in one vector pass (output_dscores: 16 at a time, where one at a time
        # each waited on a scalar exp and division; 1.2x skip-gram + HS's speed on one
        # thread), then the updates. The same arithmetic per score as the loop below:
        # the same results. (With one group, a few outputs: the loop above is faster.)
        for o in range(w.n_outputs):
            out_row = output_row(m, w, w.out_tables[o], w.out_rows[o])
            for g in range(n_groups):
                w.scores[o * n_groups + g] = signed_score(dot(w.hidden + g * dim, out_row, dim),
                                                          w.out_labels[o])
        output_dscores(w.scores, w.n_outputs * n_groups, &loss)
        for o in range(w.n_outputs):
            for g in range(n_groups):
                w.scores[o * n_groups + g] = signed_dscore(w.scores[o * n_groups + g],
                                                           w.out_labels[o])
            # hidden_grad_g += score_g out_row; out_delta = sum_g score_g hidden_g
            output_grads(output_row(m, w, w.out_tables[o], w.out_rows[o]), w.scores + o * n_groups,
                         n_groups, w.hidden, w.hidden_grad, w.out_delta, dim)
            update_output_row(m, w, w.out_tables[o], w.out_rows[o], 1, w.out_delta, lr)
    elif n_groups == 1:
        # a row among the outputs twice: word2vec's order, each row moved before the next
        # output is scored
        for o in range(w.n_outputs):
            out_row = output_row(m, w, w.out_tables[o], w.out_rows[o])
            dscore = output_dscore(dot(w.hidden, out_row, dim), w.out_labels[o], &loss)
            update_output_row_after_hidden_grad(m, w, w.out_tables[o], w.out_rows[o], out_row,
                                                dscore, w.hidden, w.hidden_grad, lr)
    else:
        # several groups and a row among the outputs twice (SGD): each output scored
        # against the rows as the outputs before it left them
        for o in range(w.n_outputs):
            out_row = output_row(m, w, w.out_tables[o], w.out_rows[o])
            # the scores first: independent dot products the CPU overlaps
            for g in range(n_groups):
                w.scores[g] = dot(w.hidden + g * dim, out_row, dim)
            for g in range(n_groups):
                w.scores[g] = output_dscore(w.scores[g], w.out_labels[o], &loss)
            # hidden_grad_g += score_g out_row; out_delta = sum_g score_g hidden_g
            output_grads(out_row, w.scores, n_groups, w.hidden, w.hidden_grad, w.out_delta, dim)
            update_output_row(m, w, w.out_tables[o], w.out_rows[o], 1, w.out_delta, lr)
    start = 0
    for g in range(n_groups):
        if m.context_cache:
            collect_cached_group(m, w, w.input_rows + start, w.group_ends[g] - start,
                                 w.hidden_grad + g * dim, lr)
        else:
            update_input_rows(m, w, w.input_rows + start, w.group_ends[g] - start,
                              w.hidden_grad + g * dim, lr)
        start = w.group_ends[g]
    return example_loss(&loss)
