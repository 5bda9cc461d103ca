"""Numba kernel of ``schedule="adagrad"`` on a CSR matrix: per-coordinate steps, O(nnz) per step.

The rule (AdaGrad, as Vowpal Wabbit's default ``--adaptive`` update): a batch B's gradient
g_j = (1/|B|) Σ_{i∈B} v_i r_i x_ij (r_i = x_i·w + b − y_i; v_i = 1 without weights) adds its square to the
coordinate's running sum G_j ← G_j + g_j², then ``w_j ← w_j − η g_j / √G_j``; the intercept likewise with
its own G_b. A column seen on few rows keeps a small G_j and takes large steps; a column on most rows,
small ones. Only the batch's columns change (g_j = 0 elsewhere), so there is no penalty to apply lazily:
the rule is unpenalised (``linsgd.data.sparse_input.check_sparse_config`` refuses a penalty with it).

Averaging keeps S = Σ_τ w_τ as ``S = P·u − A`` (:mod:`linsgd.engines._sparse_kernels`, with the scale c = 1).

Per column the kernel keeps [w_j, G_j] side by side in one row of ``state`` (d, 2), in the data's dtype, so
that a non-zero's two numbers cost one cache miss (8 MiB in float32 at d = 2²⁰, as much as the constant
rule's float64 w; with a scratch gradient and the average in the same rows, 32 MiB in float64, an epoch took
three times as long). A batch of several rows, or rows with repeated columns, sums its gradient in a small
open-addressing table keyed by column (a few KiB, in L1), not in a d-long scratch whose reads would miss.
Averaging keeps A in its own d-long float64 array. Rows are prefetched in three stages.
Batch 1 on rows with unique columns (the common case) runs in its own flat loop, compiled twice: without
averaging its A is None, so no store to A is compiled (an untaken ``A[j] += …`` made the loop about four times
slower: one epoch of 300,000 benchmarks/bench_sparse.py rows, float64, CPU time 0.29–0.30 s against 0.07 s).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen
from linsgd._prefetch import prefetch
from linsgd.engines._sparse_kernels import _prefetch_lines

listen()

W, SUMSQ = 0, 1  # the columns of ``state``


@njit(inline="always")
def _prefetch_rows(data, indices, indptr, y, order, state, A, k, n, ahead):
    """Three stages ahead of row ``order[k]`` (as :mod:`linsgd.engines._sparse_kernels`): its row pointers
    (3·ahead rows on), its values and indices (2·ahead), its columns' state lines and A (ahead)."""
    if k + 3 * ahead < n:
        prefetch(indptr, order[k + 3 * ahead], 0)
    if k + 2 * ahead < n:
        _prefetch_lines(data, indices, indptr, y, order[k + 2 * ahead])
    if k + ahead < n:
        i = order[k + ahead]
        for p in range(indptr[i], indptr[i + 1]):
            prefetch(state, indices[p], 0)
            if len(A):
                prefetch(A, indices[p], 0)


@njit(inline="always")
def _step(state, A, P, j, g, eta):
    """G_j ← G_j + g², w_j ← w_j − η g/√G_j (g ≠ 0), A_j ← A_j + P·δw; returns δw."""
    if g == 0.0:
        return 0.0
    state[j, SUMSQ] += g * g
    du = -eta * g / np.sqrt(state[j, SUMSQ])
    state[j, W] += du
    if len(A):
        A[j] += P * du
    return du


@njit(inline="always")
def _slot(keys, j):
    """The slot of column j in the open-addressing table ``keys`` (size a power of 2; -1: empty)."""
    mask = len(keys) - 1
    h = (j * 2654435761) & mask
    while keys[h] != -1 and keys[h] != j:
        h = (h + 1) & mask
    return h


@njit(inline="always")
def _add_row(data, indices, indptr, state, A, P, i, r, eta, summed, table, q):
    """Row i's gradient terms r·x_ij: into the batch's table (``summed``), or stepped at once (B = 1, unique
    columns); the columns listed once each in ``table``'s touched/old. Returns (q, the steps' check)."""
    keys, grad, touched, slots, old = table
    check = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        j = indices[p]
        if summed:
            h = _slot(keys, j)
            if keys[h] == -1:
                keys[h] = j
                touched[q], slots[q], old[q] = j, h, state[j, W]
                q += 1
            grad[h] += r * data[p]
        else:
            touched[q], old[q] = j, state[j, W]
            q += 1
            du = _step(state, A, P, j, r * data[p], eta)
            check += du - du
    return q, check


@njit(inline="always")
def _step_table(state, A, P, eta, size, table, q):
    """The step of every column the batch's table holds (its mean gradient), emptying the table."""
    keys, grad, touched, slots, _ = table
    check = 0.0
    for e in range(q):
        j, h = touched[e], slots[e]
        g = grad[h] / size
        grad[h], keys[h] = 0.0, -1
        du = _step(state, A, P, j, g, eta)
        check += du - du
    return check


@njit(inline="always")
def _scratch(order, indptr, batch, summed):
    """(keys, grad, touched, slots, old): the batch's open-addressing table (2·B·widest slots, a power of 2;
    empty without ``summed``) and the lists of its columns, their slots and their values before the step."""
    widest = 0
    for k in range(len(order)):
        widest = max(widest, indptr[order[k] + 1] - indptr[order[k]])
    size = 1
    while size < 2 * batch * widest:
        size *= 2
    keys = np.full(size if summed else 0, -1, dtype=np.int64)
    return (keys, np.zeros(len(keys)), np.empty(batch * widest, dtype=np.int64),
            np.empty(batch * widest, dtype=np.int64), np.empty(batch * widest))


