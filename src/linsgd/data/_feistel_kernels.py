"""Numba kernel of the large epoch order: a keyed Feistel bijection of [0, 2^m), its values below n kept in order.

Index x < 2^m (m = bit length of n − 1) is split into a high part L (m − ⌊m/2⌋ bits) and a low part R
(⌊m/2⌋ bits); four rounds alternate ``L ^= F(R + k0)``, ``R ^= F(L + k1)``, ``L ^= F(R + k2)``,
``R ^= F(L + k3)``, each F the top bits of splitmix64's finaliser (Steele, Lea & Flood 2014). Each round
changes one part by a function of the other, so it is a bijection whatever F is, and four rounds of a
pseudo-random F make a pseudo-random permutation (Luby & Rackoff 1988). The order of n rows is that
permutation's sequence P(0), P(1), … with the values ≥ n dropped (fewer than half of 2^m).

The values of 2^m consecutive indices vectorise (no branch, no table, no memory but the output); the
dropping is a branch-free compaction in a small buffer. Two threads can share the work without counting
first: one fills the order from the front over the first half of [0, 2^m), the other from the back over
the second half, and they meet where the halves' kept values meet.

Kernels take plain arrays and scalars, validate nothing and release the GIL (see ``batching``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen

listen()  # one line on the first compilation (a cache miss): linsgd._jit_cache

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_CHUNK = 4096  # indices per compaction buffer (32 KiB of uint64: in L1)


@njit(inline="always")
def _mix(z):
    """splitmix64's finaliser: a bijection of uint64 whose top bits depend on every input bit."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always")
def _values(keys, bits, start, buf, count):
    """``buf[t] = P(start + t)`` for t < count: the four rounds on the domain of ``bits`` = m bits."""
    k0, k1, k2, k3 = keys[0], keys[1], keys[2], keys[3]
    low = np.uint64(bits // 2)
    mask = (np.uint64(1) << low) - np.uint64(1)
    high_shift = np.uint64(64) - (np.uint64(bits) - low)
    low_shift = np.uint64(64) - low
    for t in range(count):
        x = np.uint64(start + t)
        r, h = x & mask, x >> low
        h ^= _mix(r + k0) >> high_shift
        r ^= _mix(h + k1) >> low_shift
        h ^= _mix(r + k2) >> high_shift
        r ^= _mix(h + k3) >> low_shift
        buf[t] = (h << low) | r


@njit(nogil=True, cache=True)
def feistel_fill(keys, bits, n, order, i0, i1, forward):
    """Write P(i) for i0 ≤ i < i1 with P(i) < n into ``order``, in the order of i; returns the end reached.

    ``keys``: uint64 (4,), the round keys; ``bits``: m, with 2^m ≥ n. Forward, the values go to ``order[0:]`` and
    the end returned is one past the last written; backward (``forward`` False) they go to
    ``order[:n]``'s tail, ending at ``order[n − 1]``, and the start is returned. Called with i0 = 0, i1 = 2^m
    forward (or with the two halves, one each way) it writes the whole order.
    """
    buf = np.empty(_CHUNK, dtype=np.uint64)
    limit = np.uint64(n)
    j = 0 if forward else n
    chunks = -(-(i1 - i0) // _CHUNK)
    for q in range(chunks):
        c = i0 + (q if forward else chunks - 1 - q) * _CHUNK
        e = min(c + _CHUNK, i1)
        _values(keys, bits, c, buf, e - c)
        kept = 0
        for t in range(e - c):  # branch-free compaction of the values below n
            v = buf[t]
            buf[kept] = v
            kept += v < limit
        if forward:
            order[j:j + kept] = buf[:kept]
            j += kept
        else:
            order[j - kept:j] = buf[:kept]
            j -= kept
    return j
