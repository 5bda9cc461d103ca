"""The full-data squared loss of any (w, b) from the statistics of the centred [X y]: O(d²), no pass.

With the means μ = (μ_x, μ_y) of the rows a_i = [x_i y_i] and the factor R of their centred Gram matrix
(RᵀR = Σ (a_i − μ)(a_i − μ)ᵀ, :mod:`linsgd.lstsq.gram`), the residual of row i is
(a_i − μ)·v + e with v = [w; −1] and e = μ_x·w + b − μ_y; the centred rows sum to 0, so the cross terms
vanish and::

    ½ mean (x_i·w + b − y_i)² = (‖R v‖² + n e²) / (2n)

The SGD loop asks for this loss after every epoch: one pass over the rows to gather the statistics, then
each epoch's loss costs d² operations instead of a pass — where the run has enough epochs to repay the
pass (:func:`pays_off`), or from sums gathered in passing: with one or two features the fused engine sums them
while it packs the rows (:func:`from_moments`), so a run on such data in memory, one epoch too, has them
without a pass (unweighted, from MIN_ROWS rows on).
‖R v‖² is a sum of squares, never negative; it equals the float64 data pass to float rounding
(``tests/test_loss_statistics.py``; a float32 data pass rounds each residual to float32 first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linsgd.lstsq.gram import centred_gram

# Fewer rows than this: the pass that gathers the statistics costs more than the few data passes it saves.
MIN_ROWS = 1 << 16
# The pass that gathers the statistics (BLAS-3, d² per row) against one float32 loss pass (d per row),
# measured on the 2-core machine under load: 2.8× at d = 2 (10⁷ rows), 6.5× at d = 16, 15× at d = 100 (10⁶
# rows), about BASE + d · PER_FEATURE. A run gathers them when its epochs outnumber that.
PAYOFF_BASE, PAYOFF_PER_FEATURE = 3.0, 0.125


def pays_off(epochs: int, d: int) -> bool:
    """Whether a run of ``epochs`` epochs (all of them, resumed or not: the same answer for both) on d
    features spends less on one statistics pass than on a loss pass per epoch."""
    return epochs >= PAYOFF_BASE + PAYOFF_PER_FEATURE * d


@dataclass(frozen=True)
class LossStatistics:
    """The count n, the means (d+1,) of [X y] and R (d+1, d+1) with RᵀR their centred Gram matrix."""

    n: int
    mean: np.ndarray
    R: np.ndarray

    def loss(self, w, b) -> float:
        """½ mean (x_i·w + b − y_i)² over the rows the statistics were gathered from."""
        w = np.asarray(w, dtype=np.float64)
        v = np.append(w, -1.0)
        e = float(self.mean[:-1] @ w) + float(b) - float(self.mean[-1])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged w: inf or nan, as a data pass gives
            r = self.R @ v
            return float((r @ r + self.n * e * e) / (2 * self.n))


def from_moments(moments: tuple[int, np.ndarray, np.ndarray], d: int, *, min_rows: int = MIN_ROWS
                 ) -> LossStatistics | None:
    """The statistics of n rows of d <= 2 features from sums gathered in passing (the fused engine's packing,
    ``linsgd.engines.fused``): ``moments`` = (n, s, S) with s (3,) a shift near the means of [x₀ x₁ y] and S
    (3, 4) the float64 sums of a = [x₀ x₁ y] − s, Σ a_j a_k in S[j, k] (k ≤ j) and Σ a_j in S[j, 3] (d = 1:
    row and column 1 unused). The centred Gram matrix is then Σ (a − ā)(a − ā)ᵀ = Σ aaᵀ − n ā āᵀ, as in
    :func:`linsgd.lstsq.gram.centred_gram` (s ≈ μ: nothing cancels). None as :func:`loss_statistics`."""
    n, shift, sums = moments
    if n < min_rows:
        return None
    keep = [0, 1, 2] if d == 2 else [0, 2]
    lower = np.tril(sums[:, :3])[np.ix_(keep, keep)]
    mean_shifted = sums[keep, 3] / n
    G = lower + np.tril(lower, -1).T - n * np.outer(mean_shifted, mean_shifted)
    if not np.isfinite(G).all():
        return None
    try:
        R = np.linalg.cholesky(G).T
    except np.linalg.LinAlgError:
        return None
    return LossStatistics(n, shift[keep] + mean_shifted, R)


def loss_statistics(X: np.ndarray, y: np.ndarray, weight=None, *, min_rows: int = MIN_ROWS
                    ) -> LossStatistics | None:
    """The statistics of X (n, d), y (n,) for :meth:`LossStatistics.loss`, or None: fewer than ``min_rows``
    rows, sample weights (the loss is then weighted: a data pass), a value that is not finite, or a Gram
    matrix that is not positive definite (y exactly linear in X, a constant column)."""
    if weight is not None or len(X) < min_rows:
        return None
    found = centred_gram(X, y, bounds=False)
    if found is None:
        return None
    n, mean, G, _, _ = found
    try:
        R = np.linalg.cholesky(G).T
    except np.linalg.LinAlgError:
        return None
    return LossStatistics(n, mean, R)
