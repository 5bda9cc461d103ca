"""The fused engine: whole epochs of minibatch SGD in compiled numba kernels, no Python per batch.

Small jobs (``linsgd._small.small``: few rows, or few steps of a whole run) run the same epoch in NumPy
(``_numpy_kernels``), where loading numba would cost more than the whole job; numba is imported lazily.

Same initial parameters, same epoch order (``linsgd.data.batching``), same update and the same
normalisation by the real batch size as the reference engine, so the two trajectories agree to float
rounding; the gradient is the analytic one of Σ ½ r², r = Xw + b − y. Never imports torch.
"""

from __future__ import annotations

import numpy as np

from linsgd._parallel import in_halves
from linsgd._small import SMALL_ROWS, SMALL_STEPS, small
from linsgd.config import LOSSES
from linsgd.engines._numpy_kernels import loss as small_loss
from linsgd.engines._numpy_kernels import run_epoch as small_epoch
from linsgd.engines._numpy_kernels import start_average
from linsgd.engines.base import EpochOutcome
from linsgd.engines.measured import MeasuredLoss
from linsgd.engines.rule import as_rule

# Random row reads keep ~8 KB in flight in L1: about what one core's miss buffers can overlap with the
# arithmetic (64 rows at d = 2; measured on the benchmark workloads; the tiny kernel: TINY_AHEAD). Wide rows
# (sgd_epoch) are requested into L2, which has room for more misses in flight: ~32 KB ahead (64 rows at
# d = 100, the measured best).
_PREFETCH_BYTES = 8192
_PREFETCH_BYTES_L2 = 32768
_MAX_AHEAD = 64
# Up to this many features the gradient is summed feature by feature (sgd_epoch_narrow); above, row by
# row (sgd_epoch), which vectorises over the features. Measured, 2·10⁶ shuffled rows, batch 10, ms per
# epoch (narrow / row by row): d = 2: 15 / 22, d = 8: 62 / 86, d = 16: 97 / 110, d = 32: 89 / 39.
NARROW_MAX_FEATURES = 16
# Up to this many features the narrow epoch runs in linsgd.engines._tiny_kernels (w and the gradient in
# registers, each row read once): at d = 2, batch 5–10, 2–3× faster than sgd_epoch_narrow, the same epoch.
TINY_MAX_FEATURES = 2
# Rows the tiny kernel requests ahead (instead of _MAX_AHEAD): it spends ~4 ns a row, so 64 rows cover less
# than a memory latency. Measured, 10⁷ shuffled packed rows of d = 2 float32, CPU time of the thread, best of
# 11, the distances alternated, load ~2 on 2 cores: batch 10, one thread: 64 rows 46.2 ms, 96 rows 42.6 ms,
# 128 rows 42.9 ms; the two halves (batch 5) on two threads, per thread: 24.2, 20.9, 21.8 ms. At d = 1 (best of
# 7, one thread): 54.2, 45.9, 51.8 ms.
TINY_AHEAD = 96

# Wide rows of a kernel X larger than this (the last-level cache, 32 MiB here) are read from memory in the
# shuffled order: the epoch runs in ``sgd_epoch_far`` (``_row_groups._accumulate_far``), rows four at a time
# with the next rows requested into L1 too, instead of groups of twelve. Measured, 10⁶ × 100 float32, batch
# 256, CPU ms per epoch, best of 7 interleaved in one process, two compiled copies each (load 1.7 on 2
# cores): 400 MB shuffled 20.4-20.6 against 21.5-22.3; rows that stay in the cache would be slower so (best
# of 5, load 3.3-4.7): 40,000 rows shuffled (16 MB) 15.3-15.6 against 13.7-14.3, 1,024 rows 11.2-12.0 against
# 8.1-8.9. Threads in lockstep too (sgd_epoch_lockstep_far): a 5-epoch fit of these 10⁶ rows on 2 threads × 128
# rows, per epoch, best of 7 interleaved in one process (load 2.6 on 2 cores): 21.3 ms against 22.1 ms, each loss
# measured after the barrier's arrival in both (from the gradient's loads instead: linsgd.engines._lockstep).
FAR_BYTES = 32 << 20


