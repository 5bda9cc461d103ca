"""``LinearRegressor.fit(X, y, sample_weight)`` uses the weights: integer weights ≡ the rows repeated, and the
fit minimises the weighted objective (closed-form weighted least squares), not the unweighted one."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd


def _rows(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    # a shift on the rows with x0 > 0.5, which weigh little: the weighted optimum is far from the unweighted one
    y = X @ [1.5, -0.7] + 2.0 + 3.0 * (X[:, 0] > 0.5) + 0.3 * rng.standard_normal(n)
    s = np.where(X[:, 0] > 0.5, rng.integers(0, 2, n), rng.integers(1, 4, n))
    return X, y, s


def _objective(X, y, s, w, b):
    r = X @ w + b - y
    return 0.5 * (s * r) @ r / s.sum()


def _wls(X, y, s):
    A = np.column_stack([X, np.ones(len(y))]) * np.sqrt(s)[:, None]
    theta = np.linalg.lstsq(A, np.sqrt(s) * y, rcond=None)[0]
    return theta[:-1], theta[-1]


def test_exact_estimator_with_integer_weights_equals_repeated_rows_and_wls():
    X, y, s = _rows()
    weighted = linsgd.LinearRegressor(solver="exact").fit(X, y, sample_weight=s)
    repeated = linsgd.LinearRegressor(solver="exact").fit(np.repeat(X, s, axis=0), np.repeat(y, s))
    w, b = _wls(X, y, s)
    np.testing.assert_allclose(weighted.coef_, w, rtol=1e-9)
    assert weighted.intercept_ == pytest.approx(b, rel=1e-9)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-9)


def test_sgd_estimator_minimises_the_weighted_objective():
    X, y, s = _rows(1)
    kw = dict(lr=0.05, epochs=60, average="auto", random_state=0)
    weighted = linsgd.LinearRegressor(**kw).fit(X, y, sample_weight=s)
    repeated = linsgd.LinearRegressor(**kw).fit(np.repeat(X, s, axis=0), np.repeat(y, s))
    unweighted = linsgd.LinearRegressor(**kw).fit(X, y)
    best = _objective(X, y, s, *_wls(X, y, s))
    ols = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    excess = {name: _objective(X, y, s, m.coef_, m.intercept_) - best
              for name, m in (("weighted", weighted), ("repeated", repeated), ("unweighted", unweighted))}
    ols_excess = _objective(X, y, s, ols[:-1], ols[-1]) - best
    # the weighted fit is near the weighted optimum (as near as the repeated rows), far below the
    # unweighted solution's excess, which the unweighted fit shares
    assert excess["weighted"] < 0.02 * ols_excess
    assert excess["repeated"] < 0.02 * ols_excess
    assert excess["unweighted"] > 0.5 * ols_excess
    # and the weights reach the same update rule as linsgd.fit's (the same steps, the same numbers)
    ref = linsgd.fit(X, y, sample_weight=s, lr=0.05, epochs=60, average="auto", seed=0)
    np.testing.assert_allclose(weighted.coef_, ref.w, rtol=1e-6)
