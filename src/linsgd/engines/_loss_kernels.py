"""Numba kernels of the fused engine for the losses other than squared (:mod:`linsgd.lstsq.losses`).

The same epoch as ``_fused_kernels.sgd_epoch`` (order, batches, step size, proximal penalty, average, the
divergence guard: the shared ``_descend`` and ``_after_step``), with the residual r_i = x_i·w + b − y_i of
each row replaced in the gradient by the loss's slope ψ(r) = ∂L/∂ŷ::

    huber                 ψ = clip(r, −ε, ε)
    epsilon_insensitive   ψ = sign(r) where |r| ≥ ε (and r ≠ 0), else 0
    quantile              ψ = 1 − q where r ≥ 0, else −q        (the pinball loss of y − ŷ)

— at the kinks, the subgradient torch's autograd takes on the reference engine's formulas
(:mod:`linsgd.engines.reference`), so the two engines follow the same trajectory. Loss codes are the
positions in :data:`linsgd.config.LOSSES` (1 huber, 2 epsilon_insensitive, 3 quantile).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._prefetch import prefetch
from linsgd.engines._fused_kernels import _after_step, _descend, _step_size
from linsgd.engines._row_groups import _MATH, _prefetch_four, _row

# Rows wider than this are summed four at a time (:func:`_accumulate_wide`), as the squared loss's wide kernel
# does; narrower ones one by one (the squared loss's own narrow kernel sums feature by feature instead).
# Measured, 10⁶ × 20 float32, batch 10, shuffled, one epoch against the squared loss's (interleaved, medians of 9,
# load 4.5-5.5 on 2 cores): row by row 1.93-2.07×, four at a time 0.88-1.04×.
_WIDE = 16
# The wide rows ahead four at a time, line by line across the four (``_row_groups._prefetch_four``), unsigned
# row indices, and no second request of the rows twelve ahead into L1: measured, huber, 10⁶ × 100 float32,
# batch 256, CPU ms per epoch, best of 5 interleaved in one process, two or three compiled copies each (load
# 3-3.7 on 2 cores): shuffled 24.1-24.2 against 24.7-25.5 (medians 24.7-25.4 against 31.5-31.7) for the rows
# one by one with the L1 request, rows in cache 9.4-9.5 against 15.6-15.7; keeping the L1 request: shuffled
# 19.1-19.3 against 19.8-20.2 without (another moment), in cache 11.7-12.0 against 9.0-9.2.


@njit(inline="always", fastmath=_MATH)
def _slope(r, code, eps, q, one):
    """ψ(r) of loss ``code`` in r's dtype (``eps``, ``q``, ``one`` of that dtype)."""
    zero = r - r
    if code == 1:
        return min(max(r, -eps), eps)
    if code == 2:  # selects, not branches: the sign of r where |r| >= eps, 0 at r = 0 (and for nan)
        sign = (one if r > zero else zero) - (one if r < zero else zero)
        return sign if abs(r) >= eps else zero
    return one - q if r >= zero else -q


@njit(inline="always", fastmath=_MATH)
def _accumulate_wide(X, y, w, b, order, start, stop, ahead, g, half, v, code, eps, q):
    """``_fused_kernels._accumulate`` with the slopes: set ``g = Σ v_i ψ(r_i) x_i`` over rows order[start:stop]
    and return ``(Σ v_i ψ(r_i), Σ ½ r_i²)``; rows in groups of four (four dot products per pass over w), a
    short last group repeating its last row with slope and loss weighted 0. The rows ``ahead`` are requested
    four at a time as in :mod:`linsgd.engines._row_groups`."""
    d = len(w)
    zero = b - b
    one = half + half
    gb, loss = zero, zero
    for j in range(d):
        g[j] = zero
    last = stop - 1
    for k in range(start, stop, 4):
        _prefetch_four(X, y, order, k + ahead)
        i0, i1 = _row(order, k), _row(order, min(k + 1, last))
        i2, i3 = _row(order, min(k + 2, last)), _row(order, min(k + 3, last))
        r0, r1, r2, r3 = b - y[i0], b - y[i1], b - y[i2], b - y[i3]
        for j in range(d):
            wj = w[j]
            r0 += X[i0, j] * wj
            r1 += X[i1, j] * wj
            r2 += X[i2, j] * wj
            r3 += X[i3, j] * wj
        m1 = one if k + 1 < stop else zero
        m2 = one if k + 2 < stop else zero
        m3 = one if k + 3 < stop else zero
        r1, r2, r3 = r1 * m1, r2 * m2, r3 * m3
        loss += (r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) * half
        p0 = _slope(r0, code, eps, q, one)
        p1 = _slope(r1, code, eps, q, one) * m1
        p2 = _slope(r2, code, eps, q, one) * m2
        p3 = _slope(r3, code, eps, q, one) * m3
        if len(v):
            p0, p1, p2, p3 = p0 * v[i0], p1 * v[i1], p2 * v[i2], p3 * v[i3]
        gb += p0 + p1 + p2 + p3
        for j in range(d):
            g[j] += p0 * X[i0, j] + p1 * X[i1, j] + p2 * X[i2, j] + p3 * X[i3, j]
    return gb, loss