# Packed rows (x_i, y_i) put a random row in one cache line instead of two (one of X, one of y): at
# d = 2 an epoch of 10⁷ shuffled rows takes ~64 ms instead of ~85 ms. The copy is made for data in
# memory (prepare) or when the same arrays come back (streamed windows never do), and only up to this
# size, so that a large dataset's memory is not doubled.
PACK_MAX_BYTES = 1 << 31


class FusedEngine:
    """Compiled kernels over float32 or float64 arrays (the dtype of ``X``), on the CPU.

    Rows are read in place, in the epoch's random order, with software prefetching. With at most
    :data:`NARROW_MAX_FEATURES` features, arrays in memory (:meth:`prepare`) or that come back for
    another epoch are copied once into packed rows (see :data:`PACK_MAX_BYTES`), kept while the same
    arrays keep coming.
    """

    name = "fused"

    def __init__(self, loss: tuple[str, float, float] = ("squared", 0.1, 0.5)) -> None:
        self.loss_spec = loss  # (loss, ε, q) of the full-data loss (the steps take the rule's)
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # the arrays of the previous call
        self._packed: np.ndarray | None = None  # their packed rows, once made
        # (n, shift, sums) of the packed arrays' rows [x y] (d <= TINY_MAX_FEATURES), gathered while packing:
        # see _pack_with_moments and linsgd.lstsq.loss.from_moments
        self.moments: tuple[int, np.ndarray, np.ndarray] | None = None

    def run_epoch(self, X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None,
                  measure=None) -> EpochOutcome:
        """One epoch of minibatch SGD over ``order``; see :mod:`linsgd.engines.base` for the contract.

        Per batch B: ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r`` with r = X_B w + b − y_B, or the
        full rule of :mod:`linsgd.engines.rule` when ``lr`` is a StepRule. ``measure``: a
        :class:`~linsgd.engines.measured.MeasuredLoss` whose model's loss terms of the rows in ``order`` are added
        on the way (only where :func:`measures_rows`).
        """
        rule = as_rule(lr)
        if measure is not None and not (rule.loss == "squared" and measures_rows(X, rule.total_steps)):
            raise ValueError("one thread measures a loss on the way only on wide rows read from memory")
        # small job: NumPy, numba's start-up would cost more (the squared loss's; the others' kernel is numba's)
        if small(len(X), rule.total_steps) and rule.loss == "squared":
            return small_epoch(X, y, w, b, order, rule, batch_size, t0=t0, avg=avg, weight=weight)
        return kernel_epoch(self.layout(X, y), w, b, order, rule, batch_size, t0=t0, avg=avg, weight=weight,
                            measure=measure)

    def measures_loss(self, schedule: str) -> bool:
        """Whether :meth:`run_epoch` on the arrays last prepared (:meth:`prepare`) can measure a full-data loss on
        the way (:class:`~linsgd.engines.measured.MeasuredLoss`): the squared loss on wide rows read from memory
        (:func:`measures_rows`)."""
        return self.loss_spec[0] == "squared" and self._last is not None and measures_rows(self._last[0])

    @staticmethod
    def row_losses(X, y, w, b, weight=None) -> MeasuredLoss:
        """A :class:`~linsgd.engines.measured.MeasuredLoss` of (w, b) on these rows, for the epoch that visits
        them all."""
        return MeasuredLoss(X, w, b, len(y))

    def layout(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X, y, Xk, yk)``: the arrays and the ones the kernel reads (packed rows when there are some).

        Made once per call, so that threads can share them (:mod:`linsgd.engines.threaded`).
        """
        if X.shape[1] <= NARROW_MAX_FEATURES and (Z := self._packed_rows(X, y)) is not None:
            return X, y, Z, Z[:, -1]  # the kernel reads x_i from Z[i, :d], y_i from Z[i, d]
        return X, y, X, y

    def loss(self, X, y, w, b, weight=None) -> float:
        """The full-data mean of ½ v_i (x_i·w + b − y_i)² (accumulated in float64, the rows split over two
        cores; v = 1 without ``weight``)."""
        if self.loss_spec[0] != "squared":  # the mean of another loss (linsgd.engines._loss_kernels)
            from linsgd.engines._loss_kernels import sum_loss

            code, eps, q = LOSSES.index(self.loss_spec[0]), float(self.loss_spec[1]), float(self.loss_spec[2])
            v = weight if weight is not None else np.empty(0, dtype=X.dtype)
            w = np.asarray(w, dtype=X.dtype)
            return sum(in_halves(lambda i0, i1: sum_loss(X, y, v, w, b, code, eps, q, i0, i1), len(y))) / len(y)
        if len(X) <= SMALL_ROWS:
            return small_loss(X, y, w, b, weight)
        from linsgd.engines._fused_kernels import sum_squared_residual, sum_weighted_squared_residual

        w, b = np.asarray(w, dtype=X.dtype), X.dtype.type(b)
        if weight is None:
            parts = in_halves(lambda i0, i1: sum_squared_residual(X, y, w, b, i0, i1), len(y))
        else:
            parts = in_halves(lambda i0, i1: sum_weighted_squared_residual(X, y, weight, w, b, i0, i1), len(y))
        return 0.5 * sum(parts) / len(y)

    def prepare(self, X, y) -> None:
        """Pack narrow rows now: X and y will come back every epoch (see :mod:`linsgd.engines.base`)."""
        self._packed_rows(X, y, now=True)

    def _packed_rows(self, X: np.ndarray, y: np.ndarray, now: bool = False) -> np.ndarray | None:
        """Packed rows of (X, y): made when these arrays come a second time (or ``now``), then kept."""
        if self._last is None or self._last[0] is not X or self._last[1] is not y:
            self._last, self._packed, self.moments = (X, y), None, None
            if not now:
                return None
        if (self._packed is None and len(X) > SMALL_ROWS and X.shape[1] <= NARROW_MAX_FEATURES
                and X.nbytes + y.nbytes <= PACK_MAX_BYTES):
            Z = np.empty((len(y), X.shape[1] + 1), dtype=X.dtype)
            if X.shape[1] <= TINY_MAX_FEATURES:  # the rows' moments come with the copy
                self.moments = _pack_with_moments(X, y, Z)
            else:
                from linsgd.engines._fused_kernels import pack_rows

                in_halves(lambda i0, i1: pack_rows(X, y, Z, i0, i1), len(y))
            self._packed = Z
        return self._packed


def _pack_with_moments(X: np.ndarray, y: np.ndarray, Z: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Pack X, y (d <= 2) into Z on both cores and return ``(n, shift, sums)``: the float64 sums of the rows
    [x y] − shift (``_tiny_kernels.pack_moments``), shift the mean of the first 4,096 rows (x₁ = 0 when
    d = 1), the two halves' sums added."""
    from linsgd.engines._tiny_kernels import pack_moments

    head = np.column_stack([X[:4096], y[:4096]]).astype(np.float64).mean(axis=0)
    shift = np.array([head[0], head[1] if X.shape[1] == 2 else 0.0, head[-1]])
    parts = in_halves(lambda i0, i1: _summed(pack_moments, X, y, Z, shift, i0, i1), len(y))
    return len(y), shift, sum(parts[1:], parts[0])


