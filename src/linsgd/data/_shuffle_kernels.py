"""Numba kernel of the epoch shuffle up to SHUFFLE_ROWS rows: Fisher–Yates, exactly uniform.

Random numbers: splitmix64 (Steele, Lea & Flood 2014), a 64-bit counter passed through a bijective
mixer; each stream is a counter started at a key derived from ``(seed, epoch, stream)`` by numpy's
SeedSequence. Integers below ``s`` are drawn by Lemire's multiply-shift with rejection (2019), which is
exactly uniform, not the biased ``x % s``.

Kernels take plain arrays and scalars, validate nothing and release the GIL (see ``batching``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen
from linsgd._prefetch import prefetch

listen()  # one line on the first compilation (a cache miss): linsgd._jit_cache

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LINE = 64  # bytes per cache line
_STREAM_STRIDE = np.uint64((0x9E3779B97F4A7C15 << 32) % (1 << 64))  # 2³² steps of the counter


@njit(inline="always")
def _below(state, s):
    """``(state, k)`` with k uniform on [0, s) for 1 <= s < 2**32, advancing the splitmix64 counter."""
    while True:
        state += _GOLDEN
        z = (state ^ (state >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = (z ^ (z >> _S31)) >> _S32  # the top 32 bits of splitmix64's output
        m = z * s
        low = m & _LOW32
        # Lemire: m >> 32 is uniform once the low word clears (2**32 mod s); rejection is rare (< s/2**32)
        if low >= s or low >= (_TWO32 - s) % s:
            return state, np.int64(m >> _S32)


@njit(inline="always")
def _stream(key, k):
    """Start of stream k of a key: streams are 2³² counters apart, so streams of < 2³² draws are disjoint."""
    return np.uint64(key) + np.uint64(k) * _STREAM_STRIDE


@njit(nogil=True, cache=True)
def shuffle_buckets(swap_key, bounds, order, b0, b1):
    """Fisher–Yates in place on each bucket ``order[bounds[b]:bounds[b+1]]``, b0 ≤ b < b1.

    Bucket b draws from stream b of ``swap_key``. Its lines are requested in sequence first, so that
    the random swaps hit the cache.
    """
    for b in range(b0, b1):
        lo, hi = bounds[b], bounds[b + 1]
        for t in range(lo, hi, _LINE // order.itemsize):
            prefetch(order, t, 0)
        state = _stream(swap_key, b)
        for t in range(hi - lo - 1, 0, -1):
            state, j = _below(state, np.uint64(t + 1))
            order[lo + t], order[lo + j] = order[lo + j], order[lo + t]
