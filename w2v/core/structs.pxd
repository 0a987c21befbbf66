# The data the kernels share: what a training run reads and updates (ModelArrays, one for
# all threads) and what one thread writes besides the shared arrays (WorkerScratch).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

ctypedef float real

cdef extern from *:
    """
    #ifndef W2V_DEBUG_CHECKS
    #define W2V_DEBUG_CHECKS 0
    #endif
    """
    # 1 in the debug build (W2V_DEBUG=1 pip install .): the kernels check every row index
    const int W2V_DEBUG_CHECKS


cdef struct AliasEntry:
    # One slot of Walker's alias table: keep this slot's word with probability
    # `prob`, else take `alias`. Packed so that one draw touches one cache line.
    float prob
    int32_t alias


cdef enum Optimizer:
    OPT_SGD = 0
    OPT_ADAM = 1


cdef enum:
    # The trainable matrices. An output names the table its row lives in.
    IN_TABLE = 0        # W_in: the input rows (word vectors)
    NS_TABLE = 1        # W_out: output rows of negative sampling, one per word
    HS_TABLE = 2        # W_hs: inner-node rows of hierarchical softmax, vocab_size - 1
    N_TABLES = 3
    HOT_TABLE = 3       # an output row the thread keeps its own copy of (hot_rows.pxd)


cdef struct Table:
    # One trainable matrix (borrowed from numpy, updated in place) and its Adam moments.
    # Row r starts at w + r * stride (stride >= dim: a table may be a strided view, e.g.
    # of one array holding each row's parameters and moments side by side).
    real* w
    real* m1            # Adam first moments, rows at the same stride (NULL for SGD)
    real* m2            # Adam second moments
    int64_t rows        # 0 for a table the model does not have
    int64_t stride      # floats from one row to the next


cdef struct ModelArrays:
    Table tables[3]     # indexed by TableId
    int dim
    int64_t vocab_size
    # Which examples a sentence gives (inputs.pxd, train.pyx)
    bint sg             # skip-gram (else CBOW)
    bint mean_inputs    # a hidden vector is the mean of its group's rows (else the sum:
                        # CBOW with cbow_mean off)
    int window
    bint shrink_windows
    bint shared_negatives   # skip-gram: one draw of targets (negatives) per centre word, shared
                            # by all its context words (else a fresh draw for every pair)
    const float* keep_prob          # per word: probability to keep an occurrence (subsampling)
    const uint8_t* target_mask      # per word: 0 = never a target (its windows are skipped; it
                                    # is still a context word); NULL: every word (w2v.spark's
                                    # row ownership: a task trains only the targets it owns)
    # The seam for subword n-grams: the W_in rows of word i are input_rows[input_starts[i]:
    # input_starts[i + 1]]; NULL: word i's only input row is row i.
    const int64_t* input_starts
    const int32_t* input_rows
    int max_input_rows  # the most input rows one word has (1 without n-grams)
    bint centre_inputs  # skip-gram as fastText: the centre word's rows are the input, each
                        # context word a target (else word2vec's: context inputs, centre target)
    # Losses (losses.pxd)
    int negative                    # negatives per target (0: no negative sampling)
    const AliasEntry* negatives     # alias table over counts ** ns_exponent
    bint hs                         # hierarchical softmax
    const int64_t* code_starts      # word i's Huffman path is codes/points[code_starts[i]:code_starts[i + 1]]
    const uint8_t* codes            # the branch taken at each inner node (0 / 1)
    const int32_t* points           # the inner nodes of the path, root first (rows of W_hs)
    int max_code_length
    # nn.Embedding-style options on W_in
    int64_t frozen_rows   # W_in rows below this stay fixed (freeze); the output tables train
    int64_t padding_idx   # this W_in row is never updated; -1: none
    real max_norm         # > 0: a looked-up W_in row longer than this is rescaled in place
    real norm_type        # the p of that p-norm
    # Optimizer (optimizers.pxd)
    Optimizer optimizer
    double beta1
    double beta2
    double eps
    int batch_windows     # Adam: positions (windows) per step
    # SGD: each thread keeps its own copy of the hottest output rows (hot_rows.pxd)
    int hot_hs_rows       # rows of W_hs (its last, the nodes nearest the root); 0: none
    int hot_sync_windows  # windows between a thread's syncs of its copies
    # CBOW: each context position's input vector read once and its rows moved once
    # (context_cache.pxd) instead of at every window that reaches it
    bint context_cache


cdef struct SparseGrad:
    # Gradient rows of one table summed over one Adam minibatch, only for the rows it touched.
    int32_t* slot_of_row   # table rows entries, -1 where the row is untouched
    int32_t* rows          # touched rows in first-touch order
    real* grad             # capacity x dim
    int64_t n_rows
    int64_t capacity


cdef struct WorkerScratch:
    # Everything one training thread writes besides the shared arrays.
    uint64_t rng
    int32_t* sentence      # the current sentence after subsampling
    # One example (step.pxd): groups of input rows, each group giving one hidden vector,
    # and the outputs every hidden vector is scored against.
    int32_t* input_rows    # the rows of every group, one group after the other
    int32_t* group_ends    # group g is input_rows[group_ends[g - 1]:group_ends[g]]
    int n_groups
    int max_groups
    int max_group_rows
    real* hidden           # max_groups x dim
    real* hidden_grad      # max_groups x dim: d loss / d hidden
    real* out_delta        # dim: an output row's gradient summed over the hidden vectors
    real* scores           # one output's scores over the groups (or, with one group, every
                           # output's score), then d loss / d score
    int32_t* out_rows      # the outputs: row, table and label of each
    uint8_t* out_tables
    uint8_t* out_labels
    int n_outputs
    int max_outputs
    SparseGrad grads[3]    # Adam: per table
    int batch_count        # Adam: windows summed into grads so far
    # SGD: the thread's copies of the hot output rows (hot_rows.pxd): slot k is W_hs's row
    # hot_hs_first + k
    real* hot              # hot_count x dim: the rows as this thread has moved them
    real* hot_base         # hot_count x dim: their shared values at the last sync
    int hot_count
    int64_t hot_hs_first   # W_hs rows >= this are hot (its row count when none is)
    int hot_windows        # windows since the last sync
    # CBOW with the context cache (context_cache.pxd): per position within reach (slot =
    # position % cache_slots), the sum of its word's input rows, how many rows that is, and
    # the move (SGD) or gradient (Adam) those rows have collected. The group of an example
    # then holds slots, not rows, and cached_rows counts the rows behind them.
    real* cache_sums       # cache_slots x dim
    real* cache_grads      # cache_slots x dim
    int32_t* cache_rows    # cache_slots
    uint8_t* cache_used    # cache_slots: a window has read the slot since it was filled
    int cache_slots
    int cached_rows
    int64_t bad_row        # debug builds: first out-of-range row seen, else -1


cdef struct ExampleLoss:
    # The binary-logistic loss of an example, summed over its outputs without a logarithm
    # per output: log1p(excess) + linear (see losses.output_dscore).
    double excess          # product over outputs of (1 + exp(-|z|)), minus 1
    double linear          # sum over outputs of max(-z, 0)


cdef struct ChunkResult:
    int64_t words          # raw corpus words in the chunk (before subsampling)
    int64_t windows        # positions trained (after subsampling, with >= 1 context word)
    double loss            # sum over windows of their loss
    int64_t steps          # optimizer steps (Adam minibatches) taken
