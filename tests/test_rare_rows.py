"""The automatic step and a rare category: bounded by the largest row's curvature, so SGD never blows up."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.sgd.lr import auto_lr, curvature, largest_row, stable_lr


def _rare_level(n: int = 3000, seed: int = 0):
    """Two numeric columns and the indicator of a level with 2 rows in n, standardised as lr="auto" does."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal((n, 2)), np.zeros(n)])
    X[[5, 1700], 2] = 1.0
    y = X @ [1.0, -2.0, 3.0] + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


def test_the_bound_is_the_batch_size_over_the_largest_row():
    X, _ = _rare_level()
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    R2 = float(np.max(np.sum(Z**2, axis=1))) + 1.0
    assert largest_row(Z) == pytest.approx(R2)
    assert R2 > 1000  # the indicator of 2 rows in 3,000 is ~39 on its rows
    assert stable_lr(Z, 10) == pytest.approx(10 / R2)
    lam, trace = curvature(Z)
    mean_bound = 1 / (2 * (lam + trace / 10))
    assert mean_bound > 2 * 10 / R2  # the mean curvature's step throws the rare coefficient out at each visit
    assert auto_lr(Z, 10) <= 10 / R2


def test_sgd_with_the_automatic_step_converges_on_a_rare_level():
    X, y = _rare_level()
    r = linsgd.fit(X, y, lr="auto", epochs="auto", average="auto", seed=0, dtype="float64")
    ref = linsgd.exact(X, y)
    assert np.all(np.isfinite(r.w))
    np.testing.assert_allclose(r.w, ref.w, atol=0.05)
