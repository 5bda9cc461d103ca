"""LinearRegressor's seed: an int as is, a numpy RandomState's draw, None drawn and recorded."""

from __future__ import annotations

import numpy as np

import linsgd


def test_random_state_becomes_the_recorded_seed():
    X = np.random.default_rng(0).standard_normal((50, 2))
    y = X @ [1.0, 2.0]
    kw = dict(epochs=1, lr=0.05)
    assert linsgd.LinearRegressor(random_state=5, **kw).fit(X, y).seed_ == 5
    for state in range(6):  # a RandomState's draw in [0, 2³¹ − 1): any 31-bit seed
        expected = np.random.RandomState(state).randint(2**31 - 1)
        assert linsgd.LinearRegressor(random_state=np.random.RandomState(state), **kw).fit(X, y).seed_ == expected
    drawn = linsgd.LinearRegressor(**kw).fit(X, y)
    again = linsgd.LinearRegressor(random_state=drawn.seed_, **kw).fit(X, y)
    assert isinstance(drawn.seed_, int) and np.array_equal(again.coef_, drawn.coef_)


def test_the_estimators_defaults_are_the_configs_and_only_sgd_warns():
    import warnings

    from linsgd.config import TrainConfig

    params, config = linsgd.LinearRegressor().get_params(), TrainConfig()
    for name in ("alpha", "l1_ratio", "power_t", "tol", "max_epochs", "threads", "batch_size", "schedule", "penalty"):
        assert params[name] == getattr(config, name), name
    X = np.random.default_rng(1).standard_normal((200, 2)) * [1.0, 100.0]
    y = X @ [1.0, 0.02] + 3.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        linsgd.LinearRegressor(lr=1e-6, epochs=1, random_state=0).fit(X, y)  # far from the optimum
    assert any(issubclass(w.category, linsgd.ConvergenceWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = linsgd.LinearRegressor(solver="exact").fit(X, y)
    assert exact.n_epochs_ == 0 and exact.seed_ is None


def test_predict_refuses_another_number_of_features():
    import pytest

    X = np.random.default_rng(2).standard_normal((40, 3))
    m = linsgd.LinearRegressor(solver="exact").fit(X, X @ [1.0, 2.0, 3.0])
    np.testing.assert_allclose(m.predict(X[:2]), X[:2] @ m.coef_ + m.intercept_)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])
    assert m.n_features_in_ == 3
