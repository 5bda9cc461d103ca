"""Every core of one machine: N threads in one process, each running the engine on its share of each batch.

A *process batch* of N·B examples of the epoch's order is cut like :class:`~linsgd.data.rank_views.RankSlice` cuts
a global batch (:func:`~linsgd.data.batching.rank_slice`): thread t takes the t-th slice of B examples (a
short last batch is split as evenly as possible). Each thread runs the fused kernel (numba, ``nogil``) on
its slices of a segment of K steps, from the same parameters; at the segment's end the threads' parameters
(and running averages) are replaced by their example-weighted mean, the rule of ranks
(:mod:`linsgd.engines.averaging`). With K = 1 that is exactly one thread with batch N·B; with K > 1 it is
local SGD. The loop cuts segments at multiples of K steps (``TrainConfig.sync_every``), at checkpoints and,
streamed, at the end of each window; the engine averages at the end of every call.

With K = 1 (``lockstep``) the fused engine does not average at all: the threads run one kernel call per
segment in lockstep (:mod:`linsgd.engines._lockstep`), adding their partial gradients at one barrier per
step — the same trajectory as one thread with batch N·B, to float rounding (and with an L1 penalty too),
without a hand-off per step; the loop then cuts segments only for checkpoints and windows. With as many threads
as cores, each epoch's full-data loss is then measured by the next epoch's kernel (:class:`MeasuredLoss`) instead
of a pass. K = "auto" is 1 where a barrier per step costs little next to the step (:func:`default_sync_every`).

The data is shared, never copied per thread (the fused engine's packed rows are made once and read by all).
Under torchrun every rank runs its threads on its own slice: ranks × threads compose (2 ranks × 2 threads
with K = 1 equal 1 process × 4 threads).
"""

from __future__ import annotations

import math
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd._small import small
from linsgd.data.batching import rank_slice
from linsgd.engines.averaging import pack, unpack, weighted_mean
from linsgd.engines.base import EpochOutcome
from linsgd.engines.fused import TINY_MAX_FEATURES, far_rows, kernel_args, kernel_epoch, outcome
from linsgd.engines.measured import MeasuredLoss
from linsgd.engines.rule import as_rule

# The default K (sync_every="auto"): averaging costs at most SYNC_SHARE of the epoch's time, with
# K = ceil(sync cost / (SYNC_SHARE · step cost)). Measured on this project's shared 2-vCPU VM
# (benchmarks/bench_threads.py, section 2; best of 5, configurations alternated): one sync of 2 threads (the
# hand-off to the pool, the threads' calls returning, the weighted mean) costs 50–100 µs more than one
# thread's call (54 µs fitted over K = 1…1024 on the large workload, 97 µs at K = 1 on the wide one);
# a thread's step costs 17 ns per example at d = 2 and 84 ns at d = 100 (~15.6 ns + 0.68 ns·d).
SYNC_SHARE = 0.05
SYNC_SECONDS = 75e-6
ROW_SECONDS = 15e-9
FEATURE_SECONDS = 0.7e-9
# One or two features run in registers (linsgd.engines._tiny_kernels): ~4.9 ns a row at d = 2 (5·10⁶
# shuffled rows, batch 5 or 10, CPU time of the thread, load ~4), so K is larger for the same share.
TINY_ROW_SECONDS = 5e-9
# K = "auto" is 1 (lockstep) where a barrier per step costs at most SYNC_SHARE of the step, and the run can go in
# lockstep (the fused engine, the squared loss, no ranks averaging every K > 1 steps): then the threads also measure
# each epoch's loss in the next epoch's kernel instead of a pass, and the order is drawn between epochs. Measured on
# the shared 2-vCPU VM, wide workload (10⁶ × 100 float32, 2 threads × 128 rows), configurations alternated in one
# process: the barrier costs ~0.43 µs a step (a lockstep epoch 22.1 ms against 20.4 ms for two plain threads on the
# halves, best of 7, load ~0.7); a 5-epoch fit per epoch (benchmarks/bench_lockstep.py, best of 5): lockstep 25.9 ms
# against 33.2 ms for local SGD (K = 138) and 34.5 ms for one thread (started with both cores idle, load average 2.6
# after), 53.6 against 52.3 and 47.1 at load ~2.3. (Before the barrier slept on a futex, a descheduled thread stalled
# its partner far longer: 159 ms against 87 and 51 at load ~3.5.)
BARRIER_SECONDS = 0.5e-6
# Below this many rows a run uses one thread (linsgd._parallel's threshold for splitting a pass in two).
THREAD_MIN_ROWS = MIN_SPLIT_ROWS


