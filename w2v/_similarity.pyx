"""The cosine of every row of a matrix with a query vector, in one pass over the matrix.

Queries read the vectors as they are at the call (an edit in place is seen at once), so
the row norms cannot be cached: this kernel computes each row's dot product with the
query and its squared length together, reading the matrix once, where V @ q followed by
the norms would read it twice (both passes are bound by memory bandwidth).
"""
from libc.math cimport sqrtf

import numpy as np


cdef void cosines_of_rows(const float* rows, Py_ssize_t n_rows, Py_ssize_t dim,
                          const float* query, float* out) noexcept nogil:
    """out[i] = rows[i] . query / |rows[i]| (0 for a zero row). The query is not
    normalised here: pass a unit vector for cosines."""
    cdef Py_ssize_t i, j
    cdef const float* row
    cdef float dot, squares, x
    for i in range(n_rows):
        row = rows + i * dim
        dot = 0.0
        squares = 0.0
        for j in range(dim):
            x = row[j]
            dot += x * query[j]
            squares += x * x
        out[i] = dot / sqrtf(squares) if squares > 0 else 0.0


def row_cosines(const float[:, ::1] rows, const float[::1] query, float[::1] out):
    """Fill `out` with the cosine of each row of `rows` (float32, C order) with the unit
    vector `query`; returns `out`. Runs without the GIL."""
    if query.shape[0] != rows.shape[1]:
        raise ValueError(f"query of {query.shape[0]} dims for rows of {rows.shape[1]}")
    if out.shape[0] != rows.shape[0]:
        raise ValueError(f"out holds {out.shape[0]} values for {rows.shape[0]} rows")
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        out[:] = 0
        return np.asarray(out)
    with nogil:
        cosines_of_rows(&rows[0, 0], rows.shape[0], rows.shape[1], &query[0], &out[0])
    return np.asarray(out)
