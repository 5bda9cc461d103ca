"""Test data shared by the engine test files: a wide regression problem with random true weights."""

from __future__ import annotations

import numpy as np

from linsgd.data.synthetic import make_regression


def wide_problem(n: int, d: int = 100, seed: int = 0):
    """(X, y) float64: n rows, d features, true w ~ N(0, 1) from ``seed``, bias 0.5, noise 0.1."""
    true_w = np.random.default_rng(seed).normal(0.0, 1.0, d)
    return make_regression(n, true_w, 0.5, noise=0.1, seed=seed, dtype="float64")
