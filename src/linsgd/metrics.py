"""Regression metrics — MSE, RMSE, MAE, R² — accumulated chunk by chunk, in float64, optionally weighted.

``Metrics().update(y, y_hat)`` over any split of the rows gives the same numbers as over all of them at
once: weighted sums of errors add, and the target's weighted mean and spread merge with Chan's pairwise
formula. With sample weights s_i the metrics are those of the weighted objective a run optimises:
MSE = Σ s_i r_i² / Σ s_i, MAE = Σ s_i |r_i| / Σ s_i, R² = 1 − Σ s_i r_i² / Σ s_i (y_i − ȳ_s)² with ȳ_s the
weighted mean; an integer weight k counts as k copies of the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Metrics:
    """Streaming accumulator of (weighted) squared and absolute errors and of the target's weighted moments.

    Attributes:
        sse, sae: Σ s_i r_i², Σ s_i |r_i|. weight: Σ s_i (the row count without weights). rows: rows added.
        mean, m2: the target's weighted mean and Σ s_i (y_i − mean)².
    """

    sse: float = 0.0
    sae: float = 0.0
    weight: float = 0.0
    rows: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, y: np.ndarray, y_hat: np.ndarray, weight: np.ndarray | None = None) -> Metrics:
        """Add the rows of one chunk: targets y (m,), predictions y_hat (m,), sample weights (m,) ≥ 0 or None
        (1 each). Returns self."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        r = np.asarray(y_hat, dtype=np.float64).reshape(-1) - y
        s = np.ones_like(y) if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
        self.sse += float(s @ (r * r))
        self.sae += float(s @ np.abs(r))
        self.rows += len(y)
        W = float(s.sum())
        if W > 0:  # the chunk's weighted moments, merged (Chan, Golub & LeVeque)
            mean = float(s @ y) / W
            m2 = float(s @ (y - mean) ** 2)
            total = self.weight + W
            delta = mean - self.mean
            self.m2 += m2 + delta * delta * self.weight * W / total
            self.mean += delta * W / total
            self.weight = total
        return self

    @property
    def n(self) -> int:
        return self.rows

    def result(self) -> dict[str, float]:
        """``{"mse", "rmse", "mae", "r2", "n"}``; R² = 1 − SSE/SST (nan when the target is constant).

        Raises:
            ValueError: no rows (or only rows of weight 0) were added.
        """
        if self.n == 0 or self.weight <= 0:
            raise ValueError("no rows to compute metrics on")
        mse = self.sse / self.weight
        r2 = 1.0 - self.sse / self.m2 if self.m2 > 0 else math.nan
        return {"mse": mse, "rmse": math.sqrt(mse), "mae": self.sae / self.weight, "r2": r2, "n": self.n}


def regression_metrics(y: np.ndarray, y_hat: np.ndarray, sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """MSE, RMSE, MAE, R² and n of predictions y_hat for targets y, both (n,), weighted by ``sample_weight``
    (n,) ≥ 0 when given.

    Example:
        >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mse"]
        0.3333333333333333
    """
    return Metrics().update(y, y_hat, sample_weight).result()
