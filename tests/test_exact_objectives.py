"""The exact solver's objectives: sample weights, ridge, lasso and elastic net, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.qr import LeastSquares, exact, merge_all
from linsgd.lstsq.summary import optimality_gap, summarize

sklearn = pytest.importorskip("sklearn.linear_model")


def data(seed: int = 0, n: int = 300):
    """Columns on different scales and offsets, one irrelevant column (so the lasso drops something)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)) * [1.0, 10.0, 0.1, 3.0, 1.0] + [1.0, -2.0, 3.0, 40.0, 5.0]
    y = X @ [1.0, -0.2, 3.0, 0.0, 0.5] + 2.0 + rng.standard_normal(n)
    return X, y, rng.integers(0, 4, n).astype(np.float64)


def direct_objective(X, y, w, b, alpha=0.0, l1_ratio=0.0, sample_weight=None):
    """F(w, b) of the module linsgd.lstsq.penalized, evaluated on the rows (long double)."""
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    r = X.astype(np.longdouble) @ np.asarray(w, np.longdouble) + b - y
    data_term = float((sw * r * r).sum() / (2 * sw.sum()))
    return data_term + alpha * (l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * np.dot(w, w))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.01, 0.3, 5.0])
def test_exact_ridge_equals_sklearn_ridge_with_alpha_times_the_weight_sum(alpha, weighted):
    X, y, sw = data(1)
    sw = sw if weighted else None
    s = exact(X, y, alpha=alpha, sample_weight=sw)
    total = sw.sum() if weighted else len(y)  # Ridge minimises Σw r² + a‖w‖²: a = α·Σw (n·α without weights)
    ref = sklearn.Ridge(alpha=alpha * total, solver="svd").fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(s.w, ref.coef_, rtol=0, atol=1e-8)
    assert abs(s.b - ref.intercept_) < 1e-8


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.05, 0.5), (0.3, 0.2), (0.05, 1.0), (0.5, 1.0)])
def test_exact_elastic_net_and_lasso_equal_sklearn(alpha, l1_ratio, weighted):
    X, y, sw = data(2)
    sw = sw if weighted else None
    s = exact(X, y, alpha=alpha, l1_ratio=l1_ratio, sample_weight=sw)
    ref = sklearn.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=1_000_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(s.w, ref.coef_, rtol=0, atol=1e-6)
    assert abs(s.b - ref.intercept_) < 1e-6
    assert np.array_equal(s.w == 0, ref.coef_ == 0)  # the same coefficients are exactly zero
    assert direct_objective(X, y, s.w, s.b, alpha, l1_ratio, sw) <= direct_objective(
        X, y, ref.coef_, ref.intercept_, alpha, l1_ratio, sw) + 1e-14


def test_a_lasso_strong_enough_keeps_only_the_intercept():
    X, y, _ = data(3)
    s = exact(X, y, alpha=1e4, l1_ratio=1.0)
    assert np.all(s.w == 0) and s.b == pytest.approx(y.mean(), rel=1e-14)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_integer_weights_equal_repeated_rows(alpha):
    X, y, sw = data(4)
    rows = np.repeat(np.arange(len(y)), sw.astype(int))
    for l1_ratio in (0.0, 0.7):
        a = exact(X, y, sample_weight=sw, alpha=alpha, l1_ratio=l1_ratio)
        b = exact(X[rows], y[rows], alpha=alpha, l1_ratio=l1_ratio)
        np.testing.assert_allclose(a.w, b.w, rtol=0, atol=1e-9)
        assert abs(a.b - b.b) < 1e-9 and a.rss == pytest.approx(b.rss, rel=1e-9)
        assert a.optimum == pytest.approx(b.optimum, rel=1e-9) and a.n == np.count_nonzero(sw)


