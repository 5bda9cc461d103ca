"""Metrics match their definitions (and scikit-learn), chunked or not."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from linsgd.metrics import Metrics, regression_metrics


def test_metrics_equal_sklearn_and_chunking_does_not_matter():
    rng = np.random.default_rng(0)
    y = rng.normal(3, 2, 1000)
    y_hat = y + rng.normal(0, 0.5, 1000)
    whole = regression_metrics(y, y_hat)
    acc = Metrics()
    for a in range(0, 1000, 137):
        acc.update(y[a:a + 137], y_hat[a:a + 137])
    chunked = acc.result()
    assert whole["n"] == chunked["n"] == 1000
    for k, ref in {"mse": mean_squared_error(y, y_hat), "mae": mean_absolute_error(y, y_hat),
                   "r2": r2_score(y, y_hat), "rmse": np.sqrt(mean_squared_error(y, y_hat))}.items():
        np.testing.assert_allclose([whole[k], chunked[k]], ref, rtol=1e-12)


def test_perfect_and_mean_predictions():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert regression_metrics(y, y)["r2"] == 1.0
    assert abs(regression_metrics(y, np.full(4, y.mean()))["r2"]) < 1e-15