@njit(nogil=True, cache=True)
def _one_row_steps(data, indices, indptr, y, state, bias, order, eta, average_from, t0, v, A, ahead):
    """The epoch of :func:`adagrad_epoch_csr` when each step is one row whose column indices are unique (B = 1,
    not ``summed``): the same arithmetic in the same order, in one flat loop (no batch table: written through
    the general loop's helpers, the same epoch took about five times as long). Returns (the diverged step or
    0, P)."""
    n = len(order)
    widest = 0
    for k in range(n):
        widest = max(widest, indptr[order[k] + 1] - indptr[order[k]])
    old = np.empty(widest)
    P = 0.0
    for k in range(n):
        if ahead:
            if A is None:
                _prefetch_rows(data, indices, indptr, y, order, state, old[:0], k, n, ahead)
            else:
                _prefetch_rows(data, indices, indptr, y, order, state, A, k, n, ahead)
        i = order[k]
        a, e = indptr[i], indptr[i + 1]
        r = bias[0] - y[i]
        for p in range(a, e):
            r += data[p] * state[indices[p], W]
        check = 0.5 * r * r
        r = r * v[i] if len(v) else r
        for p in range(a, e):
            j = indices[p]
            old[p - a] = state[j, W]
            g = r * data[p]
            if g != 0.0:  # _step's arithmetic; the store to A compiled only with averaging
                state[j, SUMSQ] += g * g
                du = -eta * g / np.sqrt(state[j, SUMSQ])
                state[j, W] += du
                if A is not None:
                    A[j] += P * du
                check += du - du
        b_before = bias[0]
        if r != 0.0:
            bias[1] += r * r
            bias[0] -= eta * r / np.sqrt(bias[1])
        if not np.isfinite(check + (bias[0] - bias[0])):  # restore the weights and bias before the step
            for p in range(a, e):
                state[indices[p], W] = old[p - a]
            bias[0] = b_before
            return k + 1, P
        if average_from and t0 + k + 1 >= average_from:
            P += 1.0
            bias[2] += (bias[0] - bias[2]) / (t0 + k + 1 - average_from + 1)
        elif average_from:
            bias[2] = bias[0]
    return 0, P


@njit(nogil=True, cache=True)
def adagrad_epoch_csr(data, indices, indptr, y, state, bias, order, batch, eta, average_from, t0, wa, v, summed,
                      ahead):
    """One epoch over CSR rows ``order[k]`` in consecutive batches of ``batch``.

    Args:
        data, indices, indptr: the CSR arrays of X (n, d). y: (n,) targets. state: (d, 2) [w, G] in the data's
            dtype (module docstring), updated in place. bias: (3,) float64 [b, G_b, b̄], updated in place.
        order: visiting order. batch: B >= 1. eta: η > 0. average_from: 1-based step from which iterates are
            averaged (0: off). t0: steps run before this call. wa: (d,) float64 running average w̄ (with
            ``bias[2]`` = b̄; on entry w̄ of the m₀ iterates so far, or anything when m₀ = 0), updated in place;
            empty without averaging. v: (n,) sample weights, or empty.
        summed: whether to sum each batch's gradient by column first (B > 1, or rows whose column indices
            repeat: they add up, as in ``X.toarray()``); False: B = 1, indices unique in each row.
        ahead: prefetch distance in rows (0: none).

    Returns:
        The 1-based step whose batch loss or updated parameters were first non-finite (0: none); w and b
        then hold their values before that step.
    """
    n, d = len(order), state.shape[0]
    table = _scratch(order, indptr, batch, summed)
    m0 = max(0, t0 - average_from + 1) if average_from else 0
    A = np.empty(d if average_from else 0)  # S = m0·w̄ = P·u − A with P = 0
    for j in range(len(A)):
        A[j] = -m0 * wa[j] if m0 > 0 else 0.0
    P, step = 0.0, 0
    one_by_one = batch == 1 and not summed
    if one_by_one:
        if average_from:
            diverged, P = _one_row_steps(data, indices, indptr, y, state, bias, order, eta, average_from, t0, v, A,
                                         ahead)
        else:  # None: compiled without the averaging store (module docstring)
            diverged, P = _one_row_steps(data, indices, indptr, y, state, bias, order, eta, 0, t0, v, None, ahead)
        if diverged:
            return diverged
        step = n
    for start in range(n if one_by_one else 0, n, batch):  # batches, or rows with repeated columns
        stop = min(start + batch, n)
        step += 1
        q, gb, check = 0, 0.0, 0.0
        for k in range(start, stop):
            if ahead:
                _prefetch_rows(data, indices, indptr, y, order, state, A, k, n, ahead)
            i = order[k]
            r = bias[0] - y[i]
            for p in range(indptr[i], indptr[i + 1]):
                r += data[p] * state[indices[p], W]
            check += 0.5 * r * r
            r = r * v[i] if len(v) else r
            gb += r
            q, c = _add_row(data, indices, indptr, state, A, P, i, r, eta, summed, table, q)
            check += c
        if summed:
            check += _step_table(state, A, P, eta, stop - start, table, q)
        b_before, g = bias[0], gb / (stop - start)
        if g != 0.0:
            bias[1] += g * g
            bias[0] -= eta * g / np.sqrt(bias[1])
        if not np.isfinite(check + (bias[0] - bias[0])):  # restore the weights and bias before the step
            for e in range(q):
                state[table[2][e], W] = table[4][e]
            bias[0] = b_before
            return step
        if average_from and t0 + step >= average_from:
            P += 1.0
            bias[2] += (bias[0] - bias[2]) / (t0 + step - average_from + 1)
        elif average_from:
            bias[2] = bias[0]
    m = max(0, t0 + step - average_from + 1) if average_from else 0
    for j in range(len(A)):
        wa[j] = (P * state[j, W] - A[j]) / m if m > 0 else state[j, W]
    return 0
