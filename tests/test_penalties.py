"""Penalties: scikit-learn's ElasticNet objective, one proximal step in closed form, the optimum of Ridge and
ElasticNet reached by averaged SGD."""

from __future__ import annotations

import numpy as np
import pytest
from support.rule_cases import PATHS, run

import linsgd
from linsgd.engines.rule import StepRule


def objective(X, y, w, b, alpha, rho):
    """(1/2n) Σ r² + α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²), scikit-learn's ElasticNet objective."""
    r = X @ w + b - y
    return 0.5 * r @ r / len(y) + alpha * (rho * np.abs(w).sum() + 0.5 * (1 - rho) * w @ w)


@pytest.mark.parametrize("path", PATHS)
def test_one_penalised_step_is_the_soft_threshold_of_the_gradient_step(path):
    X = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]])
    y = np.array([1.0, -2.0])
    w0, b0, lr, l1, l2 = np.array([0.3, -0.2, 0.01]), 0.1, 0.2, 1.2, 0.25
    r = X @ w0 + b0 - y
    u = w0 - lr / 2 * X.T @ r  # the gradient step on the data term
    expect = np.sign(u) * np.maximum(np.abs(u) - lr * l1, 0) / (1 + lr * l2)
    out = run(path, X, y, w0, b0, np.array([0, 1]), StepRule(lr, l1=l1, l2=l2), 2)
    np.testing.assert_allclose(out.w, expect, rtol=1e-12, atol=1e-15)
    assert out.b == pytest.approx(b0 - lr / 2 * r.sum(), rel=1e-12)  # the intercept is not penalised
    assert (expect == 0).any()  # the threshold set a coefficient exactly to zero


def _problem(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    return X, X @ [1.5, -2.0, 0.0, 0.05] + 0.7 + 0.3 * rng.standard_normal(n)


def test_l2_sgd_reaches_ridge_with_alpha_n_times_alpha(engine):
    from sklearn.linear_model import Ridge

    X, y = _problem()
    alpha = 0.1
    ridge = Ridge(alpha=len(y) * alpha).fit(X, y)
    r = linsgd.fit(X, y, lr=0.05, epochs=300, average=1000, penalty="l2", alpha=alpha, seed=0, dtype="float64",
                   engine=engine)
    best = objective(X, y, ridge.coef_, ridge.intercept_, alpha, 0.0)
    assert objective(X, y, r.w, r.b, alpha, 0.0) <= best * (1 + 1e-4)


def test_elastic_net_sgd_reaches_elastic_net(engine):
    from sklearn.linear_model import ElasticNet

    X, y = _problem(1)
    alpha, rho = 0.1, 0.5
    enet = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-12, max_iter=100_000).fit(X, y)
    r = linsgd.fit(X, y, lr=0.05, epochs=300, average=1000, penalty="elasticnet", alpha=alpha, l1_ratio=rho,
                   seed=0, dtype="float64", engine=engine)
    best = objective(X, y, enet.coef_, enet.intercept_, alpha, rho)
    assert objective(X, y, r.w, r.b, alpha, rho) <= best * (1 + 1e-3)
    # the sparse coefficient: each iterate is soft-thresholded to 0 or near it, their average is not exactly 0
    assert enet.coef_[2] == 0 and abs(r.w[2]) < 1e-2


def test_penalty_settings_are_validated_naming_the_parameter():
    X, y = _problem()
    for kw, param in (({"penalty": "l3"}, "penalty"), ({"alpha": -1.0}, "alpha"),
                      ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio")):
        with pytest.raises(linsgd.ConfigError, match=param):
            linsgd.fit(X, y, **kw)
