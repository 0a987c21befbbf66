# Kernels of the vector queries (w2v/vectors.py): noexcept nogil, no globals.

cdef void cosines_of_rows(const float* rows, Py_ssize_t n_rows, Py_ssize_t dim,
                          const float* query, float* out) noexcept nogil
