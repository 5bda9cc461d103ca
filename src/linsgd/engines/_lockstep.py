"""Numba kernel of threads in lockstep: each process batch split over N threads, one barrier per step.

Thread t runs :func:`sgd_epoch_lockstep` on its slice of every process batch (``part``: its rows of the segment,
as :func:`~linsgd.data.batching.rank_slice` cuts them), with its own copy of w. Per step it sums its rows'
gradient (in the row groups of :mod:`linsgd.engines._row_groups`, prefetching its own next rows; rows read from
memory in those of ``_accumulate_far``: :func:`sgd_epoch_lockstep_far`), publishes it in ``shared[step % 2, t]``
and waits at a barrier for the other threads; then every thread adds the N partial gradients in the same order
(thread 0 first), so the copies of w stay bit-identical, and takes the step of
:mod:`linsgd.engines._fused_kernels` with the process batch size: the trajectory of one thread with batch N·B, to
float rounding (the sum is split in N parts). Two buffers alternate, so a thread may write step s + 1's gradient
while a slower one still reads step s's.

The kernel may also measure the full-data loss of an earlier model (w_m, b_m) on the way: between arriving
at the barrier and waiting there, a thread adds v_i (x_i·w_m + b_m − y_i)² of the rows it has just read,
still in cache, to its own float64 sum (partly in the time it would spend waiting for the slower thread)
instead of a pass over all rows that reads them from memory again
(:class:`linsgd.engines.measured.MeasuredLoss`). Rows read from memory (:func:`sgd_epoch_lockstep_far`) get their
loss terms in the loop that adds them to the gradient instead, from the same loads: measured, a 5-epoch fit of 10⁶ ×
100 float32 on 2 threads × 128 rows, per epoch, best of 7 interleaved in one process (load 1.1 on 2 cores): 20.0 ms
against 21.8 ms after the arrival (and 25.4 ms for the rows in groups of twelve, sgd_epoch_lockstep).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd.engines._atomics import arrive, wait_for
from linsgd.engines._fused_kernels import _MATH, _accumulate, _after_step, _descend, _step_size
from linsgd.engines._row_groups import _accumulate_far, _measure


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_lockstep(X, y, w, b, part, steps, batch, rows, process_batch, rule, fixed, penalty, average_from,
                       t0, wa, ba, v, s_buf, half, ahead, tid, shared, counter, loss_w, loss_b, loss_sums):
    """``steps`` steps of process batches, this thread's share ``part`` of each; updates ``w``/``wa`` in place.

    Args:
        part: this thread's rows: ``batch`` per step, the last step's share possibly shorter (or empty).
        rows: the segment's rows over all threads; process_batch: N·B (the last step has the remainder).
        tid: this thread's index t; shared: (2, N, m ≥ d + 2) scratch of X's dtype shared by the N threads;
            counter: int64 array shared by them, counter[0] = 0 at the start.
        loss_w, loss_b, loss_sums: the model whose loss is measured ((d,) and a scalar of X's dtype) and the
            threads' sums (N,) float64, ``loss_sums[tid]`` increased by Σ v_i (x_i·loss_w + loss_b − y_i)² over
            ``part`` (:func:`_measure`); loss_sums empty: nothing measured.
        The rest as :func:`linsgd.engines._fused_kernels.sgd_epoch` (``fixed`` for the process batch).

    Returns:
        ``(b, diverged_at, w_before, b_before, ba)`` as ``sgd_epoch`` (the same in every thread).
    """
    return _steps(X, y, w, b, part, steps, batch, rows, process_batch, rule, fixed, penalty, average_from,
                  t0, wa, ba, v, s_buf, half, ahead, tid, shared, counter, loss_w, loss_b, loss_sums, False)


@njit(nogil=True, cache=True, fastmath=_MATH)
def sgd_epoch_lockstep_far(X, y, w, b, part, steps, batch, rows, process_batch, rule, fixed, penalty, average_from,
                           t0, wa, ba, v, s_buf, half, ahead, tid, shared, counter, loss_w, loss_b, loss_sums):
    """:func:`sgd_epoch_lockstep` for rows read from memory (X larger than the last-level cache): each thread's
    rows in ``_row_groups._accumulate_far`` (four at a time, the rows a group on requested into L1 as well), the
    same epoch to float rounding; a loss measured there too, from the gradient's loads (before the barrier)."""
    return _steps(X, y, w, b, part, steps, batch, rows, process_batch, rule, fixed, penalty, average_from,
                  t0, wa, ba, v, s_buf, half, ahead, tid, shared, counter, loss_w, loss_b, loss_sums, True)


@njit(inline="always", fastmath=_MATH)
def _steps(X, y, w, b, part, steps, batch, rows, process_batch, rule, fixed, penalty, average_from,
           t0, wa, ba, v, s_buf, half, ahead, tid, shared, counter, loss_w, loss_b, loss_sums, far):
    """The steps of :func:`sgd_epoch_lockstep`; ``far`` (a constant): those of :func:`sgd_epoch_lockstep_far`."""
    d, threads = len(w), shared.shape[1]
    g = np.zeros(d, dtype=w.dtype)
    w_before = w.copy()
    zero = b - b
    measured = 0.0
    for step in range(steps):
        lo = min(step * batch, len(part))
        hi = min(lo + batch, len(part))
        if far and len(loss_sums):  # the loss measured from the gradient's loads
            gb, loss, m = _accumulate_far(X, y, w, b, part, lo, hi, ahead, g, half, v, loss_w, loss_b)
            measured += m
        elif far:
            gb, loss, _ = _accumulate_far(X, y, w, b, part, lo, hi, ahead, g, half, v)
        else:
            gb, loss = _accumulate(X, y, w, b, part, lo, hi, ahead, g, half, v)
        p = step % 2
        for j in range(d):
            shared[p, tid, j] = g[j]
        shared[p, tid, d] = gb
        shared[p, tid, d + 1] = loss
        arrive(counter)
        if len(loss_sums) and not far:  # the rows just read, while the other threads finish theirs
            measured += _measure(X, y, v, part, lo, hi, loss_w, loss_b)
        wait_for(counter, (step + 1) * threads)
        for j in range(d + 2):  # the partial sums, added in thread order: the same bits in every thread
            total = zero
            for t in range(threads):
                total += shared[p, t, j]
            if j < d:
                g[j] = total
            elif j == d:
                gb = total
            else:
                loss = total
        size = min(process_batch, rows - step * process_batch)
        s = _step_size(rule, t0 + step, size, process_batch, fixed, s_buf)
        b_before = b
        b, finite = _descend(w, w_before, b, g, gb, s, loss)
        if not finite:
            return b, step + 1, w_before, b_before, ba
        ba = _after_step(w, b, rule, penalty, average_from, t0 + step + 1, wa, ba, s_buf)
    if len(loss_sums):
        loss_sums[tid] += measured
    return b, 0, w_before, b, ba
