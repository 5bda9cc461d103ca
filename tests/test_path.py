"""linsgd.path: the elastic-net path from one pass equals scikit-learn's enet_path and ElasticNetCV, satisfies
the optimality conditions at every α, and streams (chunks) to the same answer."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.lstsq.cv import fold_bounds

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import ElasticNetCV, Ridge, enet_path  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

TIGHT = dict(tol=1e-14, max_iter=100_000)  # scikit-learn run to its own rounding, so it is an oracle


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def kkt_violation(X, y, w, b, alpha, rho, sw=None):
    """The largest breach of the elastic net's optimality conditions, computed from the rows themselves."""
    sw = np.ones(len(y)) if sw is None else sw
    r = y - X @ w - b
    g = X.T @ (sw * r) / sw.sum() - alpha * (1 - rho) * w  # must be αρ·sign(w) on the support, |g| ≤ αρ off it
    on = w != 0
    breach = np.abs(g[on] - alpha * rho * np.sign(w[on])).max(initial=0.0)
    return max(breach, (np.abs(g[~on]) - alpha * rho).max(initial=0.0), abs(float(sw @ r)) / sw.sum())


@pytest.mark.parametrize("rho", [1.0, 0.5, 0.1])
def test_the_path_equals_enet_path_on_diabetes(diabetes, rho):
    X, y = diabetes
    p = linsgd.path(X, y, l1_ratio=rho)
    alphas, coefs, _ = enet_path(X - X.mean(0), y - y.mean(), l1_ratio=rho, **TIGHT)
    np.testing.assert_allclose(p.alphas, alphas, rtol=1e-12)
    # Both are optimal only to their KKT violation v: with the centred Gram's smallest eigenvalue λ, strong
    # convexity puts each within √d·v/λ of the optimum (scikit-learn's v is ~5e-11 at ρ = 1 on some BLAS
    # builds, so its coefficients are only ~3e-6 from the optimum there)
    Xc = X - X.mean(0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc / len(y))[0]
    ours = max(kkt_violation(X, y, p.coefs[:, k], p.intercepts[k], a, rho) for k, a in enumerate(alphas))
    theirs = max(kkt_violation(X, y, coefs[:, k], y.mean() - X.mean(0) @ coefs[:, k], a, rho)
                 for k, a in enumerate(alphas))
    assert ours < 1e-12 * np.abs(Xc.T @ (y - y.mean())).max() / len(y)
    assert np.abs(p.coefs - coefs).max() <= np.sqrt(X.shape[1]) * (ours + theirs) / lam + 1e-9
    np.testing.assert_allclose(p.intercepts, y.mean() - X.mean(0) @ p.coefs, atol=1e-9)
    assert p.coefs.shape == (10, 100) and np.all(p.coefs[:, 0] == 0)  # α_max: the first α with w = 0
    assert np.count_nonzero(linsgd.path(X, y, alphas=p.alphas[:2] * [1.0, 0.99], l1_ratio=rho).coefs[:, 1])


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_every_point_of_the_path_is_optimal(diabetes, rho):
    X, y = diabetes
    p = linsgd.path(X, y, l1_ratio=rho, n_alphas=30, eps=1e-4)
    scale = np.abs(X.T @ (y - y.mean())).max() / len(y)
    for k, a in enumerate(p.alphas):
        assert kkt_violation(X, y, p.coefs[:, k], p.intercepts[k], a, rho) < 1e-12 * scale, k


def test_a_given_grid_in_any_order_equals_solving_each_alpha_alone(diabetes):
    X, y = diabetes
    alphas = [0.01, 1.0, 0.0, 0.1]
    p = linsgd.path(X, y, alphas=alphas, l1_ratio=0.7)
    for k, a in enumerate(alphas):
        s = linsgd.exact(X, y, alpha=a, l1_ratio=0.7, refine=False)
        np.testing.assert_allclose(p.coefs[:, k], s.w, atol=1e-7 * np.abs(s.w).max())
        assert abs(p.intercepts[k] - s.b) < 1e-7 * abs(s.b)
    np.testing.assert_array_equal(p.alphas, alphas)


def test_the_ridge_path_equals_ridge_with_alpha_times_n(diabetes):
    X, y = diabetes
    p = linsgd.path(X, y, l1_ratio=0.0, n_alphas=5)
    c = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / len(y)
    np.testing.assert_allclose(p.alphas[0], c / 1e-3, rtol=1e-12)  # glmnet's α_max for ridge
    for k, a in enumerate(p.alphas):
        ridge = Ridge(alpha=a * len(y), solver="svd").fit(X, y)
        np.testing.assert_allclose(p.coefs[:, k], ridge.coef_, rtol=1e-8, atol=1e-8)


