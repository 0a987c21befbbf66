# Vector maths on float rows: plain loops that GCC vectorises (setup.py's flags allow the
# reassociation), prefetching, and nn.Embedding's max_norm renormalisation.
from libc.math cimport fabsf, fmaxf, isinf, powf, sqrtf
from libc.stdint cimport int64_t

from w2v.core.structs cimport Table, real

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define w2v_prefetch(address) __builtin_prefetch((const void*)(address))
    #else
    #define w2v_prefetch(address) ((void)(address))
    #endif
    """
    void prefetch "w2v_prefetch"(const void* address) noexcept nogil


cdef inline real* row_of(const Table* table, int64_t row) noexcept nogil:
    """Where row `row` of a table starts."""
    return table.w + row * table.stride


cdef inline void prefetch_row(const real* row, int dim) noexcept nogil:
    """Ask for every cache line of a row (64 bytes = 16 floats a line)."""
    cdef int i
    for i in range(0, dim, 16):
        prefetch(row + i)


cdef inline real dot(const real* a, const real* b, int n) noexcept nogil:
    cdef int i
    cdef real total = 0
    for i in range(n):
        total += a[i] * b[i]
    return total


cdef inline void axpy(real alpha, const real* x, real* y, int n) noexcept nogil:
    """y += alpha * x"""
    cdef int i
    for i in range(n):
        y[i] += alpha * x[i]


cdef inline void renorm_row(real* row, int dim, real max_norm, real norm_type) noexcept nogil:
    """Rescale `row` to p-norm max_norm if it is longer, as torch's embedding_renorm_."""
    cdef int i
    cdef real norm = 0
    if norm_type == 2:
        norm = sqrtf(dot(row, row, dim))
    elif norm_type == 1:
        for i in range(dim):
            norm += fabsf(row[i])
    elif isinf(norm_type):
        for i in range(dim):
            norm = fmaxf(norm, fabsf(row[i]))
    else:
        for i in range(dim):
            norm += powf(fabsf(row[i]), norm_type)
        norm = powf(norm, 1 / norm_type)
    if norm > max_norm:
        norm = max_norm / (norm + <real>1e-7)
        for i in range(dim):
            row[i] *= norm
