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

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)


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
def bucket_shuffle(label_key, swap_key, counts, order, scratch):
    """Write a uniform permutation of range(n) into ``order`` (n,) int64, using ``scratch`` (n,) int64.

    1. scatter: index i goes, in increasing i, to the next free slot of its bucket in ``scratch``
       (labels replayed from ``label_key``; ``counts[k+1]`` is the size of bucket k);
    2. per bucket, a Fisher–Yates permutation of its slots (draws from ``swap_key``) says which
       scratch slot each output position takes: random accesses stay inside one cache-sized bucket and
       the writes are sequential.
    """
    offsets = np.cumsum(counts)
    free = offsets[:-1].copy()
    state = np.uint64(label_key)
    k = np.uint64(len(counts) - 1)
    for i in range(len(order)):
        state, label = _below(state, k)
        scratch[free[label]] = i
        free[label] += 1
    perm = np.empty(np.max(counts), dtype=np.int64)
    state = np.uint64(swap_key)
    for b in range(len(counts) - 1):
        lo, m = offsets[b], offsets[b + 1] - offsets[b]
        for t in range(m):
            perm[t] = t
        for t in range(m - 1, 0, -1):
            state, j = _below(state, np.uint64(t + 1))
            perm[t], perm[j] = perm[j], perm[t]
        for t in range(m):
            order[lo + t] = scratch[lo + perm[t]]
