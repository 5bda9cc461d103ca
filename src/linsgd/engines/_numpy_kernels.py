"""The fused engine on small data (``len(X) <= SMALL_ROWS``): the same epoch and loss in NumPy, no numba.

On a few thousand rows numba's start-up (~0.35 s, see :mod:`linsgd._small`) costs more than the whole
job; NumPy runs a minibatch step in ~6 µs. The arithmetic is that of ``_fused_kernels.sgd_epoch``
(the rule of :mod:`linsgd.engines.rule`; without schedule, penalty, weights or averaging, per batch B of
the order, with r = X_B w + b − y_B: ``w ← w − lr/|B| · X_Bᵀ r``,  ``b ← b − lr/|B| · Σ r``),
normalised by the real size of a short last batch, in the dtype of X (float32 stays float32: every
scalar is of that dtype), and the same divergence rule: the 1-based step whose batch loss ½Σr² or
updated parameters are first non-finite, with the parameters from before that step. The sums run in
another order than the kernel's, so results agree to float rounding, not bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from linsgd.engines.base import EpochOutcome
from linsgd.engines.rule import as_rule


def run_epoch(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, order: np.ndarray, lr,
              batch_size: int, *, t0: int = 0, avg=None, weight: np.ndarray | None = None) -> EpochOutcome:
    """One epoch of minibatch SGD over ``order`` (the contract of :mod:`linsgd.engines.base`).

    Args:
        X: (n, d) features, float32 or float64. y: (n,) targets of X's dtype.
        w: (d,) weights (not modified). b: bias. order: int32 or int64 row indices, visited in consecutive
            batches ``order[k·B : (k+1)·B]``. lr: learning rate or a :class:`~linsgd.engines.rule.StepRule`.
            batch_size: B >= 1. t0: steps run before this call (schedule, averaging).
            avg: the averaged (w̄, b̄) so far, or None. weight: (n,) sample weights of mean 1, or None.

    Returns:
        EpochOutcome: the new (w, b) and average, or the parameters before the first non-finite step and
        its 1-based number in ``diverged_at``.
    """
    rule, scalar = as_rule(lr), X.dtype.type
    n = len(order)
    w, b, half = np.array(w, dtype=X.dtype), scalar(b), scalar(0.5)
    wa, ba = start_average(w, b, avg)
    Xo, yo = X[order], y[order]  # the epoch's rows gathered once; a batch is then a slice
    vo = weight[order] if weight is not None else None
    zeros = np.zeros_like(w)
    l1, l2 = rule.penalty_vectors(len(w)) if rule.penalized else (None, None)
    with np.errstate(all="ignore"):  # overflow is divergence, reported by the step number alone
        for step, start in enumerate(range(0, n, batch_size), start=1):
            Xb = Xo[start:start + batch_size]
            r = Xb @ w
            r += b
            r -= yo[start:start + batch_size]
            eta = rule.lr_at(t0 + step - 1)
            s = scalar(eta / len(r))
            rg = r if vo is None else r * vo[start:start + batch_size]
            w_new, b_new = w - s * (rg @ Xb), b - s * rg.sum()
            if rule.penalized:
                w_new = _prox(w_new, (eta * l1).astype(X.dtype), (1.0 / (1.0 + eta * l2)).astype(X.dtype))
            # w·0 is 0 for a finite w, nan for inf or nan (a sum of w could overflow while finite)
            if not math.isfinite((r * r * half).sum() + w_new @ zeros + (b_new - b_new)):
                return EpochOutcome(w, float(b), diverged_at=step)
            w, b = w_new, b_new
            m = rule.averaging(t0 + step)
            if m:
                wa += (w - wa) / m
                ba += (float(b) - ba) / m
    return EpochOutcome(w, float(b), avg=(wa, ba) if rule.average_from else None)


def _prox(u: np.ndarray, threshold, shrink) -> np.ndarray:
    """S(u, threshold)·shrink elementwise, in u's dtype (see :mod:`linsgd.engines.rule`)."""
    return np.where(u > threshold, u - threshold, np.where(u < -threshold, u + threshold, 0 * u)) * shrink


def start_average(w: np.ndarray, b: float, avg) -> tuple[np.ndarray, float]:
    """The running average (w̄ float64, b̄) to continue: ``avg``, or (w, b) when there is none yet."""
    if avg is None:
        return np.array(w, dtype=np.float64), float(b)
    return np.array(avg[0], dtype=np.float64), float(avg[1])


def loss(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, weight: np.ndarray | None = None) -> float:
    """The full-data mean of ½ v_i (x_i·w + b − y_i)² (v = 1 without weights), in float64 (w and b rounded to
    X's dtype first, as the kernel).

    Args:
        X: (n, d) features, n >= 1. y: (n,) targets. w: (d,) weights. b: bias. weight: (n,) or None.

    Returns:
        The loss as a Python float (inf when it overflows float64).
    """
    w64 = np.asarray(w, dtype=X.dtype).astype(np.float64)
    b64 = np.float64(X.dtype.type(b))
    with np.errstate(all="ignore"):
        r = X.astype(np.float64) @ w64
        r += b64
        r -= y
        return float(0.5 * (r @ (r if weight is None else r * weight)) / len(y))
