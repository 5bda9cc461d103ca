"""Regression metrics — MSE, RMSE, MAE, R² — accumulated chunk by chunk, in float64.

``Metrics().update(y, y_hat)`` over any split of the rows gives the same numbers as over all of them at
once: sums of errors add, and the target's spread merges with :class:`~linsgd.standardize.Moments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from linsgd.standardize import Moments


@dataclass
class Metrics:
    """Streaming accumulator of squared and absolute errors and of the target's moments."""

    sse: float = 0.0
    sae: float = 0.0
    target: Moments = field(default_factory=lambda: Moments.empty(1))

    def update(self, y: np.ndarray, y_hat: np.ndarray) -> Metrics:
        """Add the rows of one chunk: targets y (m,), predictions y_hat (m,). Returns self."""
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        r = np.asarray(y_hat, dtype=np.float64).reshape(-1) - y
        self.sse += float(r @ r)
        self.sae += float(np.abs(r).sum())
        self.target = self.target.update(y.reshape(-1, 1))
        return self

    @property
    def n(self) -> int:
        return self.target.count

    def result(self) -> dict[str, float]:
        """``{"mse", "rmse", "mae", "r2", "n"}``; R² = 1 − SSE/SST (nan when the target is constant).

        Raises:
            ValueError: no rows were added.
        """
        if self.n == 0:
            raise ValueError("no rows to compute metrics on")
        mse = self.sse / self.n
        sst = float(self.target.m2[0])
        r2 = 1.0 - self.sse / sst if sst > 0 else math.nan
        return {"mse": mse, "rmse": math.sqrt(mse), "mae": self.sae / self.n, "r2": r2, "n": self.n}


def regression_metrics(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, MAE, R² and n of predictions y_hat for targets y, both (n,).

    Example:
        >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mse"]
        0.3333333333333333
    """
    return Metrics().update(y, y_hat).result()
