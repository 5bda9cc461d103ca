"""LinearRegressor's seed: an int as is, a numpy RandomState's draw, None drawn and recorded."""

from __future__ import annotations

import numpy as np

import linsgd


def test_random_state_becomes_the_recorded_seed():
    X = np.random.default_rng(0).standard_normal((50, 2))
    y = X @ [1.0, 2.0]
    kw = dict(epochs=1, lr=0.05)
    assert linsgd.LinearRegressor(random_state=5, **kw).fit(X, y).seed_ == 5
    expected = np.random.RandomState(3).randint(2**31 - 1)
    assert linsgd.LinearRegressor(random_state=np.random.RandomState(3), **kw).fit(X, y).seed_ == expected
    drawn = linsgd.LinearRegressor(**kw).fit(X, y)
    again = linsgd.LinearRegressor(random_state=drawn.seed_, **kw).fit(X, y)
    assert isinstance(drawn.seed_, int) and np.array_equal(again.coef_, drawn.coef_)
