# Kernels of subword (character n-gram) hashing, as fastText's Dictionary: noexcept nogil,
# no globals. See w2v/subwords.py for what they compute.
from libc.stdint cimport int32_t, int64_t, uint32_t

cdef uint32_t fnv1a(const unsigned char* data, Py_ssize_t n) noexcept nogil

cdef Py_ssize_t bracketed_ngrams(const unsigned char* word, Py_ssize_t n, int minn, int maxn,
                                 uint32_t* hashes, int32_t* begins,
                                 int32_t* ends) noexcept nogil

cdef Py_ssize_t max_ngrams(Py_ssize_t n_bytes, int minn, int maxn) noexcept nogil
