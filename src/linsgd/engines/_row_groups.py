"""The gradient of a batch of wide rows read in a random order: rows in groups, gathered ahead of use.

A shuffled epoch reads every row from memory at a random place; the arithmetic of a row (one dot product
with w, one update of the gradient) is short next to that wait. Two things together let the wait overlap the
arithmetic: rows are requested into L2 far ahead of use (many misses in flight), and rows are processed in
groups of :data:`GROUP` — twelve independent dot products in one pass over w keep many loads in flight (the
out-of-order core brings a group's lines from L2 to L1 by itself: a prefetch into L1 as well only costs
instructions). The gradient is updated four rows per pass (a loop that reads more rows than
that is not vectorised: the compiler checks at run time that g overlaps none of the rows, up to a limit).
A batch's rows that do not fill a group go four at a time, the short last four masked. Rows read from
memory (X far larger than the caches: :func:`_accumulate_far`) all go four at a time, the rows a group on
requested into L1 as well. Same sums as one row at a time, to float rounding.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._prefetch import prefetch, prefetch_l2

_LINE = 64  # bytes per cache line
# Reassociation lets LLVM vectorise the d-long dot products; no 'nnan'/'ninf', which would let it drop
# the isfinite check of the divergence guard.
_MATH = {"reassoc", "contract"}

# Rows per group (the explicit variables of _rows12). Measured, 10⁶ shuffled rows × 100 float32, batch
# 256, CPU ms per epoch, best of 6 interleaved in one process (load 4-6 on 2 cores): groups of twelve 44.5
# against 54.8 for the former groups of four, with rows already in cache 22.8 against 19.7; the gradient
# of twelve rows in one pass instead of three passes of four: 52.1. In separate experiments groups of 8, 12
# and 16 were within noise of each other (46.6, 48.2, 48.6 ms) and all ahead of 4 (57.6 ms).
# Requesting the next group's rows into L1 as well (besides L2 far ahead) was dropped: measured, CPU ms per
# epoch, best of 5-8 interleaved in one process (load 4-8 on 2 cores): rows in cache 14.3-15.1 without
# against 17.7-18.6 with (fourteen prefetch instructions a row fewer), shuffled 38.3-39.7 against 38.1-43.4.
# Groups of 8 and 16 without it: in cache 13.1 and 16.1, shuffled 43.6-46.8 and 36.5 (noisy).
# A group's rows ahead are requested four at a time (:func:`_prefetch_four`), before the dot products and
# before the first and second gradient pass, not all twelve at the start of the group; row indices are
# unsigned (:func:`_row`). Measured, CPU ms per epoch, best of 7 interleaved in one process (load 2.7 on 2
# cores): the four-at-a-time requests before the dot products and the second and third pass, shuffled 27.6
# against 32.5 for twelve rows one by one at the start, rows in cache 9.3 against 11.1, storage order 15.8
# against 14.3; then (three compiled copies each, best of 5, load 2.9) before the first and second pass
# instead, shuffled 21.6-22.2 against 24.2-25.2, in cache 9.4 the same, and unsigned indices on top of it,
# shuffled 20.6-21.0, in cache 8.5-8.7. Twelve rows line by line at the start, or six before the dot products
# and six before the second pass: 36.1 and 39.4 against 33.9 (best of 7, load 2.0). The distance ``ahead``
# mattered little: 24 to 128 rows, 24.6-26.7 ms. The next group's rows into L1 as well, four before each pass
# (12 or 24 rows on): shuffled 21.5-22.3 against 21.4-21.9, in cache 10.0-10.3 against 8.3 (best of 5, load
# 3.7); groups of eight: shuffled 23.6-24.0 against 22.6-23.1, in cache 8.4 against 8.2-8.3 (load 2.0).
GROUP = 12


@njit(inline="always")
def _row(order, k):
    """Row ``order[k]`` as an unsigned index: numba then adds no test for a negative index (counted from
    the end) to every use of it."""
    return np.uint64(order[k])


@njit(inline="always")
def _prefetch_four(X, y, order, a):
    """Request rows order[a:a + 4] into L2 (past the end: the last row again), line by line across the four
    rows: one loop over the lines for four rows costs fewer instructions than one loop per row."""
    last = len(order) - 1
    i0, i1 = _row(order, min(a, last)), _row(order, min(a + 1, last))
    i2, i3 = _row(order, min(a + 2, last)), _row(order, min(a + 3, last))
    for j in range(0, X.shape[1], _LINE // X.itemsize):
        prefetch_l2(X, i0, j)
        prefetch_l2(X, i1, j)
        prefetch_l2(X, i2, j)
        prefetch_l2(X, i3, j)
    prefetch_l2(y, i0, 0)
    prefetch_l2(y, i1, 0)
    prefetch_l2(y, i2, 0)
    prefetch_l2(y, i3, 0)


@njit(inline="always", fastmath=_MATH)
def _rows12(X, y, w, b, order, start, stop, ahead, g, half, v):
    """Add rows order[start:stop] (a multiple of twelve) to ``g`` in groups of twelve; returns their
    (Σ v_i r_i, Σ ½ r_i²)."""
    gb, loss = b - b, b - b
    for k in range(start, stop, GROUP):
        _prefetch_four(X, y, order, k + ahead)  # a group's twelve rows in three parts, one per pass
        i0, i1, i2, i3 = _row(order, k), _row(order, k + 1), _row(order, k + 2), _row(order, k + 3)
        i4, i5, i6, i7 = _row(order, k + 4), _row(order, k + 5), _row(order, k + 6), _row(order, k + 7)
        i8, i9, i10, i11 = _row(order, k + 8), _row(order, k + 9), _row(order, k + 10), _row(order, k + 11)
        r0, r1, r2, r3, r4, r5 = b - y[i0], b - y[i1], b - y[i2], b - y[i3], b - y[i4], b - y[i5]
        r6, r7, r8, r9, r10, r11 = b - y[i6], b - y[i7], b - y[i8], b - y[i9], b - y[i10], b - y[i11]
        for j in range(len(w)):
            wj = w[j]
            r0 += X[i0, j] * wj
            r1 += X[i1, j] * wj
            r2 += X[i2, j] * wj
            r3 += X[i3, j] * wj
            r4 += X[i4, j] * wj
            r5 += X[i5, j] * wj
            r6 += X[i6, j] * wj
            r7 += X[i7, j] * wj
            r8 += X[i8, j] * wj
            r9 += X[i9, j] * wj
            r10 += X[i10, j] * wj
            r11 += X[i11, j] * wj
        loss += ((r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) + (r4 * r4 + r5 * r5 + r6 * r6 + r7 * r7)
                 + (r8 * r8 + r9 * r9 + r10 * r10 + r11 * r11)) * half
        if len(v):
            r0, r1, r2, r3, r4, r5 = r0 * v[i0], r1 * v[i1], r2 * v[i2], r3 * v[i3], r4 * v[i4], r5 * v[i5]
            r6, r7, r8, r9, r10, r11 = r6 * v[i6], r7 * v[i7], r8 * v[i8], r9 * v[i9], r10 * v[i10], r11 * v[i11]
        gb += (r0 + r1 + r2 + r3) + (r4 + r5 + r6 + r7) + (r8 + r9 + r10 + r11)
        _prefetch_four(X, y, order, k + ahead + 4)
        for j in range(len(w)):
            g[j] += r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j]
        _prefetch_four(X, y, order, k + ahead + 8)
        for j in range(len(w)):
            g[j] += r4 * X[i4, j] + r5 * X[i5, j] + r6 * X[i6, j] + r7 * X[i7, j]
        for j in range(len(w)):
            g[j] += r8 * X[i8, j] + r9 * X[i9, j] + r10 * X[i10, j] + r11 * X[i11, j]
    return gb, loss


@njit(inline="always", fastmath=_MATH)
def _rows4(X, y, w, b, order, start, stop, ahead, g, half, v, near, loss_w=None, loss_b=None):
    """Add rows order[start:stop] to ``g`` four at a time; returns their (Σ v_i r_i, Σ ½ r_i², measured).

    A short last group repeats its last row, weighted 0 (non-finite values stay visible). ``near`` (a
    constant at each call): the rows a group on are requested into L1 as well. ``loss_w`` given: ``measured``
    is their Σ v_i (x_i·loss_w + loss_b − y_i)² (as :func:`_measure`, the dot products in the gradient's loop
    over the four rows, from the same loads: the gradient's arithmetic unchanged, to the bit), else 0.
    """
    zero = b - b
    one = half + half
    gb, loss = zero, zero
    measured = 0.0
    last = stop - 1
    for k in range(start, stop, 4):
        _prefetch_four(X, y, order, k + ahead)
        if near:  # written out: as an inline helper, 20.9 against 20.0 ms (400 MB shuffled, best of 9, load 1.8)
            for a in range(k + GROUP, min(k + GROUP + 4, len(order))):
                for j in range(0, X.shape[1], _LINE // X.itemsize):  # every line of the row
                    prefetch(X, order[a], j)
                prefetch(y, order[a], 0)
        i0, i1 = _row(order, k), _row(order, min(k + 1, last))
        i2, i3 = _row(order, min(k + 2, last)), _row(order, min(k + 3, last))
        r0, r1, r2, r3 = _residuals4(X, y, w, b, i0, i1, i2, i3)
        r1 *= one if k + 1 < stop else zero
        r2 *= one if k + 2 < stop else zero
        r3 *= one if k + 3 < stop else zero
        loss += (r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) * half
        if len(v):
            r0, r1, r2, r3 = r0 * v[i0], r1 * v[i1], r2 * v[i2], r3 * v[i3]
        gb += r0 + r1 + r2 + r3
        # (Without ``near``) the next four rows as well: redundant (the next pass or group requests them too)
        # but it changes how LLVM compiles the whole epoch, the twelve-row loop included (same vector loops,
        # other registers and spills). Measured in three compiled copies each, CPU ms per epoch, best of 3
        # interleaved (load 2-3 on 2 cores): rows in cache 8.4-8.6 with it against 10.2-11.1 without, shuffled
        # 21.8-22.6 against 22.7-24.1.
        if not near:
            _prefetch_four(X, y, order, k + ahead + 4)
        # Written twice rather than one loop with the measurement under ``if loss_w is not None``: the plain
        # epoch so measured 22.1 against 21.7 ms for the code before (two loops: 20.6 against 20.9; 400 MB
        # shuffled, CPU ms, best of 7 interleaved, load 1.2-1.4 on 2 cores).
        if loss_w is None:
            for j in range(len(w)):
                g[j] += r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j]
        else:
            m0, m1, m2, m3 = loss_b - y[i0], loss_b - y[i1], loss_b - y[i2], loss_b - y[i3]
            for j in range(len(w)):  # the residuals of another model from the gradient's loads
                x0, x1, x2, x3 = X[i0, j], X[i1, j], X[i2, j], X[i3, j]
                g[j] += r0 * x0 + r1 * x1 + r2 * x2 + r3 * x3
                uj = loss_w[j]
                m0 += x0 * uj
                m1 += x1 * uj
                m2 += x2 * uj
                m3 += x3 * uj
            measured += _four_squares(m0, m1, m2, m3, v, i0, i1, i2, i3, stop - k)
    return gb, loss, measured


@njit(inline="always", fastmath=_MATH)
def _accumulate(X, y, w, b, order, start, stop, ahead, g, half, v):
    """Set ``g = Σ v_i r_i x_i`` over rows order[start:stop] and return ``(Σ v_i r_i, Σ ½ r_i²)``
    (v_i = 1 when ``v`` is empty).

    Row ``order[k + ahead]`` is requested into L2 while row ``order[k]`` is computed (the rows never depend
    on the update).
    """
    for j in range(len(w)):
        g[j] = b - b
    full = start + (stop - start) // GROUP * GROUP
    gb, loss = _rows12(X, y, w, b, order, start, full, ahead, g, half, v)
    gb4, loss4, _ = _rows4(X, y, w, b, order, full, stop, ahead, g, half, v, False)
    return gb + gb4, loss + loss4


@njit(inline="always", fastmath=_MATH)
def _accumulate_far(X, y, w, b, order, start, stop, ahead, g, half, v, loss_w=None, loss_b=None):
    """:func:`_accumulate` for rows read from memory (X far larger than the caches): the rows four at a
    time, the rows a group on requested into L1 as well as those ``ahead`` into L2."""
    for j in range(len(w)):
        g[j] = b - b
    return _rows4(X, y, w, b, order, start, stop, ahead, g, half, v, True, loss_w, loss_b)


@njit(inline="always", fastmath=_MATH)
def _squared(r, v, i):
    """v_i r² in float64 of a residual r of X's dtype (v empty: v_i = 1)."""
    r64 = np.float64(r)
    return r64 * r64 * (np.float64(v[i]) if len(v) else 1.0)


@njit(inline="always", fastmath=_MATH)
def _measure(X, y, v, part, lo, hi, w, b):
    """Σ v_i (x_i·w + b − y_i)² over rows part[lo:hi] (w, b of X's dtype; each square in float64), four rows
    at a time (four independent dot products in one pass over w); a short last four repeats its last row,
    left out of the sum."""
    total = 0.0
    last = hi - 1
    for k in range(lo, hi, 4):
        i0, i1, i2, i3 = part[k], part[min(k + 1, last)], part[min(k + 2, last)], part[min(k + 3, last)]
        r0, r1, r2, r3 = _residuals4(X, y, w, b, i0, i1, i2, i3)
        total += _four_squares(r0, r1, r2, r3, v, i0, i1, i2, i3, hi - k)
    return total


@njit(inline="always", fastmath=_MATH)
def _residuals4(X, y, w, b, i0, i1, i2, i3):
    """The residuals x_i·w + b − y_i of rows i0..i3: four independent dot products in one pass over w."""
    r0, r1, r2, r3 = b - y[i0], b - y[i1], b - y[i2], b - y[i3]
    for j in range(len(w)):
        wj = w[j]
        r0 += X[i0, j] * wj
        r1 += X[i1, j] * wj
        r2 += X[i2, j] * wj
        r3 += X[i3, j] * wj
    return r0, r1, r2, r3


@njit(inline="always", fastmath=_MATH)
def _four_squares(r0, r1, r2, r3, v, i0, i1, i2, i3, n):
    """Σ v_i r² (:func:`_squared`) of the first ``n`` of four residuals (rows i0..i3; n ≥ 4: all four)."""
    total = _squared(r0, v, i0)
    total += _squared(r1, v, i1) if n > 1 else 0.0
    total += _squared(r2, v, i2) if n > 2 else 0.0
    total += _squared(r3, v, i3) if n > 3 else 0.0
    return total
