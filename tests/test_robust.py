"""The trusted optimum of the huber, quantile and epsilon-insensitive losses: scikit-learn's HuberRegressor
and QuantileRegressor on the same objective (within 1e-3), the optimality of the answer checked from the rows,
and the losses themselves against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.errors import ConfigError
from linsgd.lstsq.losses import check_loss, loss_values, objective
from linsgd.lstsq.robust import trusted_optimum
from linsgd.lstsq.rows import array_chunks

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import HuberRegressor, QuantileRegressor  # noqa: E402


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def heavy():
    """5,000 x 20 rows with Student-t (2 degrees of freedom) noise: outliers of every size."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5_000, 20))
    y = X @ rng.uniform(-2, 2, 20) + 1.0 + rng.standard_t(2, 5_000)
    return X, y


def solve(X, y, sw=None, rows=10**9, **objective):
    return trusted_optimum(lambda: array_chunks(X, y, sw, rows), X.shape[1], **objective)


def test_the_losses_are_scikit_learns_definitions():
    r = np.array([-3.0, -0.05, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(loss_values(r, "squared"), [4.5, 0.00125, 0, 0.125, 2.0])
    np.testing.assert_allclose(loss_values(r, "huber", 1.0), [2.5, 0.00125, 0, 0.125, 1.5])
    np.testing.assert_allclose(loss_values(r, "epsilon_insensitive", 0.1), [2.9, 0, 0, 0.4, 1.9])
    np.testing.assert_allclose(loss_values(r, "quantile", quantile=0.8), [0.6, 0.01, 0, 0.4, 1.6])
    for bad in (dict(loss="hinge"), dict(loss="huber", epsilon=0.0), dict(loss="quantile", quantile=1.0),
                dict(loss="epsilon_insensitive", epsilon=-1.0)):
        with pytest.raises(ConfigError, match=next(k for k in ("quantile", "epsilon", "loss") if k in bad
                                                   and (k != "loss" or len(bad) == 1))):
            check_loss(**bad)


@pytest.mark.parametrize("alpha", [0.0, 1e-3, 1.0])
def test_huber_equals_huberregressor_at_its_scale(diabetes, alpha):
    X, y = diabetes
    n, e = len(y), 1.35
    h = HuberRegressor(epsilon=e, alpha=alpha, max_iter=10_000, tol=1e-12).fit(X, y)
    mapped = dict(loss="huber", epsilon=e * h.scale_, alpha=alpha * h.scale_ / n, l1_ratio=0.0)
    ours = solve(X, y, quantile=0.5, **mapped)
    theirs = objective(X, y, h.coef_, h.intercept_, **mapped)
    assert ours.converged and abs(ours.optimum - theirs) <= 1e-3 * theirs
    assert ours.optimum <= theirs * (1 + 1e-12)  # the trusted side is the lower one
    assert ours.optimum == pytest.approx(objective(X, y, ours.w, ours.b, **mapped), rel=1e-14)


def test_huber_is_stationary_and_streams_to_the_same_answer(heavy):
    X, y = heavy
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    kw = dict(loss="huber", epsilon=1.0, quantile=0.5, alpha=0.01, l1_ratio=0.5)
    whole = solve(X, y, sw, **kw)
    streamed = solve(X, y, sw, rows=700, **kw)
    np.testing.assert_allclose(streamed.w, whole.w, atol=1e-9)
    r = y - X @ whole.w - whole.b
    psi = np.clip(r, -1.0, 1.0) * sw / sw.sum()  # minus the data term's derivative in ŷ
    g = X.T @ psi - 0.01 * 0.5 * whole.w  # must be αρ·sign(w) on the support, within ±αρ off it
    on = whole.w != 0
    assert abs(psi.sum()) < 1e-7 and np.abs(g[on] - 0.005 * np.sign(whole.w[on])).max() < 1e-7
    assert np.all(np.abs(g[~on]) <= 0.005 + 1e-7)


@pytest.mark.parametrize("q,alpha", [(0.5, 0.0), (0.8, 0.01), (0.1, 0.1)])
def test_quantile_equals_quantileregressor(diabetes, heavy, q, alpha):
    for X, y in (diabetes, heavy):
        sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
        m = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y, sample_weight=sw)
        kw = dict(loss="quantile", epsilon=0.0, quantile=q, alpha=alpha, l1_ratio=1.0)
        ours = solve(X, y, sw, **kw)
        theirs = objective(X, y, m.coef_, m.intercept_, sample_weight=sw, **kw)
        assert abs(ours.optimum - theirs) <= 1e-3 * theirs and ours.optimum <= theirs * (1 + 1e-9)
        assert np.mean(y - X @ ours.w - ours.b < 0) == pytest.approx(q, abs=0.02) or alpha > 0


def test_epsilon_insensitive_is_a_global_minimum(diabetes):
    X, y = diabetes
    kw = dict(loss="epsilon_insensitive", epsilon=5.0, quantile=0.5, alpha=0.05, l1_ratio=1.0)
    ours = solve(X, y, **kw)
    rng = np.random.default_rng(2)
    for _ in range(200):  # a convex function: no direction goes down from its minimum
        dw, db = rng.standard_normal(10), rng.standard_normal()
        for t in (1e-3, 1e-1, 10.0):
            assert objective(X, y, ours.w + t * dw, ours.b + t * db, **kw) >= ours.optimum - 1e-9
    # with ε = 0 the loss is |r| = 2·pinball(0.5): the same minimiser as the median regression
    lad = solve(X, y, loss="epsilon_insensitive", epsilon=0.0, quantile=0.5)
    median = solve(X, y, loss="quantile", epsilon=0.0, quantile=0.5)
    assert lad.optimum == pytest.approx(2 * median.optimum, rel=1e-9)


def test_a_linear_program_refuses_a_ridge_part(diabetes):
    X, y = diabetes
    with pytest.raises(ConfigError, match="penalty"):
        solve(X, y, loss="quantile", epsilon=0.0, quantile=0.5, alpha=0.1, l1_ratio=0.5)
