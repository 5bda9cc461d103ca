"""The sparse engine: the fused engine's epoch on a CSR matrix, each step costing O(non-zeros of its batch).

Same contract as every engine (:mod:`linsgd.engines.base`), with ``X`` a ``scipy.sparse`` CSR matrix
(canonical or not: repeated indices add up, as in ``X.toarray()``). Same initial parameters, same epoch
order, same update rule and normalisation as the fused and reference engines on ``X.toarray()``, so the
trajectories agree to float rounding — with one limit the dense engines do not have, checked by
``linsgd.fit`` before an epoch runs (:func:`linsgd.data.sparse_input.check_sparse_config`): the penalty is L2
only, one scalar for every coefficient (it is kept lazily as a scale factor on w,
:mod:`linsgd.engines._sparse_kernels`); an L1 soft threshold would touch every coordinate at every step.
Threads run this engine on their slices (:mod:`linsgd.engines.sparse_threads`).

``schedule="adagrad"`` (sparse X only) steps each coordinate by its own AdaGrad rate
(:mod:`linsgd.engines._adagrad_kernels`); the engine keeps the per-coordinate sums of squared gradients from
one call to the next (one engine per run), in an array the train loop's state shares
(:meth:`SparseEngine.share_sums`), so that checkpoints hold them and a resumed run continues them.

The weights are updated in float64 whatever the data's dtype (the scale factor needs the digits), and
returned in the data's dtype.
"""

from __future__ import annotations

import numpy as np

from linsgd._parallel import in_halves
from linsgd.engines._numpy_kernels import start_average
from linsgd.engines.base import EpochOutcome
from linsgd.engines.rule import as_rule

# Prefetch distance in rows: a row's pointers are requested 3·AHEAD rows before it is computed, its values and
# indices 2·AHEAD, the weights it reads AHEAD (linsgd.engines._sparse_kernels). Measured, 10⁶ hashed rows × 2^20
# columns (benchmarks/bench_sparse.py data), batch 1, s per epoch of the kernel, two alternating runs at load
# ~16 on 2 cores: no prefetch 7.3, 7.7; AHEAD 2: 2.8, 2.4; 4: 2.7, 2.5; 8: 2.9, 2.5 (weights only, 2 ahead, on
# 3·10⁵ rows: 0.57-0.76 against 0.83-1.12 without).
AHEAD = 2
# The full-data loss reads rows in storage order (their lines stream in without help) and only the weights at random:
# it needs them further ahead. One pass over those 10⁶ rows on one core, four alternating runs at load ~4 on 2 cores,
# best (all): LOSS_AHEAD 2: 0.134 s (0.186, 0.135, 0.134, 0.157); 4: 0.075 (0.176, 0.104, 0.075, 0.150); 8: 0.074
# (0.208, 0.074, 0.133, 0.120); 12: 0.103 (0.189, 0.103, 0.124, 0.107).
LOSS_AHEAD = 8