@njit(inline="always", fastmath=_MATH)
def _accumulate_narrow(X, y, w, b, order, start, stop, ahead, g, half, v, code, eps, q):
    """:func:`_accumulate_wide` one row at a time (narrow rows: the next rows are requested ``ahead``)."""
    n, d = len(order), len(w)
    zero = b - b
    one = half + half
    for k in range(start + ahead, min(stop + ahead, n)):
        prefetch(X, order[k], 0)
        prefetch(X, order[k], d - 1)
        prefetch(y, order[k], 0)
    gb, loss = zero, zero
    for j in range(d):
        g[j] = zero
    for k in range(start, stop):
        i = order[k]
        r = b - y[i]
        for j in range(d):
            r += X[i, j] * w[j]
        loss += r * r * half
        p = _slope(r, code, eps, q, one)
        if len(v):
            p *= v[i]
        gb += p
        for j in range(d):
            g[j] += p * X[i, j]
    return gb, loss


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_loss(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half,
                   ahead, code, eps, q):
    """One epoch of ``_fused_kernels.sgd_epoch`` for loss ``code`` (the slopes of the module docstring).

    ``eps``, ``q`` and ``half`` are of X's dtype; the rest as in ``sgd_epoch`` (``ahead``: the rows of the
    next batch and ``ahead`` beyond are requested while this one is computed, as ``sgd_epoch_narrow`` does).
    X may have more columns than w (packed rows). The divergence guard watches ½Σr² of the batch, finite
    exactly when the residuals are. Returns ``(b, diverged_at, w_before, b_before, ba)``.
    """
    n, d = len(order), len(w)
    g = np.zeros(d, dtype=w.dtype)
    w_before = w.copy()
    step = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        step += 1
        if d > _WIDE:
            gb, loss = _accumulate_wide(X, y, w, b, order, start, stop, ahead, g, half, v, code, eps, q)
        else:
            gb, loss = _accumulate_narrow(X, y, w, b, order, start, stop, ahead, g, half, v, code, eps, q)
        s = _step_size(rule, t0 + step - 1, stop - start, batch, fixed, s_buf)
        b_before = b
        b, finite = _descend(w, w_before, b, g, gb, s, loss)
        if not finite:
            return b, step, w_before, b_before, ba
        ba = _after_step(w, b, rule, penalty, average_from, t0 + step, wa, ba, s_buf)
    return b, 0, w_before, b, ba


@njit(nogil=True, cache=True, fastmath=_MATH)
def sum_loss(X, y, v, w, b, code, eps, q, i0, i1):
    """Σ v_i L(y_i − x_i·w − b) over rows i0 ≤ i < i1 in float64 (v empty: 1 each); ``eps``, ``q`` float64."""
    d = len(w)
    t = 0.0
    bb = np.float64(b)
    for i in range(i0, i1):
        r = bb - np.float64(y[i])  # ŷ − y
        for j in range(d):
            r += np.float64(X[i, j]) * np.float64(w[j])
        a = abs(r)
        if code == 1:
            value = 0.5 * r * r if a <= eps else eps * a - 0.5 * eps * eps
        elif code == 2:
            value = max(a - eps, 0.0)
        else:
            value = max(-q * r, (1.0 - q) * r)
        t += value * (np.float64(v[i]) if len(v) else 1.0)
    return t
