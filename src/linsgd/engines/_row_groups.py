"""The gradient of a batch of wide rows read in a random order: rows in groups, gathered ahead of use.

A shuffled epoch reads every row from memory at a random place; the arithmetic of a row (one dot product
with w, one update of the gradient) is short next to that wait. Two things together let the wait overlap the
arithmetic (either alone measured about 1×): rows are requested into L2 far ahead of use (many misses in
flight) and into L1 one group ahead, and rows are processed in groups of :data:`GROUP` — the group's
independent dot products keep many loads in flight, and the gradient is updated in one pass per group
instead of one per row. A batch's rows that do not fill a group go in groups of four, the short last one
masked. Same sums as one row at a time, to float rounding.
"""

from __future__ import annotations

from numba import njit

from linsgd._prefetch import prefetch, prefetch_l2

_LINE = 64  # bytes per cache line
# Reassociation lets LLVM vectorise the d-long dot products; no 'nnan'/'ninf', which would let it drop
# the isfinite check of the divergence guard.
_MATH = {"reassoc", "contract"}

# Rows per group. Measured, 10⁶ shuffled rows × 100 float32, batch 256, CPU ms per epoch, best of 6
# interleaved (load ~3 on 2 cores): groups of 4: 57.6, 8: 46.6, 12: 48.2 (as three passes of four dot
# products: 46.9), 16: 48.6; the best size depends on d and the compiler (groups of 12 were the best of
# 4/8/12/16 in an earlier quiet measurement: 53.5/38.0/28.7/30.1 ms).
GROUP = 12


@njit(inline="always")
def _prefetch_row(X, y, i):
    for j in range(0, X.shape[1], _LINE // X.itemsize):  # every line of the row
        prefetch(X, i, j)
    prefetch(y, i, 0)


@njit(inline="always")
def _prefetch_row_l2(X, y, i):
    for j in range(0, X.shape[1], _LINE // X.itemsize):
        prefetch_l2(X, i, j)
    prefetch_l2(y, i, 0)


@njit(inline="always")
def _prefetch_ahead(X, y, order, k, ahead, size):
    """Request the rows ``ahead`` places after the ``size`` rows from ``k`` into L2, the next group's into L1."""
    n = len(order)
    for a in range(k + ahead, min(k + ahead + size, n)):
        _prefetch_row_l2(X, y, order[a])
    for a in range(k + GROUP, min(k + GROUP + size, n)):
        _prefetch_row(X, y, order[a])


@njit(inline="always", fastmath=_MATH)
def _dot4(X, y, w, b, i0, i1, i2, i3):
    """The residuals x_i·w + b − y_i of four rows, in one pass over w."""
    r0, r1, r2, r3 = b - y[i0], b - y[i1], b - y[i2], b - y[i3]
    for j in range(len(w)):
        wj = w[j]
        r0 += X[i0, j] * wj
        r1 += X[i1, j] * wj
        r2 += X[i2, j] * wj
        r3 += X[i3, j] * wj
    return r0, r1, r2, r3


@njit(inline="always", fastmath=_MATH)
def _weigh4(v, r0, r1, r2, r3, i0, i1, i2, i3):
    """The residuals times the rows' weights v_i (unchanged when ``v`` is empty)."""
    if len(v):
        return r0 * v[i0], r1 * v[i1], r2 * v[i2], r3 * v[i3]
    return r0, r1, r2, r3


@njit(inline="always", fastmath=_MATH)
def _group(X, y, w, b, order, k, g, half, v):
    """Add the :data:`GROUP` (12) rows order[k:k + 12] to ``g``; returns their (Σ v_i r_i, Σ ½ r_i²)."""
    i0, i1, i2, i3, i4, i5 = order[k], order[k + 1], order[k + 2], order[k + 3], order[k + 4], order[k + 5]
    i6, i7, i8, i9, i10, i11 = order[k + 6], order[k + 7], order[k + 8], order[k + 9], order[k + 10], order[k + 11]
    r0, r1, r2, r3 = _dot4(X, y, w, b, i0, i1, i2, i3)
    r4, r5, r6, r7 = _dot4(X, y, w, b, i4, i5, i6, i7)
    r8, r9, r10, r11 = _dot4(X, y, w, b, i8, i9, i10, i11)
    loss = ((r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) + (r4 * r4 + r5 * r5 + r6 * r6 + r7 * r7)
            + (r8 * r8 + r9 * r9 + r10 * r10 + r11 * r11)) * half
    r0, r1, r2, r3 = _weigh4(v, r0, r1, r2, r3, i0, i1, i2, i3)
    r4, r5, r6, r7 = _weigh4(v, r4, r5, r6, r7, i4, i5, i6, i7)
    r8, r9, r10, r11 = _weigh4(v, r8, r9, r10, r11, i8, i9, i10, i11)
    for j in range(len(w)):
        g[j] += ((r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j])
                 + (r4 * X[i4, j] + r5 * X[i5, j] + r6 * X[i6, j] + r7 * X[i7, j])
                 + (r8 * X[i8, j] + r9 * X[i9, j] + r10 * X[i10, j] + r11 * X[i11, j]))
    return (r0 + r1 + r2 + r3) + (r4 + r5 + r6 + r7) + (r8 + r9 + r10 + r11), loss


@njit(inline="always", fastmath=_MATH)
def _group4(X, y, w, b, order, k, stop, g, half, v):
    """Add the up to four rows order[k:min(k + 4, stop)] to ``g``; returns their (Σ v_i r_i, Σ ½ r_i²).

    A short group repeats its last row, weighted 0 (non-finite values stay visible).
    """
    last = stop - 1
    zero = b - b
    one = half + half
    i0, i1, i2, i3 = order[k], order[min(k + 1, last)], order[min(k + 2, last)], order[min(k + 3, last)]
    r0, r1, r2, r3 = _dot4(X, y, w, b, i0, i1, i2, i3)
    r1 *= one if k + 1 < stop else zero
    r2 *= one if k + 2 < stop else zero
    r3 *= one if k + 3 < stop else zero
    loss = (r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) * half
    r0, r1, r2, r3 = _weigh4(v, r0, r1, r2, r3, i0, i1, i2, i3)
    for j in range(len(w)):
        g[j] += r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j]
    return r0 + r1 + r2 + r3, loss


@njit(inline="always", fastmath=_MATH)
def _accumulate(X, y, w, b, order, start, stop, ahead, g, half, v):
    """Set ``g = Σ v_i r_i x_i`` over rows order[start:stop] and return ``(Σ v_i r_i, Σ ½ r_i²)``
    (v_i = 1 when ``v`` is empty).

    Row ``order[k + ahead]`` is requested into L2 while row ``order[k]`` is computed (the rows never depend
    on the update), and the next group's rows into L1.
    """
    zero = b - b
    gb, loss = zero, zero
    for j in range(len(w)):
        g[j] = zero
    full = start + (stop - start) // GROUP * GROUP
    for k in range(start, full, GROUP):
        _prefetch_ahead(X, y, order, k, ahead, GROUP)
        s, q = _group(X, y, w, b, order, k, g, half, v)
        gb, loss = gb + s, loss + q
    for k in range(full, stop, 4):
        _prefetch_ahead(X, y, order, k, ahead, 4)
        s, q = _group4(X, y, w, b, order, k, stop, g, half, v)
        gb, loss = gb + s, loss + q
    return gb, loss
