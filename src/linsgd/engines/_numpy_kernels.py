"""The fused engine on small data (``len(X) <= SMALL_ROWS``): the same epoch and loss in NumPy, no numba.

On a few thousand rows numba's start-up (~0.35 s, see :mod:`linsgd._small`) costs more than the whole
job; NumPy runs a minibatch step in ~6 µs. The arithmetic is that of ``_fused_kernels.sgd_epoch``:
per batch B of the order, with r = X_B w + b − y_B,

``w ← w − lr/|B| · X_Bᵀ r``,  ``b ← b − lr/|B| · Σ r``,

normalised by the real size of a short last batch, in the dtype of X (float32 stays float32: every
scalar is of that dtype), and the same divergence rule: the 1-based step whose batch loss ½Σr² or
updated parameters are first non-finite, with the parameters from before that step. The sums run in
another order than the kernel's, so results agree to float rounding, not bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from linsgd.engines.base import EpochOutcome


def run_epoch(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, order: np.ndarray, lr: float,
              batch_size: int) -> EpochOutcome:
    """One epoch of minibatch SGD over ``order`` (the contract of :mod:`linsgd.engines.base`).

    Args:
        X: (n, d) features, float32 or float64. y: (n,) targets of X's dtype.
        w: (d,) weights (not modified). b: bias. order: int32 or int64 row indices, visited in consecutive
            batches ``order[k·B : (k+1)·B]``. lr: learning rate. batch_size: B >= 1.

    Returns:
        EpochOutcome: the new (w, b), or the parameters before the first non-finite step and its
        1-based number in ``diverged_at``.
    """
    scalar = X.dtype.type
    n = len(order)
    last = n - (n - 1) // batch_size * batch_size  # size of the last, possibly shorter, batch
    w, b = np.array(w, dtype=X.dtype), scalar(b)
    full, short, half = scalar(lr / batch_size), scalar(lr / last), scalar(0.5)
    Xo, yo = X[order], y[order]  # the epoch's rows gathered once; a batch is then a slice
    zeros = np.zeros_like(w)
    with np.errstate(all="ignore"):  # overflow is divergence, reported by the step number alone
        for step, start in enumerate(range(0, n, batch_size), start=1):
            Xb = Xo[start:start + batch_size]
            r = Xb @ w
            r += b
            r -= yo[start:start + batch_size]
            s = full if len(r) == batch_size else short
            w_new, b_new = w - s * (r @ Xb), b - s * r.sum()
            # w·0 is 0 for a finite w, nan for inf or nan (a sum of w could overflow while finite)
            if not math.isfinite((r * r * half).sum() + w_new @ zeros + (b_new - b_new)):
                return EpochOutcome(w, float(b), diverged_at=step)
            w, b = w_new, b_new
    return EpochOutcome(w, float(b))


def loss(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """The full-data mean of ½(Xw + b − y)², in float64 (w and b rounded to X's dtype first, as the kernel).

    Args:
        X: (n, d) features, n >= 1. y: (n,) targets. w: (d,) weights. b: bias.

    Returns:
        The loss as a Python float (inf when it overflows float64).
    """
    w64 = np.asarray(w, dtype=X.dtype).astype(np.float64)
    b64 = np.float64(X.dtype.type(b))
    with np.errstate(all="ignore"):
        r = X.astype(np.float64) @ w64
        r += b64
        r -= y
        return float(0.5 * (r @ r) / len(y))
