"""The kernels of ``bench_gather.py``: read rows in a given order and sum them, with no SGD (nogil numba).

They do the least arithmetic that keeps the loads and request rows ahead as the fused engine's kernels do
(``linsgd._prefetch``; the wide rows with ``linsgd.engines._row_groups``' request of four rows), so that what
they reach on one and two threads is the ceiling of an SGD epoch that reads the same rows in the same order.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from linsgd._prefetch import prefetch
from linsgd.engines._row_groups import _prefetch_four, _row

_LINE = 64
# Rows requested ahead. Measured, one thread over all rows, best of 7-9 interleaved (load 0.9-1.6 on 2 cores):
# wide, wall ms, every line into L2 32 / 64 rows ahead and the rows NEAR on into L1 too 18.6-18.7 / 19.0-19.1,
# L2 alone 21.9 / 22.0-22.1, no prefetch 40.0; narrow, CPU ms, into L1 48 / 96 (the tiny kernel's) / 128 / 192
# / 256 / 512 rows ahead 46.3 / 30.2 / 26.2 / 26.3-26.5 / 27.2 / 31.0, into L2 96 / 256 / 512 32.9 / 29.4 /
# 32.5, no prefetch 173.5.
WIDE_AHEAD = 32
NEAR = 12  # linsgd's row groups: GROUP
NARROW_AHEAD = 128


@njit(nogil=True, fastmath=True)
def gather_wide(X, y, order, k0, k1, ahead):
    """Σ of the rows X[order[k]] and y[order[k]], k0 ≤ k < k1, four rows a pass (the last up to three one by
    one), requested as linsgd's far kernel does (``_row_groups._rows4``): every line of the rows ``ahead`` on
    into L2, of those ``NEAR`` on into L1 as well."""
    d = X.shape[1]
    acc = np.zeros(d, dtype=X.dtype)
    t = y[0] - y[0]
    mine = order[:k1]  # _prefetch_four stops at the last row of its order
    full = k0 + (k1 - k0) // 4 * 4
    for k in range(k0, full, 4):
        _prefetch_four(X, y, mine, k + ahead)
        for a in range(k + NEAR, min(k + NEAR + 4, k1)):
            for j in range(0, d, _LINE // X.itemsize):
                prefetch(X, order[a], j)
            prefetch(y, order[a], 0)
        i0, i1, i2, i3 = _row(order, k), _row(order, k + 1), _row(order, k + 2), _row(order, k + 3)
        for j in range(d):
            acc[j] += (X[i0, j] + X[i1, j]) + (X[i2, j] + X[i3, j])
        t += (y[i0] + y[i1]) + (y[i2] + y[i3])
    for k in range(full, k1):
        i = _row(order, k)
        for j in range(d):
            acc[j] += X[i, j]
        t += y[i]
    return acc.sum() + t


@njit(nogil=True, fastmath=True)
def gather_packed(Z, order, k0, k1, ahead):
    """Σ of the packed rows Z[order[k]], k0 ≤ k < k1; the row ``ahead`` on requested into L1 (its first and
    last value: a 12-byte row may cross a line)."""
    last = Z.shape[1] - 1
    s0 = s1 = s2 = Z[0, 0] - Z[0, 0]
    for k in range(k0, k1):
        a = order[min(k + ahead, k1 - 1)]
        prefetch(Z, a, 0)
        prefetch(Z, a, last)
        i = order[k]
        s0 += Z[i, 0]
        s1 += Z[i, 1]
        s2 += Z[i, last]
    return s0 + s1 + s2


@njit(nogil=True, fastmath=True)
def resident_sum(a, times):
    """Σ of ``a`` read ``times`` times: a cache-resident load and add loop (the SMT probe)."""
    s = a[0] - a[0]
    for _ in range(times):
        for j in range(len(a)):
            s += a[j]
    return s


def check(X, y, Z, order) -> None:
    """The gathers read exactly the rows asked: their sums against NumPy's over 1,001 shuffled rows (float32
    rounding: ~0.002 here; one row left out or read twice moves the sums by 0.5-8)."""
    wide, narrow = np.hstack([X[order[:1001]], y[order[:1001], None]]), Z[order[:1001]]
    halves = gather_wide(X, y, order, 0, 500, WIDE_AHEAD) + gather_wide(X, y, order, 500, 1001, WIDE_AHEAD)
    for got, want in ((gather_wide(X, y, order, 0, 1001, WIDE_AHEAD), wide), (halves, wide),
                      (gather_packed(Z, order, 0, 1001, NARROW_AHEAD), narrow)):
        want = want.astype(np.float64)
        if abs(got - want.sum()) > 2e-6 * np.abs(want).sum():
            sys.exit(f"bench_gather: a gather summed {got}, NumPy {want.sum()}: it does not read the rows it reports")