class SparseEngine:
    """Minibatch SGD on CSR rows in a numba kernel (:func:`linsgd.engines._sparse_kernels.sgd_epoch_csr`)."""

    name = "fused"

    def __init__(self) -> None:
        self._sumsq = None  # AdaGrad's Σ g² per coordinate and of the bias (d + 1,), from the run's first step

    def run_epoch(self, X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None,
                  measure=None) -> EpochOutcome:
        """One epoch over ``order``: per batch B, ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r`` with
        r = X_B w + b − y_B (the rule of :mod:`linsgd.engines.rule` with an L2 penalty, schedule, weights and
        averaging), touching only the batch's non-zero coordinates. ``measure``: a :class:`RowLosses` whose
        rows in ``order`` get their loss terms on the way (:meth:`measures_loss`)."""
        from linsgd.engines._sparse_kernels import sgd_epoch_csr  # lazy: numba

        rule = as_rule(lr)
        if measure is not None and not self.measures_loss(rule.schedule):
            raise ValueError(f"the sparse engine measures no loss under schedule {rule.schedule!r}")
        if rule.schedule == "adagrad":
            return self._adagrad(X, y, w, b, _as_index(order), rule, batch_size, t0, avg, weight)
        l2 = scalar_l2(rule, len(w))
        u = np.array(w, dtype=np.float64)
        wa, ba = start_average(w, b, avg) if rule.average_from else (_EMPTY, 0.0)  # no d-long copy for nothing
        order = _as_index(order)
        v = weight if weight is not None else np.empty(0, dtype=X.dtype)
        args = (float(rule.lr), float(rule.schedule_code), float(rule.power_t), float(rule.total_steps))
        b_new, step, b_before, ba = sgd_epoch_csr(X.data, X.indices, X.indptr, y, u, float(b), order, batch_size,
                                                  args, l2, rule.average_from, t0, wa, ba, v, AHEAD,
                                                  *(measure.args() if measure is not None else _NO_MEASURE))
        w_out = u if X.dtype == np.float64 else u.astype(X.dtype)  # u is this call's own array
        if step:
            return EpochOutcome(w_out, float(b_before), diverged_at=step)
        return EpochOutcome(w_out, float(b_new), avg=(wa, float(ba)) if rule.average_from else None)

    @staticmethod
    def measures_loss(schedule: str) -> bool:
        """Whether :meth:`run_epoch` can measure a loss on the way (:class:`RowLosses`): not under AdaGrad."""
        return schedule != "adagrad"

    @staticmethod
    def row_losses(X, y, w, b, weight=None) -> RowLosses:
        """A :class:`RowLosses` of (w, b) on these rows, to hand to the epochs that visit them all."""
        return RowLosses(X, y, w, b, weight)

    def share_sums(self, sums, d: int, *, resumed: bool) -> np.ndarray:
        """The AdaGrad sums (d + 1,) float64 the engine steps with, updated in place: ``sums`` (a resumed
        state's) or new zeros; the train loop keeps the returned array in its state. ValueError (an internal
        error) when a run resumed after its first step has none."""
        if sums is None:
            if resumed:
                raise ValueError("an AdaGrad run resumed after its first step needs its sums of squares")
            sums = np.zeros(d + 1)
        self._sumsq = np.asarray(sums, dtype=np.float64)
        return self._sumsq

    def _adagrad(self, X, y, w, b, order, rule, batch_size, t0, avg, weight) -> EpochOutcome:
        """:meth:`run_epoch` under ``schedule="adagrad"`` (:mod:`linsgd.engines._adagrad_kernels`)."""
        from linsgd.engines._adagrad_kernels import SUMSQ, W, adagrad_epoch_csr

        d = len(w)
        if self._sumsq is None:
            if t0:
                raise ValueError("an AdaGrad run cannot continue on a fresh engine: its sums of squares are lost")
            self._sumsq = np.zeros(d + 1)
        elif t0 == 0:  # a fresh run (partial_fit starts the step count, and the sums, again)
            self._sumsq[:] = 0.0
        state = np.empty((d, 2), dtype=X.dtype)
        state[:, W], state[:, SUMSQ] = w, self._sumsq[:d]
        wa, ba = start_average(w, b, avg) if rule.average_from else (np.empty(0), 0.0)
        bias = np.array([float(b), self._sumsq[d], ba])
        v = weight if weight is not None else np.empty(0, dtype=X.dtype)
        summed = batch_size > 1 or not X.has_canonical_format
        step = adagrad_epoch_csr(X.data, X.indices, X.indptr, y, state, bias, order, batch_size, float(rule.lr),
                                 rule.average_from, t0, wa, v, summed, AHEAD)
        self._sumsq[:d], self._sumsq[d] = state[:, SUMSQ], bias[1]
        w_out = state[:, W].astype(X.dtype)
        if step:
            return EpochOutcome(w_out, float(bias[0]), diverged_at=step)
        return EpochOutcome(w_out, float(bias[0]), avg=(wa, float(bias[2])) if rule.average_from else None)

    def loss(self, X, y, w, b, weight=None) -> float:
        """The full-data mean of ½ v_i (x_i·w + b − y_i)², in float64 (w and b rounded to X's dtype first,
        as the dense engines; the rows split over two cores)."""
        from linsgd.engines._sparse_kernels import sum_squared_residual_csr

        w64 = np.asarray(w, dtype=X.dtype).astype(np.float64)
        b64 = float(X.dtype.type(b))
        v = weight if weight is not None else np.empty(0, dtype=X.dtype)
        parts = in_halves(lambda i0, i1: sum_squared_residual_csr(X.data, X.indices, X.indptr, y, w64, b64, v,
                                                                   i0, i1, LOSS_AHEAD), len(y))
        return 0.5 * sum(parts) / len(y)

    def prepare(self, X, y) -> None:
        """Nothing to lay out: the kernel reads the CSR arrays as they are."""


class RowLosses:
    """The full-data loss of (w, b), :meth:`SparseEngine.loss`, measured row by row by the epochs that visit every
    row once after it (the kernel reads each row anyway; w sits beside the weights it trains): every row's term
    of the pass, computed the same way, summed in the pass's halves and order, so :meth:`result` is the number
    :meth:`SparseEngine.loss` returns — bit for bit — without a pass of its own."""

    def __init__(self, X, y, w, b, weight=None) -> None:
        self.w = np.asarray(w, dtype=X.dtype).astype(np.float64)  # rounded to X's dtype first, as loss() does
        self.b = float(X.dtype.type(b))
        self.sq = np.empty(len(y))  # row i's v_i (x_i·w + b − y_i)², written by the kernel

    def args(self) -> tuple:
        return self.w, self.b, self.sq

    def result(self) -> float:
        """Mean ½ v_i (x_i·w + b − y_i)² once every row has been visited (named as a future's: the loop takes
        either)."""
        from linsgd.engines._sparse_kernels import sum_in_order

        parts = in_halves(lambda i0, i1: sum_in_order(self.sq, i0, i1), len(self.sq))
        return 0.5 * sum(parts) / len(self.sq)


_EMPTY = np.empty(0)
_NO_MEASURE = (_EMPTY, 0.0, _EMPTY)


def _as_index(order) -> np.ndarray:
    """The order as int32 or int64 (what the kernels take)."""
    order = np.asarray(order)
    return order if order.dtype in (np.int32, np.int64) else order.astype(np.int64)


def scalar_l2(rule, d: int) -> float:
    """The rule's L2 penalty as one number; ValueError (an internal error: ``linsgd.fit`` refuses these
    first) when the rule has an L1 part or per-coefficient L2 weights that differ."""
    if not rule.penalized:
        return 0.0
    l1, l2 = (np.asarray(p, dtype=np.float64) for p in (rule.l1, rule.l2))  # scalars, or one per coefficient:
    if np.any(l1 > 0) or (d and l2.size > 1 and np.ptp(l2) > 0):  # no d-long copies per call for a scalar
        raise ValueError("the sparse engine keeps one scalar L2 penalty; an L1 part or per-coefficient "
                         "weights must be refused before training")
    return float(l2.flat[0]) if d else 0.0
