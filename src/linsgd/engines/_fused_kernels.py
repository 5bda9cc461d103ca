"""Numba kernels of the fused engine: a whole epoch of minibatch SGD, and the full-data loss.

Kernels take plain arrays and scalars of one dtype (float32 or float64: numba compiles one version per
dtype, cached on disk), do no validation and release the GIL, so a second thread can prepare the next
epoch's order meanwhile. ``linsgd.engines.fused`` validates, allocates and calls them.

Per batch B with r_i = x_i·w + b − y_i (the analytic gradient of Σ ½ v_i r_i²):
``g = Σ_{i∈B} v_i r_i x_i``, ``w ← w − (lr_t/|B|) g``, ``b ← b − (lr_t/|B|) Σ_{i∈B} v_i r_i``, then the
proximal penalty step and the running average of :mod:`linsgd.engines.rule`, inside the kernel: the
average costs d + 1 float64 updates per step, no extra pass over the data.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen
from linsgd._prefetch import prefetch
from linsgd.engines._row_groups import _MATH, _accumulate, _accumulate_far

listen()  # one line on the first compilation (a cache miss): linsgd._jit_cache


@njit(inline="always", fastmath=_MATH)
def _step(w, w_before, j, delta):
    """``w[j] -= delta``, the old value kept in ``w_before[j]``; returns 0, or nan when w[j] is inf/nan."""
    w_before[j] = w[j]
    w[j] -= delta
    return w[j] - w[j]


@njit(inline="always", fastmath=_MATH)
def _descend(w, w_before, b, g, gb, s, loss):
    """The step w ← w − s·g, b ← b − s·gb of a batch whose loss is ``loss`` (w in place, old values in
    ``w_before``); returns the new b and whether the step stayed finite."""
    check = loss
    for j in range(len(w)):
        check += _step(w, w_before, j, s * g[j])
    b -= s * gb
    return b, _finite(check, b)


@njit(inline="always", fastmath=_MATH)
def _finite(check, b):
    """Whether a step stayed finite: its batch loss plus the ``_step`` terms (``check``) and the new bias."""
    return np.isfinite(check + (b - b))


@njit(inline="always")
def _lr_at(rule, t):
    """η_t of 0-based step t (:meth:`linsgd.engines.rule.StepRule.lr_at`); rule = (η₀, schedule, p, T)."""
    lr0, schedule, power, total = rule
    if schedule == 0:
        return lr0
    if schedule == 1:
        return lr0 / (1.0 + t) ** power
    return lr0 * 0.5 * (1.0 + np.cos(np.pi * min(t, total) / total))


@njit(inline="always", fastmath=_MATH)
def _prox(u, threshold, shrink):
    """S(u, threshold)·shrink (soft threshold, then the L2 factor); nan stays nan."""
    if u > threshold:
        return (u - threshold) * shrink
    if u < -threshold:
        return (u + threshold) * shrink
    return (u - u) * shrink


@njit(inline="always", fastmath=_MATH)
def _step_size(rule, t, size, batch, fixed, s_buf):
    """lr_t/|B| in the dtype of ``s_buf`` (constant schedule: the precomputed ``fixed`` = (full, last))."""
    if rule[1] == 0:
        return fixed[0] if size == batch else fixed[1]
    s_buf[0] = _lr_at(rule, t) / size
    return s_buf[0]


@njit(inline="always", fastmath=_MATH)
def _after_step(w, b, rule, penalty, average_from, t, wa, ba, s_buf):
    """The proximal step of the penalty on w (in place) and the running average; returns the new b̄.

    ``t``: steps done (1-based count of the step just run). penalty: (2, d) rows l1_j, l2_j; (2, 0): none.
    """
    if penalty.shape[1] > 0:
        eta = _lr_at(rule, t - 1)
        for j in range(len(w)):
            w[j] = _proximal(w[j], eta, penalty[0, j], penalty[1, j], s_buf)
    if average_from > 0 and t >= average_from:
        m = t - average_from + 1
        for j in range(len(w)):
            wa[j] = _running_mean(wa[j], w[j], m)
        ba = _running_mean(ba, b, m)
    return ba


@njit(inline="always", fastmath=_MATH)
def _proximal(u, eta, l1, l2, s_buf):
    """u after the penalty's proximal step of rate ``eta`` (l1, l2: its weights), both factors rounded to the
    dtype of ``s_buf`` first (float32 stays float32)."""
    s_buf[1] = eta * l1
    s_buf[2] = 1.0 / (1.0 + eta * l2)
    return _prox(u, s_buf[1], s_buf[2])


@njit(inline="always", fastmath=_MATH)
def _running_mean(a, x, m):
    """The mean of m values from the mean ``a`` of the first m − 1 and the m-th, ``x``: a + (x − a)/m."""
    return a + (x - a) / m


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half, ahead):
    """One epoch over rows ``order[k]`` in consecutive batches of ``batch``; updates ``w`` and ``wa`` in place.

    The rule of :mod:`linsgd.engines.rule`. ``b``, ``half = 0.5``, ``fixed`` = (lr/batch, lr/|last batch|)
    and ``s_buf`` (3 scratch values) are of X's dtype so that float32 stays float32 (numba would promote
    a float64 scalar).

    Args:
        X: (n, d) features. y: (n,) targets. w: (d,) weights, updated in place. b: bias.
        order: (n,) int32 or int64 visiting order. batch: batch size B >= 1.
        rule: (η₀, schedule code, power_t, total steps) float64. penalty: (2, d) float64 l1_j, l2_j, or (2, 0).
        average_from: 1-based step from which to average (0: off). t0: steps run before this call.
        wa: (d,) float64 running average, updated in place. ba: its bias. v: (n,) weights, or empty.
        ahead: rows read in random order miss the cache; row ``order[k + ahead]`` is requested into L2
            while row ``order[k]`` is computed (the rows never depend on the update), keeping misses in
            flight; rows go in groups (:mod:`linsgd.engines._row_groups`).

    Returns:
        ``(b, diverged_at, w_before, b_before, ba)``: the new bias, the 1-based step whose batch loss
        ½Σr² or updated parameters were first non-finite (0: none) and, in that case, the parameters
        before that step (``w`` then holds garbage), and the averaged bias.
    """
    return _epoch(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half, ahead,
                  False)


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_far(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half,
                  ahead):
    """:func:`sgd_epoch` for rows read from memory (``_row_groups._accumulate_far``): the same epoch."""
    return _epoch(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half, ahead,
                  True)


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_far_measured(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half,
                           ahead, loss_w, loss_b, loss_sums):
    """:func:`sgd_epoch_far` that also adds Σ v_i (x_i·loss_w + loss_b − y_i)² over the rows of ``order`` to
    ``loss_sums[0]`` (float64; loss_w, loss_b of X's dtype), every four rows in the loop that adds them to the
    gradient (``_row_groups._rows4``): the full-data loss of an earlier model without a pass of its own
    (:class:`linsgd.engines.measured.MeasuredLoss`). The same epoch, to the bit."""
    return _epoch(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half, ahead,
                  True, loss_w, loss_b, loss_sums)


@njit(inline="always", fastmath=_MATH)
def _epoch(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half, ahead, far,
           loss_w=None, loss_b=None, loss_sums=None):
    """The epoch of :func:`sgd_epoch`; ``far`` (a constant): the rows of ``_row_groups._accumulate_far``,
    which measure the loss of (loss_w, loss_b) on the way where given (:func:`sgd_epoch_far_measured`)."""
    n, d = len(order), len(w)
    g = np.zeros(d, dtype=w.dtype)
    w_before = w.copy()
    step = 0
    measured = 0.0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        step += 1
        if far:
            gb, loss, m = _accumulate_far(X, y, w, b, order, start, stop, ahead, g, half, v, loss_w, loss_b)
            measured += m
        else:
            gb, loss = _accumulate(X, y, w, b, order, start, stop, ahead, g, half, v)
        s = _step_size(rule, t0 + step - 1, stop - start, batch, fixed, s_buf)
        b_before = b
        b, finite = _descend(w, w_before, b, g, gb, s, loss)
        if not finite:
            return b, step, w_before, b_before, ba
        ba = _after_step(w, b, rule, penalty, average_from, t0 + step, wa, ba, s_buf)
    if loss_sums is not None:
        loss_sums[0] += measured
    return b, 0, w_before, b, ba



@njit(inline="always")
def _prefetch_batch_ahead(X, y, order, k0, k1, last):
    """Prefetch rows ``order[k0:k1]`` (a batch ``ahead`` rows on) of X and y: each row's first and last value, so
    every line of a row up to two lines long (16 float32; a packed row may cross a line)."""
    for k in range(k0, k1):
        i = order[k]
        prefetch(X, i, 0)
        prefetch(X, i, last)
        prefetch(y, i, 0)

@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_narrow(X, y, w, b, order, batch, rule, fixed, penalty, average_from, t0, wa, ba, v, s_buf, half,
                     ahead):
    """:func:`sgd_epoch` for few features: the gradient summed feature by feature, in a register.

    ``g_j = Σ_i v_i r_i x_ij`` over the batch for one j at a time, instead of row by row into memory: for
    small d the row-by-row sum is a chain of loads and stores through ``g`` that bounds the epoch
    (d = 2: 47 ms instead of 91 ms per 10⁷ rows in order). Same arguments, update and return value;
    X may have more columns than w (packed rows: x_i = X[i, :d], y a strided view of X's last column).
    """
    n, d = len(order), len(w)
    r = np.empty(batch, dtype=w.dtype)
    w_before = w.copy()
    zero = b - b
    weighted = len(v) > 0
    step = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        step += 1
        _prefetch_batch_ahead(X, y, order, start + ahead, min(stop + ahead, n), d - 1)
        gb, loss = zero, zero
        for k in range(start, stop):
            i = order[k]
            rk = b - y[i]
            for j in range(d):
                rk += X[i, j] * w[j]
            loss += rk * rk * half
            if weighted:
                rk *= v[i]
            r[k - start] = rk
            gb += rk
        s = _step_size(rule, t0 + step - 1, stop - start, batch, fixed, s_buf)
        b_before = b
        check = loss
        for j in range(d):
            gj = zero
            for k in range(start, stop):
                gj += r[k - start] * X[order[k], j]
            check += _step(w, w_before, j, s * gj)
        b -= s * gb
        if not _finite(check, b):
            return b, step, w_before, b_before, ba
        ba = _after_step(w, b, rule, penalty, average_from, t0 + step, wa, ba, s_buf)
    return b, 0, w_before, b, ba


@njit(nogil=True, cache=True)
def pack_rows(X, y, Z, i0, i1):
    """``Z[i] = (X[i], y[i])`` for rows i0 ≤ i < i1 (Z: (n, d + 1), of X's dtype)."""
    d = X.shape[1]
    for i in range(i0, i1):
        for j in range(d):
            Z[i, j] = X[i, j]
        Z[i, d] = y[i]


@njit(nogil=True, cache=True, fastmath=_MATH)
def sum_squared_residual(X, y, w, b, i0, i1):
    """Σ (x_i·w + b − y_i)² over rows i0 ≤ i < i1, in float64 so that 10⁷ rows lose no digits.

    Narrow rows (d ≤ 16) go four at a time into four sums: one running sum is a chain of dependent adds
    that bounds the pass (d = 2, 10⁷ rows: 4.7 instead of 7.6 ms); wide rows are summed one by one (the
    dot product vectorises; four at a time measured slower). Two threads can each sum half the rows.
    """
    d = len(w)
    t0 = t1 = t2 = t3 = 0.0
    bb = np.float64(b)
    m = i0 + (i1 - i0) // 4 * 4 if d <= 16 else i0
    for i in range(i0, m, 4):
        r0, r1 = bb - np.float64(y[i]), bb - np.float64(y[i + 1])
        r2, r3 = bb - np.float64(y[i + 2]), bb - np.float64(y[i + 3])
        for j in range(d):
            wj = np.float64(w[j])
            r0 += np.float64(X[i, j]) * wj
            r1 += np.float64(X[i + 1, j]) * wj
            r2 += np.float64(X[i + 2, j]) * wj
            r3 += np.float64(X[i + 3, j]) * wj
        t0 += r0 * r0
        t1 += r1 * r1
        t2 += r2 * r2
        t3 += r3 * r3
    for i in range(m, i1):
        r = bb - np.float64(y[i])
        for j in range(d):
            r += np.float64(X[i, j]) * np.float64(w[j])
        t0 += r * r
    return (t0 + t1) + (t2 + t3)


@njit(nogil=True, cache=True, fastmath=_MATH)
def sum_weighted_squared_residual(X, y, v, w, b, i0, i1):
    """Σ v_i (x_i·w + b − y_i)² over rows i0 ≤ i < i1, in float64 (the loss of weighted data)."""
    d = len(w)
    t = 0.0
    bb = np.float64(b)
    for i in range(i0, i1):
        r = bb - np.float64(y[i])
        for j in range(d):
            r += np.float64(X[i, j]) * np.float64(w[j])
        t += np.float64(v[i]) * r * r
    return t
