"""Sparse X everywhere a matrix goes: ``linsgd.fit`` (SGD, lr="auto", the exact solver), ``LinearRegressor``
(fit, partial_fit, predict) and ``LinearModel.predict``, each against the same call on ``X.toarray()`` or an
independent oracle (numpy's least squares, scikit-learn's Ridge), and the refusals with the setting to change."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import linsgd
from linsgd.data.sparse_input import as_sparse_training
from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.sparse import statistics_bytes
from linsgd.model import LinearModel
from linsgd.sgd import solver


def _problem(n=3000, d=60, density=0.05, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed)
    X.data = rng.standard_normal(X.nnz)
    w = rng.standard_normal(d)
    y = X @ w + 0.7 + noise * rng.standard_normal(n)
    return X, y, w


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


@pytest.mark.parametrize("options", [{}, {"average": 2}, {"penalty": "l2", "alpha": 0.01},
                                     {"schedule": "invscaling", "average": 1}])
def test_fit_on_sparse_equals_fit_on_the_densified_matrix(options):
    X, y, _ = _problem()
    kw = dict(lr=0.1, epochs=3, batch_size=16, seed=4, dtype="float64", **options)
    sparse = _quiet(linsgd.fit, X, y, **kw)
    dense = _quiet(linsgd.fit, X.toarray(), y, **kw)
    np.testing.assert_allclose(sparse.w, dense.w, rtol=1e-9, atol=1e-11)
    assert sparse.b == pytest.approx(dense.b, rel=1e-9)
    np.testing.assert_allclose(sparse.history, dense.history, rtol=1e-9)
    assert sparse.history[-1] < sparse.history[0]  # it learned


def test_fit_accepts_every_sparse_format_and_float32():
    X, y, _ = _problem(n=500, d=20, density=0.2)
    ref = _quiet(linsgd.fit, X, y, lr=0.1, epochs=2, seed=1, dtype="float32")
    for other in (X.tocoo(), X.tocsc(), sp.csr_array(X), X.tolil()):
        got = _quiet(linsgd.fit, other, y, lr=0.1, epochs=2, seed=1, dtype="float32")
        np.testing.assert_array_equal(got.w, ref.w)
    dense = _quiet(linsgd.fit, X.toarray(), y, lr=0.1, epochs=2, seed=1, dtype="float32")
    assert ref.w.dtype == np.float32
    np.testing.assert_allclose(ref.w, dense.w, rtol=1e-4, atol=1e-5)


def test_lr_auto_on_sparse_reaches_the_least_squares_optimum():
    X, y, _ = _problem(n=6000, d=40, density=0.1, seed=2)
    r = _quiet(linsgd.fit, X, y, lr="auto", epochs="auto", average="auto", seed=0, solver="sgd")
    best = np.linalg.lstsq(np.column_stack([X.toarray(), np.ones(X.shape[0])]), y, rcond=None)[0]
    assert r.config.lr == "auto" and 0 < r.lr < 10
    # within half a standard error of the coefficients (noise 0.1, ~600 non-zeros of N(0, 1) per column)
    assert np.abs(r.w - best[:-1]).max() < 0.5 * 0.1 / np.sqrt(600)
    assert r.b == pytest.approx(best[-1], abs=1e-3)


def test_exact_on_sparse_is_the_least_squares_solution():
    X, y, _ = _problem(seed=3)
    r = linsgd.fit(X, y, solver="exact")
    A = np.column_stack([X.toarray(), np.ones(X.shape[0])])
    best = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(r.w, best[:-1], rtol=1e-9, atol=1e-10)
    assert r.b == pytest.approx(best[-1], rel=1e-9)
    dense = linsgd.exact(X.toarray(), y)
    assert r.solution.rss == pytest.approx(dense.rss, rel=1e-8)
    np.testing.assert_allclose(r.solution.standard_errors()[0], dense.standard_errors()[0], rtol=1e-7)


@pytest.mark.parametrize("defect", ["empty", "duplicate"])
def test_exact_on_a_sparse_design_without_a_unique_solution_names_the_column_as_the_dense_solver(defect):
    X, y, _ = _problem(n=400, d=6, density=0.5, seed=11)
    X = X.tolil()
    X[:, 2] = 0.0 if defect == "empty" else X[:, 4].toarray()
    X = X.tocsr()
    with pytest.raises(DataError) as dense:
        linsgd.exact(X.toarray(), y)
    with pytest.raises(DataError) as sparse:
        linsgd.fit(X, y, solver="exact")
    assert "x3" in str(dense.value) and str(sparse.value) == str(dense.value)


def test_exact_on_sparse_with_weights_and_ridge_matches_scikit_learn():
    from sklearn.linear_model import Ridge

    X, y, _ = _problem(n=800, d=30, density=0.1, seed=5)
    v = np.random.default_rng(0).uniform(0.0, 2.0, X.shape[0])
    v[:50] = 0.0  # rows of weight 0 are left out
    alpha = 0.05
    r = linsgd.fit(X, y, solver="exact", penalty="l2", alpha=alpha, sample_weight=v)
    ridge = Ridge(alpha=alpha * v.sum()).fit(X.toarray(), y, sample_weight=v)
    np.testing.assert_allclose(r.w, ridge.coef_, rtol=1e-7, atol=1e-9)
    assert r.b == pytest.approx(ridge.intercept_, rel=1e-7)


def test_exact_refuses_a_width_over_the_memory_budget_naming_the_limit(monkeypatch):
    X, y, _ = _problem(n=200, d=60)
    budget = statistics_bytes(40)
    monkeypatch.setattr("linsgd.sgd.exact_fit.default_max_memory", lambda: budget)
    with pytest.raises(ConfigError, match=r"at most 40 features for sparse X .*60 features need.*solver='sgd'"):
        linsgd.fit(X, y, solver="exact")


def test_the_sparse_bound_is_the_one_auto_applies():
    for d in (1, 100, 2**20):
        assert statistics_bytes(d) == solver.statistics_bytes(d)


@pytest.mark.parametrize(("options", "param"), [({"engine": "reference"}, "engine"),
                                                ({"threads": 2, "schedule": "adagrad"}, "threads"),
                                                ({"penalty": "l1"}, "penalty"),
                                                ({"penalty": "elasticnet"}, "penalty")])
def test_what_the_sparse_engine_does_not_do_is_refused_naming_the_setting(options, param):
    X, y, _ = _problem(n=100, d=5, density=0.5)
    with pytest.raises(ConfigError, match=f"^{param}=.*sparse X") as e:
        linsgd.fit(X, y, lr=0.1, **options)
    assert e.value.param == param


def test_a_non_finite_stored_value_is_named_by_row_and_column():
    X, y, _ = _problem(n=100, d=5, density=0.5)
    X = X.tolil()
    X[37, 3] = np.inf
    with pytest.raises(DataError, match=r"X\[37, 3\] = inf is not finite"):
        linsgd.fit(X.tocsr(), y, lr=0.1)
    y_bad = y.copy()
    y_bad[4] = np.nan
    with pytest.raises(DataError, match=r"y\[4\] = nan is not finite"):
        linsgd.fit(_problem(n=100, d=5, density=0.5)[0], y_bad, lr=0.1)


def test_estimator_on_sparse_equals_the_estimator_on_dense():
    X, y, _ = _problem(n=1500, d=30, density=0.1, seed=7)
    kw = dict(lr=0.05, epochs=4, solver="sgd", average=False, random_state=3)
    s = _quiet(linsgd.LinearRegressor(**kw).fit, X, y)
    d = _quiet(linsgd.LinearRegressor(**kw).fit, X.toarray(), y)
    np.testing.assert_allclose(s.coef_, d.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(s.predict(X), d.predict(X.toarray()), rtol=1e-9, atol=1e-10)
    assert s.predict(X).shape == (X.shape[0],)


def test_partial_fit_on_sparse_continues_like_fit():
    X, y, _ = _problem(n=1500, d=30, density=0.1, seed=8)
    kw = dict(lr=0.05, solver="sgd", average=False, random_state=2)
    m = linsgd.LinearRegressor(**kw)
    for _ in range(3):
        _quiet(m.partial_fit, X, y)
    whole = _quiet(linsgd.LinearRegressor(epochs=3, **kw).fit, X, y)
    np.testing.assert_allclose(m.coef_, whole.coef_, rtol=1e-9, atol=1e-11)


def test_exact_estimator_adds_sparse_rows_and_equals_one_fit():
    X, y, _ = _problem(n=1200, d=20, density=0.2, seed=9)
    m = linsgd.LinearRegressor(solver="exact").fit(X[:500], y[:500])
    m.partial_fit(X[500:], y[500:])
    best = np.linalg.lstsq(np.column_stack([X.toarray(), np.ones(X.shape[0])]), y, rcond=None)[0]
    np.testing.assert_allclose(m.coef_, best[:-1], rtol=1e-8, atol=1e-10)
    assert m.intercept_ == pytest.approx(best[-1], rel=1e-8)


def test_a_model_predicts_sparse_rows_as_their_dense_twins():
    X, _, w = _problem(n=50, d=8, density=0.3)
    model = LinearModel(w, 0.5, [f"x{j}" for j in range(8)])
    np.testing.assert_allclose(model.predict(X), X.toarray() @ w + 0.5, rtol=1e-14)
    np.testing.assert_allclose(model.predict(X.tocoo()), X.toarray() @ w + 0.5, rtol=1e-14)


def test_the_curvature_of_sparse_rows_is_the_dense_one():
    from linsgd.sgd.lr import auto_lr, curvature, largest_row, stable_lr

    X, _, _ = _problem(n=3000, d=40, density=0.1, seed=12)
    X = X * 3.0  # not unit scale
    lam_s, tr_s = curvature(X.tocsr())
    lam_d, tr_d = curvature(X.toarray())
    assert lam_s == pytest.approx(lam_d, rel=1e-9) and tr_s == pytest.approx(tr_d, rel=1e-12)
    assert largest_row(X.tocsr()) == pytest.approx(largest_row(X.toarray()), rel=1e-12)
    assert stable_lr(X.tocsr(), 10) == pytest.approx(stable_lr(X.toarray(), 10), rel=1e-9)
    assert auto_lr(X.tocsr(), 10) == pytest.approx(auto_lr(X.toarray(), 10), rel=1e-9)


def test_lr_auto_with_weights_takes_the_step_of_the_weighted_curvature():
    from linsgd.config import TrainConfig
    from linsgd.sgd.lr import auto_lr, stable_lr
    from linsgd.sgd.sparse_fit import sparse_auto

    X, y, _ = _problem(n=2000, d=20, density=0.2, seed=13)
    v = np.random.default_rng(3).uniform(0.0, 4.0, X.shape[0])
    scaled = X.toarray() * np.sqrt(v / v.mean())[:, None]
    for average, rule in ((False, auto_lr), (2, stable_lr)):
        config = TrainConfig(lr="auto", average=average, batch_size=8, seed=0)
        lr, (w0, b0) = sparse_auto(X, y, config, v, None)
        assert lr == pytest.approx(rule(scaled, 8), rel=1e-9)
        assert b0 == pytest.approx(np.average(y, weights=v), rel=1e-12) and w0.shape == (20,)


def test_finite_values_whose_sum_overflows_are_accepted_and_a_nan_among_them_is_named():
    X = sp.csr_matrix(np.array([[1e308, 0.0], [0.0, 1e308]]))
    checked, _ = as_sparse_training(X, np.zeros(2), "float64")
    assert np.array_equal(checked.toarray(), X.toarray())
    X.data[1] = np.nan
    with pytest.raises(DataError, match=r"X\[1, 1\] = nan is not finite"):
        as_sparse_training(X, np.zeros(2), "float64")
