"""Threads on sparse data: the sparse engine's epoch on N threads, each with its own weights, averaged every K steps.

The rule of the dense engine's threads (:mod:`linsgd.engines.threaded`): a process batch of N·B examples of the
epoch's order is cut by :func:`~linsgd.data.batching.rank_slice`, thread t runs the O(nnz) kernel
(:func:`linsgd.engines._sparse_kernels.sgd_epoch_csr`, ``nogil``) on its t-th slices of a segment of K steps from
the same parameters, and at the segment's end the threads' parameters (and running averages) are replaced by
their example-weighted mean (:mod:`linsgd.engines.averaging`). Everything the kernel keeps lazily — the L2
scale c, the running average's P and A — is folded into the thread's w and w̄ when its call returns, so the
mean is that of plain parameters: the L2 step and the running average are linear in the iterates and average
exactly (local SGD, the dense threads' rule).

A sync costs O(d) per thread (copying w in, folding c, the mean), a step O(non-zeros of its batch): the default
K (:func:`default_sync_every`) is therefore far larger than the dense one's.

With K = 1 the mean after every step is, by the rule above, the step of one thread with batch N·B (to float
rounding, the order of the sums): that is what ``lockstep`` runs, on one thread, so that averaging after every
step does not cost O(d) per step.

``schedule="adagrad"`` keeps per-coordinate sums shared by the whole run, which threads would each have to
keep and average: it is refused with threads (:func:`linsgd.data.sparse_input.check_sparse_config`).
"""

from __future__ import annotations

import math
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from linsgd.data.batching import rank_slice
from linsgd.engines.base import EpochOutcome
from linsgd.engines.sparse import SparseEngine
from linsgd.engines.threaded import SYNC_SECONDS, combine

# Costs behind the default K (benchmarks/bench_sparse.py data: 10⁶ rows × 2²⁰ hashed columns, 30 non-zeros a
# row, on the shared 2-core VM): a kernel step costs ~15 ns per non-zero of its batch (0.45 s per epoch of
# 3·10⁷ non-zeros, batch 1), a sync ~6 ns per column per thread (copying w in and out of float64, folding the
# scale, the weighted mean: ~12 ms for 2 threads at d = 2²⁰) on top of the pool's hand-off.
NONZERO_SECONDS = 15e-9
COLUMN_SECONDS = 6e-9
SYNC_SHARE = 0.05  # averaging costs at most this share of the epoch's time


def default_sync_every(d: int, row_nnz: float, batch_size: int, threads: int) -> int:
    """K for sparse threads (``sync_every="auto"``): the fewest steps between averages that keep their O(d) cost
    at most :data:`SYNC_SHARE` of the epoch, for d columns, ``row_nnz`` non-zeros per row on average and a
    per-thread batch of ``batch_size``.

    >>> default_sync_every(2**20, 30.0, 1, 2)
    562574
    >>> default_sync_every(100, 30.0, 1, 2)  # few columns: a sync costs little more than the hand-off
    3387
    """
    sync = SYNC_SECONDS + COLUMN_SECONDS * d * threads
    step = batch_size * max(row_nnz, 1.0) * NONZERO_SECONDS
    return max(1, math.ceil(sync / (SYNC_SHARE * step)))


class SparseThreadedEngine:
    """The sparse engine on ``threads`` threads: slices of each process batch, averaged at the end of every call.

    ``batch_size`` of :meth:`run_epoch` is the process batch N·B (each thread's batch is B). The calling thread
    runs slice 0, a persistent pool of N − 1 threads the others; the CSR arrays are shared, never copied.

    Args:
        threads: N >= 2.
        lockstep: K = 1: one step of batch N·B per process batch, run as one thread with that batch (module
            docstring); the loop then cuts no segment per step.
    """

    name = "fused"

    def __init__(self, threads: int, lockstep: bool = False) -> None:
        self.inner, self.threads, self.lockstep = SparseEngine(), threads, lockstep
        self._pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="linsgd-sparse")
        weakref.finalize(self, self._pool.shutdown, wait=False)

    def prepare(self, X, y) -> None:
        self.inner.prepare(X, y)

    def loss(self, X, y, w, b, weight=None) -> float:
        return self.inner.loss(X, y, w, b, weight)

    def measures_loss(self, schedule: str) -> bool:
        return self.inner.measures_loss(schedule)

    def row_losses(self, X, y, w, b, weight=None):
        return self.inner.row_losses(X, y, w, b, weight)

    def run_epoch(self, X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None,
                  measure=None) -> EpochOutcome:
        """The segment ``order`` in process batches of ``batch_size``, split over the threads, then averaged
        (lockstep: one thread with the process batch). On divergence: the earliest step at which a thread
        diverged, with the segment's initial parameters. ``measure``: the inner engine's; each thread writes
        the terms of its own rows."""
        if self.lockstep:
            return self.inner.run_epoch(X, y, w, b, order, lr, batch_size, t0=t0, avg=avg, weight=weight,
                                        measure=measure)
        N = self.threads
        B = batch_size // N

        def run(t: int) -> tuple[int, EpochOutcome]:
            part = rank_slice(order, B, t, N)
            return len(part), self.inner.run_epoch(X, y, w, b, part, lr, B, t0=t0, avg=avg, weight=weight,
                                                   measure=measure)

        futures = [self._pool.submit(run, t) for t in range(1, N)]
        done = [run(0)] + [f.result() for f in futures]
        return mean_of([o for _, o in done], [m for m, _ in done], w, b, avg)


def mean_of(outs: list[EpochOutcome], examples: list[int], w0, b0, avg0) -> EpochOutcome:
    """:func:`~linsgd.engines.threaded.combine` of the threads' outcomes, the same numbers, in one O(d) pass where
    there is no running average (its temporaries cost ~12 ms at d = 2²⁰, a few per cent of an epoch's time)."""
    from linsgd.engines._sparse_kernels import weighted_mean_of

    total = float(sum(examples))
    if any(o.diverged_at or o.avg is not None for o in outs) or total == 0:
        return combine(outs, examples, w0, b0, avg0)
    ws = tuple(np.asarray(o.w, dtype=np.float64) for o in outs)
    w = np.empty(len(ws[0]))
    weighted_mean_of(ws, np.array(examples, dtype=np.float64), total, w)
    b = sum(m * float(o.b) for m, o in zip(examples, outs, strict=True)) / total
    return EpochOutcome(w.astype(outs[0].w.dtype, copy=False), b)
