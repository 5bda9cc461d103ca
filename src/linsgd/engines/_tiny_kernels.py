"""Numba kernel of the fused engine for one or two features: the parameters and the gradient in registers.

The same epoch as ``_fused_kernels.sgd_epoch_narrow`` (same arguments, update, order of every sum and return
value), for d ≤ 2: w₀, w₁, b and the sums g₀, g₁, Σ r, Σ ½r² are local scalars, each row read once (its
residual and its part of the gradient in one pass), the penalty's proximal step and the running average
w̄₀, w̄₁, b̄ too (the arithmetic of ``_fused_kernels._after_step``), and w and w̄ are written back only at the
end (on the array, with ``_after_step`` each step, the averaged epoch cost 1.3× the plain one: 10⁷ shuffled
packed rows of d = 2 float32, batch 10, CPU time of the thread, best of 7, load ~0.7: 57.9 against 44.0 ms;
in registers 44.8 against 44.1 ms). The generic narrow kernel keeps w and the residuals in
memory and reads every row twice; at d = 2, batch 5–10, a step then costs more than its rows. Measured on
5·10⁶ shuffled packed rows of d = 2 (CPU time of the thread, best of 5, load ~4 on 2 cores): batch 5
24–28 ms against 75 ms, batch 10 24–37 ms against 54–55 ms; the same parameters to float rounding (fastmath
may contract or reorder one operation differently: at most one ulp apart in ``tests/test_tiny_kernel.py``).

Kernels take plain arrays and scalars, validate nothing and release the GIL (see ``_fused_kernels``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen
from linsgd.engines._fused_kernels import _finite, _lr_at, _prefetch_batch_ahead, _proximal, _running_mean, _step_size
from linsgd.engines._row_groups import _MATH

listen()  # one line on the first compilation (a cache miss): linsgd._jit_cache

_BLOCK = 4096  # rows per block of pack_moments' register sums


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_tiny(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half,
                   ahead):
    """``_fused_kernels.sgd_epoch_narrow`` for ``len(w)`` ≤ 2 (see the module docstring): the same arguments,
    updates (w in place) and return value ``(b, diverged_at, w_before, b_before, ba)``.

    With d = 1 the second parameter is a zero that multiplies the row's only feature (adding an exact 0 to
    each residual) and is never written back.
    """
    n, d = len(order), len(w)
    last = d - 1  # the second feature's column (d = 1: the first again)
    zero = b - b
    w0 = w[0]
    w1 = w[last] if d == 2 else zero
    a0, a1 = wa[0], wa[last]  # the running average (float64), in registers too
    weighted = len(v) > 0
    penalized = penalty.shape[1] > 0
    step = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        step += 1
        _prefetch_batch_ahead(X, y, order, start + ahead, min(stop + ahead, n), last)
        gb, loss, g0, g1 = zero, zero, zero, zero
        for k in range(start, stop):
            i = order[k]
            x0, x1 = X[i, 0], X[i, last]
            rk = b - y[i]
            rk += x0 * w0
            rk += x1 * w1
            loss += rk * rk * half
            if weighted:
                rk *= v[i]
            gb += rk
            g0 += rk * x0
            g1 += rk * x1
        s = _step_size(rule, t0 + step - 1, stop - start, batch, fixed, s_buf)
        n0 = w0 - s * g0
        n1 = w1 - s * g1 if d == 2 else w1
        nb = b - s * gb
        if not _finite(loss + (n0 - n0) + (n1 - n1), nb):
            _store(w, w0, w1)  # the parameters before the step
            _store(wa, a0, a1)
            return nb, step, w.copy(), b, ba
        w0, w1, b = n0, n1, nb
        t = t0 + step  # steps done: _fused_kernels._after_step's proximal step and running average
        if penalized:
            eta = _lr_at(rule, t - 1)
            w0 = _proximal(w0, eta, penalty[0, 0], penalty[1, 0], s_buf)
            if d == 2:
                w1 = _proximal(w1, eta, penalty[0, 1], penalty[1, 1], s_buf)
        if average_from > 0 and t >= average_from:
            m = t - average_from + 1
            a0 = _running_mean(a0, w0, m)
            a1 = _running_mean(a1, w1, m)
            ba = _running_mean(ba, b, m)
    _store(w, w0, w1)
    _store(wa, a0, a1)
    return b, 0, w.copy(), b, ba


@njit(inline="always")
def _store(w, w0, w1):
    """w ← (w₀, w₁), or (w₀) when d = 1."""
    w[0] = w0
    if len(w) == 2:
        w[1] = w1


@njit(nogil=True, cache=True, fastmath=_MATH)
def pack_moments(X, y, Z, shift, i0, i1, sums):
    """``Z[i] = (X[i], y[i])`` for rows i0 ≤ i < i1 (d ≤ 2) and, in the same pass, the float64 sums of the
    shifted rows a = [x y] − ``shift`` added to ``sums`` (3, 4): Σ a_j a_k in ``sums[j, k]`` (k ≤ j) and Σ a_j
    in ``sums[j, 3]`` (with d = 1 row and column 1 stay 0; index 2 is y).

    The sums run in registers over blocks of ``_BLOCK`` rows, each block's added to ``sums``: as fast as the
    copy alone (the rows are in registers anyway) and, with ``shift`` near the means, no cancellation.
    """
    d = X.shape[1]
    last = d - 1
    keep = 1.0 if d == 2 else 0.0  # d = 1: the second feature is a zero
    s0, s1, s2 = shift[0], shift[1], shift[2]
    for c in range(i0, i1, _BLOCK):
        m0 = m1 = m2 = q00 = q10 = q11 = q20 = q21 = q22 = 0.0
        for i in range(c, min(c + _BLOCK, i1)):
            x0, x1, t = X[i, 0], X[i, last], y[i]
            Z[i, 0] = x0
            Z[i, last] = x1
            Z[i, d] = t
            a0, a1, a2 = np.float64(x0) - s0, (np.float64(x1) - s1) * keep, np.float64(t) - s2
            m0 += a0
            m1 += a1
            m2 += a2
            q00 += a0 * a0
            q10 += a1 * a0
            q11 += a1 * a1
            q20 += a2 * a0
            q21 += a2 * a1
            q22 += a2 * a2
        sums[0, 0] += q00
        sums[1, 0] += q10
        sums[1, 1] += q11
        sums[2, 0] += q20
        sums[2, 1] += q21
        sums[2, 2] += q22
        sums[0, 3] += m0
        sums[1, 3] += m1
        sums[2, 3] += m2
