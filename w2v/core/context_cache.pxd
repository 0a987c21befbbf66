# CBOW's context cache: a context word's input rows read once and moved once.
#
# A position of a sentence is a context word of every window within `window` of it, so up
# to 2 x window windows read its input rows (with subwords its own row and its n-grams',
# 15-20 rows scattered over the buckets) and move them all. With the cache each thread
# reads them once, when the position comes within reach, and moves them once, when it
# leaves reach, by what the windows in between collected for them:
#
#   enter(p):   sum_p = the sum of word p's input rows (renormalised first with
#               max_norm), n_p = how many; collected_p = 0
#   a window:   hidden = sum of sum_p over its context positions / sum of their n_p (the
#               mean of all their rows, as without the cache; cbow_mean off: the sum)
#               collected_p += what update_input_rows would give each row (optimizers.pxd)
#   leave(p):   every input row of word p gets collected_p
#
# Adam: rows move only at its steps, so this is the same computation as without the cache
# (float sums in another order); before a step the positions within reach hand in what they
# collected, and are read again after it. SGD: a window reads a context word's rows as they
# were when it came within reach, without the moves of the (at most 2 x window) windows
# since: a delay of the kind Hogwild threads already see from one another. Quality
# measured on text8like: docs/benchmarks.md, "The context cache".
from libc.stdint cimport int32_t
from libc.string cimport memset

from w2v.core.inputs cimport word_input_rows
from w2v.core.optimizers cimport apply_collected_grad, collect_input_grads
from w2v.core.structs cimport IN_TABLE, ModelArrays, Table, WorkerScratch, real
from w2v.core.vector_math cimport renorm_row, row_of, sum_rows


cdef inline void enter_position(const ModelArrays* m, WorkerScratch* w, int p) noexcept nogil:
    """Position p of w.sentence comes within reach: sum its word's input rows into its slot."""
    cdef int slot = p % w.cache_slots, j, n, dim = m.dim
    cdef const int32_t* rows
    cdef const Table* w_in = &m.tables[IN_TABLE]
    n = word_input_rows(m, &w.sentence[p], &rows)
    if m.max_norm > 0:
        for j in range(n):
            renorm_row(row_of(w_in, rows[j]), dim, m.max_norm, m.norm_type)
    sum_rows(w_in.w, w_in.stride, rows, n, w.cache_sums + slot * dim, dim)
    w.cache_rows[slot] = n
    memset(w.cache_grads + slot * dim, 0, dim * sizeof(real))
    w.cache_used[slot] = 0


cdef inline void leave_position(const ModelArrays* m, WorkerScratch* w, int p) noexcept nogil:
    """Position p leaves reach: its word's input rows get what the windows collected."""
    cdef int slot = p % w.cache_slots, n
    cdef const int32_t* rows
    if not w.cache_used[slot]:
        return
    n = word_input_rows(m, &w.sentence[p], &rows)
    apply_collected_grad(m, w, rows, n, w.cache_grads + slot * m.dim)
    w.cache_used[slot] = 0


cdef inline void add_input_position(WorkerScratch* w, int p) noexcept nogil:
    """Append position p's slot to the group being assembled (its rows, by their sum)."""
    cdef int slot = p % w.cache_slots
    cdef int end = w.group_ends[w.n_groups]
    w.input_rows[end] = slot
    w.group_ends[w.n_groups] = end + 1
    w.cached_rows += w.cache_rows[slot]
    w.cache_used[slot] = 1


cdef inline void hidden_of_cached_group(const ModelArrays* m, const WorkerScratch* w,
                                        const int32_t* slots, int n_slots,
                                        real* hidden) noexcept nogil:
    """hidden = the mean (or sum) of the rows behind the group's slots, from their sums."""
    cdef int i, dim = m.dim
    sum_rows(w.cache_sums, dim, slots, n_slots, hidden, dim)
    if m.mean_inputs and w.cached_rows > 1:
        for i in range(dim):
            hidden[i] /= w.cached_rows


cdef inline void collect_cached_group(const ModelArrays* m, WorkerScratch* w,
                                      const int32_t* slots, int n_slots,
                                      const real* hidden_grad, real lr) noexcept nogil:
    """Each slot of the group collects what its rows would get from this window."""
    collect_input_grads(m, w.cache_grads, m.dim, slots, n_slots, w.cached_rows, hidden_grad, lr)
