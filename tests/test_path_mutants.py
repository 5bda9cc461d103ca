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


def test_an_empty_grid_is_refused_and_a_single_alpha_is_scikit_learns_elastic_net():
    from sklearn.linear_model import ElasticNet

    from linsgd.errors import ConfigError

    X, y, state = _state()
    with pytest.raises(ConfigError, match="alphas"):
        solve_path(state, [], 0.5, ["a", "b", "c", "d"])
    path = solve_path(state, [0.3], 0.5, ["a", "b", "c", "d"])
    net = ElasticNet(alpha=0.3, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(path.coefs[:, 0], net.coef_, rtol=1e-8, atol=1e-10)
    assert path.intercepts[0] == pytest.approx(net.intercept_, rel=1e-8)


def test_a_path_on_fewer_rows_than_features_is_scikit_learns():
    """Two rows, four features: the factor has fewer rows than columns and is padded square."""
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(2, 4)), rng.normal(size=2)
    path = solve_path(LeastSquares.empty(4).update(X, y), [0.05], 0.5, ["a", "b", "c", "d"])
    net = ElasticNet(alpha=0.05, l1_ratio=0.5, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(path.coefs[:, 0], net.coef_, rtol=1e-7, atol=1e-9)


def test_alpha_zero_on_a_design_without_a_unique_solution_names_the_column():
    from linsgd.errors import DataError

    rng = np.random.default_rng(9)
    X = rng.normal(size=(30, 2))
    X = np.column_stack([X, X[:, 0]])  # c repeats a
    state = LeastSquares.empty(3).update(X, rng.normal(size=30))
    with pytest.raises(DataError, match="column 'c' is a linear combination"):
        solve_path(state, [0.1, 0.0], 0.5, ["a", "b", "c"])
    assert solve_path(state, [0.1], 0.5, ["a", "b", "c"]).coefs.shape == (3, 1)  # a penalty makes it unique


def test_a_grid_for_a_target_of_small_spread_starts_at_its_own_alpha_max():
    """|Xᵀy|/n well below 1: the grid starts at max|c_j|/ρ, scikit-learn's α_max, not at 1."""
    X, y, _ = _state()
    y = 1e-3 * y
    sk_alphas, _, _ = enet_path(X - X.mean(axis=0), y - y.mean(), l1_ratio=0.5)
    grid = alpha_grid(LeastSquares.empty(4).update(X, y), 0.5)
    assert grid[0] < 0.1
    np.testing.assert_allclose(grid, sk_alphas, rtol=1e-12)


def test_eps_one_gives_a_flat_grid_and_eps_outside_zero_to_one_is_refused():
    from linsgd.errors import ConfigError

    _, _, state = _state()
    grid = alpha_grid(state, 0.5, n_alphas=3, eps=1)
    np.testing.assert_allclose(grid, [grid[0]] * 3, rtol=1e-15)
    for eps in (0, -0.5, 1.5, 2.5, "0.1"):
        with pytest.raises(ConfigError, match="eps"):
            alpha_grid(state, 0.5, eps=eps)


def test_a_path_without_cross_validation_has_no_folds():
    _, _, state = _state()
    assert solve_path(state, [1.0, 0.1], 1.0, ["a", "b", "c", "d"]).folds == 0


def test_a_grid_of_one_alpha_is_alpha_max_and_a_grid_of_none_is_refused():
    from linsgd.errors import ConfigError

    X, y, state = _state()
    sk_alphas, _, _ = enet_path(X - X.mean(axis=0), y - y.mean(), l1_ratio=0.5)
    np.testing.assert_allclose(alpha_grid(state, 0.5, n_alphas=1), sk_alphas[:1], rtol=1e-12)  # α_max alone
    for bad in (0, -1, 2.0):
        with pytest.raises(ConfigError, match="an integer >= 1"):
            alpha_grid(state, 0.5, n_alphas=bad)
