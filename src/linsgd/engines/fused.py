"""The fused engine: whole epochs of minibatch SGD in compiled numba kernels, no Python per batch.

Same initial parameters, same epoch order (``linsgd.data.batching``), same update and the same
normalisation by the real batch size as the reference engine, so the two trajectories agree to float
rounding; the gradient is the analytic one of Σ ½ r², r = Xw + b − y. Never imports torch.
"""

from __future__ import annotations

import numpy as np

from linsgd._small import SMALL_ROWS
from linsgd.engines import EpochOutcome, _numpy_kernels

# Random row reads keep ~8 KB in flight: about what one core's miss buffers can overlap with the
# arithmetic (64 rows at d = 2, 20 at d = 100; measured on the benchmark workloads).
_PREFETCH_BYTES = 8192
_MAX_AHEAD = 64


class FusedEngine:
    """Compiled kernels over float32 or float64 arrays (the dtype of ``X``), on the CPU.

    Rows are read in place, in the epoch's random order, with software prefetching; they are not
    copied into a shuffled (or a packed x‖y) layout: on the benchmark workloads the copies cost more in
    memory allocation and bandwidth than the contiguous reads save.
    """

    name = "fused"

    def run_epoch(self, X, y, w, b, order, lr, batch_size) -> EpochOutcome:
        """One epoch of minibatch SGD over ``order``; see :mod:`linsgd.engines` for the contract.

        Per batch B: ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r`` with r = X_B w + b − y_B.
        """
        if len(X) <= SMALL_ROWS:  # small data: NumPy, numba's start-up would cost more (linsgd._small)
            return _numpy_kernels.run_epoch(X, y, w, b, order, lr, batch_size)
        from linsgd.engines._fused_kernels import sgd_epoch
        scalar = X.dtype.type
        n = len(order)
        last = n - (n - 1) // batch_size * batch_size  # size of the last, possibly shorter, batch
        w = np.array(w, dtype=X.dtype)  # the kernel updates in place: never touch the caller's array
        b, step, w_before, b_before = sgd_epoch(
            X, y, w, scalar(b), np.asarray(order, dtype=np.int64), batch_size, scalar(lr / batch_size),
            scalar(lr / last), scalar(0.5), _ahead(X))
        if step:
            return EpochOutcome(w_before, float(b_before), diverged_at=step)
        return EpochOutcome(w, float(b))

    def loss(self, X, y, w, b) -> float:
        """The full-data mean of ½(Xw + b − y)² (accumulated in float64)."""
        if len(X) <= SMALL_ROWS:
            return _numpy_kernels.loss(X, y, w, b)
        from linsgd.engines._fused_kernels import mean_half_squared_residual
        return float(mean_half_squared_residual(X, y, np.asarray(w, dtype=X.dtype), X.dtype.type(b)))


def _ahead(X: np.ndarray) -> int:
    row_bytes = (X.shape[1] + 1) * X.itemsize  # a row of X and its target
    return int(min(_MAX_AHEAD, max(1, _PREFETCH_BYTES // row_bytes)))
