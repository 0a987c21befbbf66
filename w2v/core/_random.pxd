# A tiny per-thread random number generator (xorshift64*), inline so every kernel
# module can cimport it. The state is a plain uint64 owned by the caller: no globals.
from libc.stdint cimport uint32_t, uint64_t


cdef inline uint64_t seed_state(uint64_t seed, uint64_t stream) noexcept nogil:
    """Mix (seed, stream) with splitmix64 so that nearby seeds give unrelated states."""
    cdef uint64_t z = seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return z if z != 0 else 0x2545F4914F6CDD1DULL   # xorshift must not start at 0


cdef inline uint64_t next_u64(uint64_t* state) noexcept nogil:
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * 0x2545F4914F6CDD1DULL


cdef inline uint32_t next_below(uint64_t* state, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2**-32 * n)."""
    return <uint32_t>(((next_u64(state) >> 32) * <uint64_t>n) >> 32)


cdef inline float next_float(uint64_t* state) noexcept nogil:
    """Uniform float in [0, 1) with 24 random bits."""
    return <float>(next_u64(state) >> 40) * (1.0 / 16777216.0)