def _summed(kernel, X, y, Z, shift, i0, i1) -> np.ndarray:
    sums = np.zeros((3, 4))
    kernel(X, y, Z, shift, i0, i1, sums)
    return sums


def far_rows(X) -> bool:
    """Whether the kernels read the wide rows of ``X`` from memory (``sgd_epoch_far``, the threads'
    ``sgd_epoch_lockstep_far``): more than :data:`NARROW_MAX_FEATURES` features, larger than :data:`FAR_BYTES`."""
    return X.shape[1] > NARROW_MAX_FEATURES and X.nbytes > FAR_BYTES


def measures_rows(X, steps: int = SMALL_STEPS + 1) -> bool:
    """Whether one thread's epochs over ``X`` run in the kernel that can measure a loss on the way: :func:`far_rows`
    (``sgd_epoch_far``), not a small job of ``steps`` steps."""
    return far_rows(X) and not small(len(X), steps)


def kernel_epoch(arrays, w, b, order, rule, batch_size, *, t0=0, avg=None, weight=None,
                 measure=None) -> EpochOutcome:
    """One epoch (or segment) in the numba kernels over ``arrays`` of :meth:`FusedEngine.layout`.

    Stateless and GIL-free while the kernel runs: threads may call it at once on the same arrays, each with
    its own ``order`` (the thread's share of the segment). ``rule`` is a StepRule; the rest as in
    :meth:`FusedEngine.run_epoch`; ``measure`` (wide rows from memory only): its loss measured on the way.
    """
    from linsgd.engines._fused_kernels import sgd_epoch, sgd_epoch_far, sgd_epoch_far_measured, sgd_epoch_narrow

    X = arrays[0]
    n = len(order)
    w, wa, order, args = kernel_args(X, w, b, order, rule, batch_size, n, t0, avg, weight)
    if rule.loss != "squared":  # another loss: its slope in the gradient (one kernel for every width)
        from linsgd.engines._loss_kernels import sgd_epoch_loss

        scalar = X.dtype.type
        return outcome(sgd_epoch_loss(arrays[2], arrays[3], w, scalar(b), order, batch_size, *args,
                                      rule.loss_code, scalar(rule.epsilon), scalar(rule.quantile)), w, wa, rule)
    kernel = sgd_epoch if X.shape[1] > NARROW_MAX_FEATURES else sgd_epoch_narrow
    if kernel is sgd_epoch and far_rows(arrays[2]):
        kernel = sgd_epoch_far
    if measure is not None:  # (measures_rows: sgd_epoch_far)
        kernel, args = sgd_epoch_far_measured, (*args, *measure.args(1))
    if X.shape[1] <= TINY_MAX_FEATURES:  # one or two features: the same epoch with w in registers
        from linsgd.engines._tiny_kernels import sgd_epoch_tiny as kernel

        args = (*args[:-1], TINY_AHEAD)
    return outcome(kernel(arrays[2], arrays[3], w, X.dtype.type(b), order, batch_size, *args), w, wa, rule)


