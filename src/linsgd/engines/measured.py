"""The full-data loss of a model measured by the epochs that visit every row after it, without a pass of its own.

The dense kernels that read the rows anyway add each row's loss term of an earlier model (w, b) on the way
(``_row_groups._measure``): the threads in lockstep (:mod:`linsgd.engines._lockstep`) and one thread's epoch over
rows read from memory (``_fused_kernels.sgd_epoch_far_measured``). The loop hands a :class:`MeasuredLoss` to the
epoch after the one whose loss it wants and reads :meth:`MeasuredLoss.result` once that epoch is done.
"""

from __future__ import annotations

import numpy as np


class MeasuredLoss:
    """The full-data loss of (w, b), :meth:`linsgd.engines.fused.FusedEngine.loss`, measured by the epochs that
    visit every row once after it: each row's residual in the data's dtype (w and b rounded to it, as the pass
    does), its square in float64, summed by each thread in its visiting order and the threads' sums added in thread
    order — the same number on every run, and the pass's to the rounding of a residual (float64 data: the pass's
    terms in another order; float32: relative differences of ~3·10⁻⁸ measured on 200,000 rows × 40, and 2·10⁻⁸ on
    10⁶ rows × 100, where the pass's residuals are float64)."""

    def __init__(self, X, w, b, n: int) -> None:
        self.w, self.b = np.array(w, dtype=X.dtype), X.dtype.type(b)
        self.n, self.sums = n, np.zeros(0)

    def args(self, threads: int) -> tuple:
        """The kernel's (loss_w, loss_b, loss_sums): every call's threads add to the same sums."""
        if len(self.sums) != threads:
            self.sums = np.zeros(threads)
        return self.w, self.b, self.sums

    def result(self) -> float:
        """Mean ½ v_i (x_i·w + b − y_i)² once every row has been visited (named as a future's: the loop takes
        either)."""
        return 0.5 * float(sum(self.sums.tolist())) / self.n