def test_weighted_chunks_merged_in_any_grouping_equal_one_pass():
    X, y, sw = data(5, n=1000)
    sw = sw + np.random.default_rng(0).random(len(sw))  # non-integer weights
    one = LeastSquares.empty(5).update(X, y, sw)
    cuts = [0, 13, 200, 201, 640, 1000]
    parts = [LeastSquares.empty(5).update(X[a:b], y[a:b], sw[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    sequential = parts[0]
    for p in parts[1:]:
        sequential = sequential.merge(p)
    for merged in (sequential, merge_all(parts)):
        assert merged.count == one.count and merged.weight == pytest.approx(one.weight, rel=1e-14)
        np.testing.assert_allclose(merged.mean, one.mean, rtol=1e-13)
        np.testing.assert_allclose(np.abs(merged.R), np.abs(one.R), rtol=1e-11, atol=1e-11 * np.abs(one.R).max())
        for alpha in (0.0, 0.1):
            a, b = merged.solution(alpha=alpha, l1_ratio=0.5), one.solution(alpha=alpha, l1_ratio=0.5)
            np.testing.assert_allclose(a.w, b.w, rtol=1e-10)
            assert a.b == pytest.approx(b.b, rel=1e-10)
    streamed = exact(((X[a:b], y[a:b], sw[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)), alpha=0.1)
    np.testing.assert_allclose(streamed.w, one.solution(alpha=0.1).w, rtol=1e-10)


def test_weighted_statistics_equal_statsmodels_wls():
    sm = pytest.importorskip("statsmodels.api")
    X, y, sw = data(6)
    sw = sw + 0.5
    ref = sm.WLS(y, sm.add_constant(X, prepend=False), weights=sw).fit()
    s = summarize(exact(X, y, sample_weight=sw))
    for ours, theirs in [(s.coef, ref.params), (s.se, ref.bse), (s.t, ref.tvalues), (s.r2, ref.rsquared),
                         (s.residual_sd, np.sqrt(ref.scale))]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_a_penalised_summary_says_its_statistics_are_not_available():
    X, y, _ = data(7)
    table = summarize(exact(X, y, alpha=0.1, l1_ratio=0.5))
    doc = table.to_dict()
    assert all(row["se"] is None and row["p"] is None for row in doc["coefficients"].values())
    assert "penalised (alpha=0.1)" in doc["unavailable"] and doc["objective"].startswith("mean ½(ŷ−y)² + 0.1")
    assert "not available" in str(table) and "nan" in str(table)


@pytest.mark.parametrize(("alpha", "l1_ratio", "weighted"), [(0.0, 0.0, True), (0.3, 0.0, False),
                                                              (0.1, 0.5, True), (0.1, 1.0, False)])
def test_the_gap_is_measured_on_the_objective_that_was_optimised(alpha, l1_ratio, weighted):
    X, y, sw = data(8)
    sw = sw if weighted else None
    s = exact(X, y, alpha=alpha, l1_ratio=l1_ratio, sample_weight=sw)
    # the exact answer's own gap is 0, and F(w*, b*) is the objective on the rows
    own = optimality_gap(s, s.w, s.b)
    assert own.relative == 0.0 and own.loss == pytest.approx(direct_objective(X, y, s.w, s.b, alpha, l1_ratio, sw),
                                                              rel=1e-12)
    # any other point: the factor's objective equals the rows', and it is worse (no direction improves on w*)
    rng = np.random.default_rng(1)
    for scale in (1e-6, 1e-3, 1.0):
        w, b = s.w + scale * rng.standard_normal(5), s.b + scale * rng.standard_normal()
        gap = optimality_gap(s, w, b)
        assert gap.loss == pytest.approx(direct_objective(X, y, w, b, alpha, l1_ratio, sw), rel=1e-10)
        assert gap.loss > gap.optimum and gap.relative > 0
    for j in range(5):  # coordinate steps both ways: a wrong gradient term would make one of them negative
        for step in (1e-7, -1e-7):
            w = s.w.copy()
            w[j] += step
            assert optimality_gap(s, w, s.b).loss - s.optimum >= -1e-15 * s.optimum
    assert (own.unavailable is None) == (alpha == 0) and own.objective == s.objective_text


def test_fit_solver_exact_takes_penalty_and_weights_through_exact_fit():
    from linsgd.config import TrainConfig
    from linsgd.data.checks import as_training_arrays
    from linsgd.sgd.fit import exact_fit

    X, y, sw = data(9)
    X, y = as_training_arrays(X, y, "float64")
    r = exact_fit(X, y, TrainConfig(solver="exact", seed=0), alpha=0.1, l1_ratio=0.5, sample_weight=sw)
    s = exact(X, y, alpha=0.1, l1_ratio=0.5, sample_weight=sw)
    assert np.array_equal(r.w, s.w) and r.b == s.b and r.history == [s.optimum]
    assert r.solution.alpha == 0.1 and r.w.dtype == np.float64


def test_bad_penalties_and_weights_are_refused():
    X, y, sw = data(10, n=20)
    with pytest.raises(ConfigError, match="alpha=-1"):
        exact(X, y, alpha=-1)
    with pytest.raises(ConfigError, match="l1_ratio=1.5"):
        exact(X, y, alpha=1, l1_ratio=1.5)
    with pytest.raises(DataError, match=r"sample_weight\[3\] = -1"):
        exact(X, y, sample_weight=np.where(np.arange(20) == 3, -1.0, 1.0))
    with pytest.raises(DataError, match="shape"):
        exact(X, y, sample_weight=np.ones(3))


def test_ridge_solves_designs_least_squares_cannot():
    X, y, _ = data(11, n=4)  # 4 rows, 5 features, and a duplicated column
    X = np.column_stack([X, X[:, 0]])
    with pytest.raises(DataError):
        exact(X, y)
    s = exact(X, y, alpha=0.5)
    ref = sklearn.Ridge(alpha=0.5 * 4, solver="svd").fit(X, y)
    np.testing.assert_allclose(s.w, ref.coef_, atol=1e-8)
    assert s.w[0] == pytest.approx(s.w[5], rel=1e-12)


def test_fit_solver_exact_on_longley_float64_keeps_eleven_certified_digits():
    from support.nist import load

    ds = load("Longley")
    r = linsgd.fit(ds.X, ds.y, solver="exact", seed=0)  # the default training dtype is float32
    got = np.append(r.b, r.w)
    digits = -np.log10(np.abs(got - ds.coef) / np.abs(ds.coef))
    assert digits.min() >= 11, digits