def test_chunks_stream_to_the_same_path_as_arrays():
    X, y = linsgd.make_regression(3_000, [1.5, 0.0, -2.0, 0.3], 1.0, seed=4)
    sw = np.random.default_rng(0).uniform(0, 3, len(y))
    whole = linsgd.path(X, y, sample_weight=sw, l1_ratio=0.8, n_alphas=20)
    chunks = ((X[i:i + 700], y[i:i + 700], sw[i:i + 700]) for i in range(0, len(y), 700))
    streamed = linsgd.path(chunks, l1_ratio=0.8, n_alphas=20)
    np.testing.assert_allclose(streamed.alphas, whole.alphas, rtol=1e-12)
    np.testing.assert_allclose(streamed.coefs, whole.coefs, atol=1e-10)
    for k in (5, 19):
        assert kkt_violation(X, y, whole.coefs[:, k], whole.intercepts[k], whole.alphas[k], 0.8, sw) < 1e-12


def test_folds_are_kfolds_blocks():
    for n, K in ((10, 3), (11, 5), (100, 10), (7, 7)):
        bounds = fold_bounds(n, K)
        blocks = [np.arange(bounds[k], bounds[k + 1]) for k in range(K)]
        for block, (_, test) in zip(blocks, KFold(K).split(np.zeros(n)), strict=True):
            np.testing.assert_array_equal(block, test)


@pytest.mark.parametrize("rho,fit_intercept", [(0.5, True), (1.0, True), (0.9, False)])
def test_cross_validation_equals_elasticnetcv(diabetes, rho, fit_intercept):
    X, y = diabetes
    p = linsgd.path(X, y, l1_ratio=rho, cv=5, fit_intercept=fit_intercept)
    m = ElasticNetCV(l1_ratio=rho, cv=5, fit_intercept=fit_intercept, **TIGHT).fit(X, y)
    np.testing.assert_allclose(p.alphas, m.alphas_, rtol=1e-12)
    np.testing.assert_allclose(p.mse, m.mse_path_, rtol=1e-8)
    assert p.alpha == pytest.approx(m.alpha_, rel=1e-12) and p.folds == 5
    assert np.abs(p.w - m.coef_).max() < 1e-6 and abs(p.b - m.intercept_) < 1e-6
    assert p.mse.mean(axis=1)[p.best_index] == p.mse.mean(axis=1).min()


def test_weighted_cross_validation_scores_each_fold_on_its_own_rows():
    X, y = linsgd.make_regression(600, [1.0, 0.0, -0.5, 0.0, 2.0], 0.3, seed=2)
    y = y + np.random.default_rng(1).standard_normal(len(y))
    sw = np.random.default_rng(5).uniform(0.2, 2.0, len(y))
    p = linsgd.path(X, y, l1_ratio=1.0, cv=4, sample_weight=sw, n_alphas=40)
    for k, (train, test) in enumerate(KFold(4).split(X)):  # each fold's error, from its rows
        fold = linsgd.path(X[train], y[train], sample_weight=sw[train], alphas=p.alphas)
        resid = y[test, None] - X[test] @ fold.coefs - fold.intercepts
        np.testing.assert_allclose(p.mse[:, k], np.average(resid ** 2, axis=0, weights=sw[test]), rtol=1e-10)
    # scikit-learn's weighted coordinate descent stalls (duality gap ~1e-4): agreement to its accuracy
    m = ElasticNetCV(l1_ratio=1.0, cv=4, alphas=40, tol=1e-8, max_iter=100_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(p.mse, m.mse_path_, rtol=1e-3)
    assert p.alpha == pytest.approx(m.alpha_, rel=1e-8)
    np.testing.assert_allclose(p.w, m.coef_, atol=1e-3)


def test_bad_settings_are_refused_with_their_name(diabetes):
    X, y = diabetes
    with pytest.raises(linsgd.ConfigError, match="cv"):
        linsgd.path(X, y, cv=1)
    with pytest.raises(linsgd.ConfigError, match="cv"):
        linsgd.path(iter([(X, y)]), cv=3)
    with pytest.raises(linsgd.ConfigError, match="alpha"):
        linsgd.path(X, y, alphas=[0.1, -1.0])
    with pytest.raises(linsgd.ConfigError, match="n_alphas"):
        linsgd.path(X, y, n_alphas=0)
    with pytest.raises(linsgd.DataError, match="folds"):
        linsgd.path(X[:3], y[:3], cv=5)
    with pytest.raises(ValueError, match="cv=K"):
        _ = linsgd.path(X, y, n_alphas=3).alpha
