# The API of the CBOW core: the structs the kernels share and the noexcept nogil
# kernels themselves. Python code never sees these; it calls the def functions in
# _kernels.pyx, which convert arrays once and then stay in nogil code for a chunk.
from libc.stdint cimport int32_t, int64_t, uint64_t

ctypedef float real


cdef struct AliasEntry:
    # One slot of Walker's alias table: keep this slot's word with probability
    # `prob`, else take `alias`. Packed so that one draw touches one cache line.
    float prob
    int32_t alias


cdef enum Optimizer:
    OPT_SGD = 0
    OPT_ADAM = 1


cdef struct ModelArrays:
    # Borrowed pointers into the shared numpy arrays; they are updated in place.
    real* w_in            # vocab_size x dim: the word vectors
    real* w_out           # vocab_size x dim: the output (negative-sampling) vectors
    real* m_in            # Adam first moments of w_in (NULL for SGD)
    real* v_in            # Adam second moments of w_in
    real* m_out
    real* v_out
    const float* keep_prob        # per word: probability to keep it (subsampling)
    const AliasEntry* negatives   # alias table over unigram ** ns_exponent
    int64_t vocab_size
    int dim
    int window
    int negative
    bint cbow_mean
    bint shrink_windows
    Optimizer optimizer
    # nn.Embedding-style options on W_in (the embedding the context rows are looked up in)
    bint update_in        # False: W_in is frozen (from_pretrained(freeze=True)); W_out trains
    int64_t padding_idx   # this W_in row is never updated (nn.Embedding's padding_idx); -1: none
    real max_norm         # > 0: a looked-up W_in row longer than this is rescaled in place
    real norm_type        # the p of that p-norm
    # Adam
    double beta1
    double beta2
    double eps
    int batch_windows


cdef struct SparseGrad:
    # Gradient rows summed over one Adam minibatch, only for the rows it touched.
    int32_t* slot_of_row   # vocab_size entries, -1 where the row is untouched
    int32_t* rows          # touched rows in first-touch order
    real* grad             # capacity x dim
    int64_t n_rows
    int64_t capacity


cdef struct WorkerScratch:
    # Everything one training thread writes besides the shared arrays.
    uint64_t rng
    real* hidden           # dim: the (mean of the) context rows
    real* hidden_grad      # dim: d loss / d hidden
    int32_t* sentence      # the current sentence after subsampling
    int32_t* context       # 2 * window ids
    int32_t* outputs       # 1 + negative ids: the target first, then the negatives
    SparseGrad grad_in
    SparseGrad grad_out
    int batch_count        # windows summed into grad_in/grad_out so far
    int64_t bad_row        # debug builds: first out-of-range row seen, else -1


cdef struct WindowLoss:
    # The negative-sampling loss of one window, summed over its outputs without a
    # logarithm per output: log1p(excess) + linear (see output_dscore).
    double excess          # product over outputs of (1 + exp(-|z|)), minus 1
    double linear          # sum over outputs of max(-z, 0)


cdef struct ChunkResult:
    int64_t words          # raw corpus words in the chunk (before subsampling)
    int64_t windows        # positions trained (after subsampling, with >= 1 context word)
    double loss            # sum over windows of the negative-sampling loss
    int64_t steps          # optimizer steps (Adam minibatches) taken


cdef real dot(const real* a, const real* b, int n) noexcept nogil
cdef void axpy(real alpha, const real* x, real* y, int n) noexcept nogil
cdef int32_t draw_negative(const AliasEntry* table, int64_t size, uint64_t* rng) noexcept nogil
cdef double loss_and_dscore(real score, bint positive, real* dscore) noexcept nogil
cdef void renorm_row(real* row, int dim, real max_norm, real norm_type) noexcept nogil
cdef int cbow_hidden(const ModelArrays* m, WorkerScratch* w,
                     const int32_t* context, int n_context) noexcept nogil
cdef double sgd_window(const ModelArrays* m, WorkerScratch* w, const int32_t* context,
                       int n_context, const int32_t* outputs, int n_outputs,
                       real lr) noexcept nogil
cdef double adam_accumulate_window(const ModelArrays* m, WorkerScratch* w,
                                   const int32_t* context, int n_context,
                                   const int32_t* outputs, int n_outputs) noexcept nogil
cdef void adam_apply_step(const ModelArrays* m, WorkerScratch* w, double lr,
                          int64_t step) noexcept nogil
cdef int64_t subsample(const ModelArrays* m, WorkerScratch* w, const int32_t* ids,
                       int64_t n) noexcept nogil
cdef ChunkResult train_sentences(const ModelArrays* m, WorkerScratch* w,
                                 const int32_t* ids, const int64_t* sentence_starts,
                                 int64_t first_sentence, int64_t end_sentence,
                                 double lr_start, double lr_end, int64_t step0) noexcept nogil