def default_sync_every(d: int, batch_size: int, lockstep: bool = False) -> int:
    """K for threads (``sync_every="auto"``): the fewest steps between averages that keep their cost at most
    :data:`SYNC_SHARE` of the epoch, for d features and a per-thread batch of ``batch_size``; 1 where the run can
    go in ``lockstep`` and a barrier per step costs at most that share (:data:`BARRIER_SECONDS`).

    >>> default_sync_every(2, 10), default_sync_every(3, 10), default_sync_every(100, 128)
    (30000, 8772, 138)
    >>> default_sync_every(100, 128, lockstep=True), default_sync_every(100, 64, lockstep=True)
    (1, 276)
    """
    row = TINY_ROW_SECONDS if d <= TINY_MAX_FEATURES else ROW_SECONDS + FEATURE_SECONDS * d
    step = batch_size * row
    if lockstep and BARRIER_SECONDS <= SYNC_SHARE * step:
        return 1
    return max(1, math.ceil(SYNC_SECONDS / (SYNC_SHARE * step)))


def threads_used(threads: int, rows: int, steps: int) -> int:
    """The threads a run uses: ``threads``, but 1 for a small job (:func:`linsgd._small.small`: ``rows`` rows
    and ``steps`` one-thread steps in all; it runs in NumPy) and below :data:`THREAD_MIN_ROWS` rows, where an
    epoch takes about as long as a few hand-offs to the threads."""
    return 1 if threads <= 1 or rows < THREAD_MIN_ROWS or small(rows, steps) else threads


