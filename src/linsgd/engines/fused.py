"""The fused engine: whole epochs of minibatch SGD in compiled numba kernels, no Python per batch.

Same initial parameters, same epoch order (``linsgd.data.batching``), same update and the same
normalisation by the real batch size as the reference engine, so the two trajectories agree to float
rounding; the gradient is the analytic one of Σ ½ r², r = Xw + b − y. Never imports torch.
"""

from __future__ import annotations

import numpy as np

from linsgd.engines import EpochOutcome
from linsgd.engines._fused_kernels import mean_half_squared_residual, pack_rows, sgd_epoch

# Random row reads keep ~8 KB in flight: about what one core's miss buffers can overlap with the
# arithmetic (64 rows at d = 2, 20 at d = 100; measured on the benchmark workloads).
_PREFETCH_BYTES = 8192
_MAX_AHEAD = 64
_LINE = 64  # bytes per cache line


class FusedEngine:
    """Compiled kernels over float32 or float64 arrays (the dtype of ``X``), on the CPU.

    Rows are read in the epoch's random order, so each example costs a cache miss per cache line it
    spans. When a row and its target fit in one line (d + 1 ≤ 15 float32 values), the engine reads
    them from a packed copy ``Z[i] = (x_i, y_i, 0…)`` aligned to a power of two bytes: one miss per
    example instead of two (1.5× faster at d = 2). The copy is made on the first epoch and reused
    while the engine is called with the same ``X`` and ``y`` objects: do not modify them in place
    between the epochs of one engine (the train loop never does).
    """

    name = "fused"

    def __init__(self) -> None:
        self._packed: tuple | None = None  # (X, y, Z, Z's y column) of the last data trained on

    def run_epoch(self, X, y, w, b, order, lr, batch_size) -> EpochOutcome:
        """One epoch of minibatch SGD over ``order``; see :mod:`linsgd.engines` for the contract.

        Per batch B: ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r`` with r = X_B w + b − y_B.
        """
        scalar = X.dtype.type
        n = len(order)
        last = n - (n - 1) // batch_size * batch_size  # size of the last, possibly shorter, batch
        w = np.array(w, dtype=X.dtype)  # the kernel updates in place: never touch the caller's array
        rows, targets = self._rows(X, y)
        b, step, w_before, b_before = sgd_epoch(
            rows, targets, w, scalar(b), np.asarray(order, dtype=np.int64), batch_size,
            scalar(lr / batch_size), scalar(lr / last), scalar(0.5), _ahead(rows))
        if step:
            return EpochOutcome(w_before, float(b_before), diverged_at=step)
        return EpochOutcome(w, float(b))

    def loss(self, X, y, w, b) -> float:
        """The full-data mean of ½(Xw + b − y)² (accumulated in float64)."""
        rows, targets = self._rows(X, y)
        return float(mean_half_squared_residual(rows, targets, np.asarray(w, dtype=X.dtype), X.dtype.type(b)))

    def _rows(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (features, targets) arrays the kernels read: X and y, or views of a packed copy."""
        if self._packed is not None and self._packed[0] is X and self._packed[1] is y:
            return self._packed[2], self._packed[3]
        width = 1 << X.shape[1].bit_length()  # the smallest power of two > d
        if width * X.itemsize > _LINE:
            return X, y
        Z = np.empty((len(y), width), dtype=X.dtype)
        pack_rows(X, y, Z)
        self._packed = (X, y, Z, Z[:, X.shape[1]])
        return self._packed[2], self._packed[3]


def _ahead(rows: np.ndarray) -> int:
    row_bytes = (rows.shape[1] + 1) * rows.itemsize  # a row and its target
    return int(min(_MAX_AHEAD, max(1, _PREFETCH_BYTES // row_bytes)))