def kernel_args(X, w, b, order, rule, batch_size, n, t0, avg, weight):
    """``(w, wa, order, args)``: a copy of w the kernel may update, the running average, the order as int32
    or int64 and the kernels' arguments after the batch size (for ``n`` rows in batches of ``batch_size``)."""
    scalar = X.dtype.type
    last = n - (n - 1) // batch_size * batch_size if n else batch_size  # size of the last, possibly shorter, batch
    w = np.array(w, dtype=X.dtype)  # the kernel updates in place: never touch the caller's array
    wa, ba = start_average(w, b, avg)
    order = np.asarray(order)
    if order.dtype not in (np.int32, np.int64):
        order = order.astype(np.int64)
    v = weight if weight is not None else np.empty(0, dtype=X.dtype)
    args = ((float(rule.lr), float(rule.schedule_code), float(rule.power_t), float(rule.total_steps)),
            (scalar(rule.lr / batch_size), scalar(rule.lr / last)),
            rule.penalty_vectors(len(w)), rule.average_from, t0, wa, ba, v,
            np.zeros(3, dtype=X.dtype), scalar(0.5), _ahead(X, X.shape[1] <= NARROW_MAX_FEATURES))
    return w, wa, order, args


def outcome(result, w, wa, rule) -> EpochOutcome:
    """The EpochOutcome of a kernel's ``(b, diverged_at, w_before, b_before, ba)`` (w, wa: its arrays)."""
    b, step, w_before, b_before, ba = result
    if step:
        return EpochOutcome(w_before, float(b_before), diverged_at=step)
    return EpochOutcome(w, float(b), avg=(wa, float(ba)) if rule.average_from else None)


def _ahead(X: np.ndarray, narrow: bool = True) -> int:
    """Rows to request ahead of the one computed: about :data:`_PREFETCH_BYTES` in flight into L1
    (``narrow``), else :data:`_PREFETCH_BYTES_L2` into L2."""
    row_bytes = (X.shape[1] + 1) * X.itemsize  # a row of X and its target
    return int(min(_MAX_AHEAD, max(1, (_PREFETCH_BYTES if narrow else _PREFETCH_BYTES_L2) // row_bytes)))
