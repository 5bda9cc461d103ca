"""lr="auto" and solver="exact" through linsgd.fit: any feature scaling, same answer as the exact one."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.lstsq.qr import exact
from linsgd.sgd.lr import auto_lr, stable_lr

SCALES = np.array([1e-3, 1e-1, 1.0, 10.0, 1e3])


def badly_scaled(seed: int, n: int = 2000):
    """Columns with standard deviations 1e-3 … 1e3 (and offsets of 3 SDs), all of them mattering."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)) * SCALES + 3 * SCALES
    y = X @ (2.0 / SCALES) + 1.5 + 0.1 * rng.standard_normal(n)
    return X.astype(np.float32), y.astype(np.float32)


def test_fixed_lr_diverges_or_crawls_on_badly_scaled_features(engine):
    X, y = badly_scaled(0)
    optimum = exact(X, y).loss
    with pytest.raises(linsgd.DivergenceError) as info:
        linsgd.fit(X, y, lr=0.03, epochs=10, engine=engine, seed=0)
    # the stable raw lr the error suggests is tiny: the 1e-3 column barely moves in 10 epochs
    slow = linsgd.fit(X, y, lr=info.value.suggested_lr, epochs=10, engine=engine, seed=0)
    assert min(slow.history) > 100 * optimum


@pytest.mark.parametrize("seed", range(3))
def test_auto_lr_reaches_one_percent_of_the_optimum_within_ten_epochs(engine, seed):
    X, y = badly_scaled(seed)
    solution = exact(X, y)
    r = linsgd.fit(X, y, lr="auto", epochs=10, engine=engine, seed=seed)
    assert min(r.history) <= 1.01 * solution.loss
    # history is the loss of the raw-scale model: recompute it from the returned w, b
    last = 0.5 * np.mean((X.astype(np.float64) @ r.w + r.b - y) ** 2)
    assert r.history[-1] == pytest.approx(last, rel=1e-3)
    gap = linsgd.optimality_gap(solution, r.w, r.b)
    assert gap.relative < 0.02 and gap.mahalanobis < 3.0


def test_auto_lr_is_the_chapters_lr_on_the_chapters_data(chapter_data):
    X, _ = chapter_data
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    assert auto_lr(Z, 10) == pytest.approx(2 * 10 * 0.005 / 3, rel=1e-6)  # the noise bound: 0.0333
    assert auto_lr(Z, 10) < stable_lr(Z, 10)
    r = linsgd.fit(*chapter_data, lr="auto", seed=0)
    assert r.lr == pytest.approx(1 / 30, rel=1e-6) and r.history[-1] < 5.6e-5


def test_auto_lr_does_not_depend_on_the_units_of_the_columns(engine):
    X, y = badly_scaled(4)
    a = linsgd.fit(X, y, lr="auto", epochs=2, engine=engine, seed=3, dtype="float64")
    b = linsgd.fit(X * np.float32(1000.0), y, lr="auto", epochs=2, engine=engine, seed=3, dtype="float64")
    assert a.lr == pytest.approx(b.lr, rel=1e-9)
    np.testing.assert_allclose(a.w, b.w * 1000.0, rtol=1e-6)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-6)


def test_solver_exact_returns_the_least_squares_answer(chapter_data):
    X, y = chapter_data
    r = linsgd.fit(X, y, solver="exact", seed=0)
    A = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    theta = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(r.w, theta[:2], rtol=1e-6)
    assert r.b == pytest.approx(theta[2], rel=1e-12)
    assert r.history == [pytest.approx(0.5 * np.mean((A @ theta - y) ** 2), rel=1e-10)]
    assert r.solution is not None and r.config.solver == "exact"


@pytest.mark.parametrize("bad", [{"lr": "fast"}, {"lr": -1.0}, {"solver": "newton"}])
def test_bad_lr_or_solver_names_the_setting(chapter_data, bad):
    with pytest.raises(linsgd.ConfigError) as info:
        linsgd.fit(*chapter_data, **bad)
    assert info.value.param == next(iter(bad))