class ThreadedEngine:
    """An engine whose ``run_epoch`` runs ``threads`` slices of each process batch on as many threads.

    ``batch_size`` of :meth:`run_epoch` is the process batch N·B (a multiple of N); each thread's batch is B.
    The calling thread runs slice 0, a persistent pool of N − 1 threads the others. With the reference
    engine (the oracle) the slices run one after the other: the same arithmetic, no parallelism.

    Args:
        inner: the engine of each thread (:class:`~linsgd.engines.fused.FusedEngine` or the reference).
        threads: N >= 2.
        lockstep: K = 1: one step of batch N·B per process batch (the fused engine runs the threads in
            lockstep, :mod:`linsgd.engines._lockstep`; the reference averages after every step).
    """

    def __init__(self, inner, threads: int, lockstep: bool = False) -> None:
        self.inner, self.threads, self.name = inner, threads, inner.name
        # steps are synchronised inside the kernels: the loop need not cut a segment per step
        self.lockstep = lockstep and hasattr(inner, "layout")
        self._pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="linsgd-sgd")
        weakref.finalize(self, self._pool.shutdown, wait=False)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> None:
        self.inner.prepare(X, y)

    @property
    def moments(self):
        """The inner engine's sums of the rows gathered while preparing them, or None."""
        return getattr(self.inner, "moments", None)

    def loss(self, X, y, w, b, weight=None) -> float:
        return self.inner.loss(X, y, w, b, weight)

    def measures_loss(self, schedule: str) -> bool:
        """Whether :meth:`run_epoch` can measure a full-data loss on the way (:class:`MeasuredLoss`): in lockstep,
        of the squared loss (the only one lockstep runs)."""
        return self.lockstep

    def row_losses(self, X, y, w, b, weight=None) -> MeasuredLoss:
        """The inner engine's :class:`MeasuredLoss` of (w, b) on these rows, to hand to the lockstep epochs that
        visit them all."""
        return self.inner.row_losses(X, y, w, b, weight)

    def run_epoch(self, X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None,
                  measure=None) -> EpochOutcome:
        """The segment ``order`` in process batches of ``batch_size``, split over the threads, then averaged.

        On divergence: the earliest step at which a thread diverged, with the segment's initial parameters.
        ``measure``: a :class:`MeasuredLoss` whose model's loss terms of the rows in ``order`` are added on the
        way (lockstep only, :meth:`measures_loss`).
        """
        rule, N = as_rule(lr), self.threads
        B = batch_size // N
        if self.lockstep and not small(len(X), rule.total_steps):
            return self._lockstep(X, y, w, b, order, rule, B, t0, avg, weight, measure)
        if measure is not None:
            raise ValueError("threads measure a loss on the way only in lockstep, on more than a small job's rows")
        work = self._work(X, y, w, b, rule, B, t0, avg, weight)
        if work is None:  # the oracle, or a small job: one after the other
            done = [self._slice(order, B, t, lambda p: self.inner.run_epoch(
                X, y, w, b, p, rule, B, t0=t0, avg=avg, weight=weight)) for t in range(N)]
        else:  # every thread cuts its own slice (a copy of its indices) and runs it
            futures = [self._pool.submit(self._slice, order, B, t, work) for t in range(1, N)]
            done = [self._slice(order, B, 0, work)] + [f.result() for f in futures]
        return combine([o for _, o in done], [m for m, _ in done], w, b, avg)

    def _lockstep(self, X, y, w, b, order, rule, B, t0, avg, weight, measure) -> EpochOutcome:
        """The segment in one lockstep kernel call per thread (every thread's result is the same)."""
        from linsgd.engines._lockstep import sgd_epoch_lockstep, sgd_epoch_lockstep_far  # lazy: numba

        N, n = self.threads, len(order)
        arrays = self.inner.layout(X, y)
        kernel = sgd_epoch_lockstep_far if far_rows(arrays[2]) else sgd_epoch_lockstep
        steps = -(-n // (N * B))
        shared = np.zeros((2, N, len(w) + 2), dtype=X.dtype)
        counter = np.zeros(8, dtype=np.int64)  # one cache line of its own
        loss = measure.args(N) if measure is not None else (np.empty(0, dtype=X.dtype), X.dtype.type(0), _NO_SUMS)
        calls = []
        for t in range(N):  # everything prepared before any thread starts: none may wait for one that failed
            w_t, wa, part, args = kernel_args(X, w, b, rank_slice(order, B, t, N), rule, N * B, n, t0, avg, weight)
            calls.append((w_t, wa, (arrays[2], arrays[3], w_t, X.dtype.type(b), part, steps, B, n, N * B, *args,
                                    t, shared, counter, *loss)))
        futures = [self._pool.submit(kernel, *c[2]) for c in calls[1:]]
        result = kernel(*calls[0][2])
        for f in futures:
            f.result()
        return outcome(result, calls[0][0], calls[0][1], rule)

    def _slice(self, order, B: int, t: int, run) -> tuple[int, EpochOutcome]:
        """Thread t's share of the segment, run: (its examples, the outcome)."""
        part = rank_slice(order, B, t, self.threads)
        return len(part), run(part)

    def _work(self, X, y, w, b, rule, B, t0, avg, weight):
        """The per-thread call on shared arrays (the fused kernels), or None to run the slices in turn."""
        if not hasattr(self.inner, "layout") or small(len(X), rule.total_steps):
            return None
        arrays = self.inner.layout(X, y)  # packed rows made once, read by every thread
        return lambda part: kernel_epoch(arrays, w, b, part, rule, B, t0=t0, avg=avg, weight=weight)


_NO_SUMS = np.empty(0)  # nothing measured


def combine(outs: list[EpochOutcome], examples: list[int], w0, b0, avg0) -> EpochOutcome:
    """The threads' outcomes averaged by :func:`~linsgd.engines.averaging.weighted_mean` (the rule of ranks)."""
    diverged = [o.diverged_at for o in outs if o.diverged_at]
    if diverged:
        return EpochOutcome(np.array(w0), float(b0), diverged_at=min(diverged))
    mean = weighted_mean([(pack(o.w, o.avg), o.b) for o in outs], examples)
    if mean is None:
        return EpochOutcome(np.array(w0), float(b0), avg=avg0)
    w, avg = unpack(mean[0], len(outs[0].w), outs[0].w.dtype)
    return EpochOutcome(w, mean[1], avg=avg)
