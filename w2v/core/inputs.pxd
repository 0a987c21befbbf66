# The input side of a step: which rows of W_in a word contributes, and the hidden vector
# of a group of input rows.
#
# A word's input rows are its own row, or with subword n-grams (the seam ModelArrays.
# input_starts / input_rows) its row and its n-grams' rows. Which words form a group is
# the model's choice (train.pyx): CBOW, the context words of a position, all in one group;
# skip-gram, one context word a group.
from libc.stdint cimport int32_t
from libc.string cimport memset

from w2v.core.structs cimport IN_TABLE, ModelArrays, Table, WorkerScratch, real
from w2v.core.vector_math cimport prefetch_row, renorm_row, row_of, sum_rows


cdef inline int word_input_rows(const ModelArrays* m, const int32_t* word,
                                const int32_t** rows) noexcept nogil:
    """Point *rows at the W_in rows of *word (its own row; with subwords its row and its
    n-grams' rows) and return how many there are."""
    if m.input_starts == NULL:
        rows[0] = word
        return 1
    rows[0] = m.input_rows + m.input_starts[word[0]]
    return <int>(m.input_starts[word[0] + 1] - m.input_starts[word[0]])


cdef inline void add_input_word(const ModelArrays* m, WorkerScratch* w,
                                const int32_t* word) noexcept nogil:
    """Append the input rows of *word to the group being assembled."""
    cdef int j, end = w.group_ends[w.n_groups]
    cdef const int32_t* rows
    cdef int n = word_input_rows(m, word, &rows)
    for j in range(n):
        w.input_rows[end + j] = rows[j]
    w.group_ends[w.n_groups] = end + n


cdef inline void prefetch_input_rows(const ModelArrays* m, const int32_t* word) noexcept nogil:
    """Ask for the W_in rows *word contributes (its own, and with subwords its n-grams'),
    a few windows before one reads them: n-gram rows are scattered over the buckets, and
    without this each was a wait on memory."""
    cdef int j
    cdef const int32_t* rows
    cdef int n = word_input_rows(m, word, &rows)
    for j in range(n):
        prefetch_row(row_of(&m.tables[IN_TABLE], rows[j]), m.dim)


cdef inline void start_examples(WorkerScratch* w) noexcept nogil:
    """Forget the groups and outputs of the previous example."""
    w.n_groups = 0
    w.group_ends[0] = 0
    w.n_outputs = 0
    w.cached_rows = 0


cdef inline void close_group(WorkerScratch* w) noexcept nogil:
    """The group being assembled is complete; the next word starts a new one."""
    w.n_groups += 1
    w.group_ends[w.n_groups] = w.group_ends[w.n_groups - 1]


cdef inline void hidden_of_group(const ModelArrays* m, const int32_t* rows, int n_rows,
                                 real* hidden) noexcept nogil:
    """hidden = mean (or sum) of the rows of W_in; rows longer than max_norm are first
    renormalised in place, as torch.nn.functional.embedding does on lookup."""
    cdef int j, i, dim = m.dim
    cdef const Table* w_in = &m.tables[IN_TABLE]
    if m.max_norm > 0:
        for j in range(n_rows):
            renorm_row(row_of(w_in, rows[j]), dim, m.max_norm, m.norm_type)
    sum_rows(w_in.w, w_in.stride, rows, n_rows, hidden, dim)
    if m.mean_inputs and n_rows > 1:
        for i in range(dim):
            hidden[i] /= n_rows
