"""The Cython core: one training step shape for every model of the word2vec family.

    input rows of W_in -> hidden vector(s) -> binary-logistic loss over output rows
    -> gradients -> the optimizer updates the touched rows in place

- `structs.pxd`: the arrays a run shares and each thread's scratch state;
- `vector_math.pxd`: dot, axpy, prefetching, max_norm renormalisation;
- `inputs.pxd`: which W_in rows form the hidden vector (a word's row; the n-gram seam);
- `losses.pxd`: the outputs of a target (negative sampling: target + negatives of W_out;
  hierarchical softmax: the inner nodes of its Huffman path in W_hs) and the binary
  logistic loss they share;
- `optimizers.pxd`: word2vec's SGD and lazy Adam on the touched rows;
- `step.pxd`: the step itself, the same for every model;
- `train.pyx`: a chunk of sentences in one nogil call (CBOW or skip-gram assembling the
  steps), the Python-facing objects, the table builders, and `py_*` twins for tests.
"""
