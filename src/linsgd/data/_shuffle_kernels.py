"""Numba kernels of the epoch shuffle: a uniformly random permutation, built cache-aware in buckets.

Random numbers: splitmix64 (Steele, Lea & Flood 2014), a 64-bit counter passed through a bijective
mixer; each stream is a counter started at a key derived from ``(seed, epoch, stream)`` by numpy's
SeedSequence. Integers below ``s`` are drawn by Lemire's multiply-shift with rejection (2019), which is
exactly uniform, not the biased ``x % s``.

Kernels take plain arrays and scalars, validate nothing and release the GIL (see ``batching``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._prefetch import prefetch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LINE = 64  # bytes per cache line


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


@njit(nogil=True, cache=True)
def bucket_counts(label_key, n, nbuckets):
    """How many of the n examples draw each of ``nbuckets`` labels (iid uniform) from ``label_key``."""
    counts = np.zeros(nbuckets + 1, dtype=np.int64)
    state = np.uint64(label_key)
    k = np.uint64(nbuckets)
    for _ in range(n):
        state, label = _below(state, k)
        counts[label + 1] += 1
    return counts


@njit(nogil=True, cache=True)
def bucket_shuffle(label_key, swap_key, counts, order):
    """Write a uniform permutation of range(n) into ``order`` (n,) int64.

    1. scatter: index i goes, in increasing i, to the next free slot of its bucket (labels replayed
       from ``label_key``; ``counts[k+1]`` is the size of bucket k), a sequential read and
       ``nbuckets`` sequential write streams;
    2. per bucket, Fisher–Yates in place (draws from ``swap_key``) after the bucket's lines have been
       requested in sequence, so that the random swaps hit the cache.
    """
    offsets = np.cumsum(counts)
    free = offsets[:-1].copy()
    state = np.uint64(label_key)
    k = np.uint64(len(counts) - 1)
    for i in range(len(order)):
        state, label = _below(state, k)
        order[free[label]] = i
        free[label] += 1
    state = np.uint64(swap_key)
    for b in range(len(counts) - 1):
        lo, hi = offsets[b], offsets[b + 1]
        for t in range(lo, hi, _LINE // order.itemsize):
            prefetch(order, t, 0)
        for t in range(hi - lo - 1, 0, -1):
            state, j = _below(state, np.uint64(t + 1))
            order[lo + t], order[lo + j] = order[lo + j], order[lo + t]
