"""The path's default grid and its result type against scikit-learn (what mutation testing of lstsq/path.py
found unpinned)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from linsgd.lstsq.path import alpha_grid, solve_path
from linsgd.lstsq.qr import LeastSquares

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import enet_path  # noqa: E402


def _state():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 4))
    y = X @ [1.0, 0.0, -2.0, 0.5] + 1.0 + rng.normal(size=80)
    return X, y, LeastSquares.empty(4).update(X, y)


def test_the_default_grid_is_scikit_learns_hundred_alphas():
    X, y, state = _state()
    sk_alphas, _, _ = enet_path(X - X.mean(axis=0), y - y.mean(), l1_ratio=0.5)  # n_alphas=100, eps=1e-3
    grid = alpha_grid(state, 0.5)
    assert len(grid) == 100
    np.testing.assert_allclose(grid, sk_alphas, rtol=1e-12)


def test_a_path_is_frozen():
    X, y, state = _state()
    path = solve_path(state, [1.0, 0.1], 1.0, ["a", "b", "c", "d"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.l1_ratio = 0.5
