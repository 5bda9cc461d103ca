"""lstsq/losses.py against independent oracles: the Huber loss by its definition (½r² inside ε, ε|r| − ½ε²
outside, continuous at |r| = ε), the defaults of scikit-learn's SGDRegressor and QuantileRegressor, and the
documented ranges of ε and q checked at and beside each bound."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from linsgd.errors import ConfigError
from linsgd.lstsq.losses import EPSILON, QUANTILE, check_loss, loss_values


@pytest.mark.parametrize("eps", [0.3, 2.0])
def test_huber_is_half_the_square_inside_and_linear_with_its_constant_outside(eps):
    r = np.array([-3 * eps, -eps, -0.5 * eps, 0.0, 0.25 * eps, eps, 1.5 * eps, 4 * eps])
    by_hand = [0.5 * x * x if abs(x) <= eps else eps * abs(x) - 0.5 * eps * eps for x in r]
    np.testing.assert_allclose(loss_values(r, "huber", eps), by_hand, rtol=1e-15, atol=0)
    # continuous at |r| = ε from outside: the linear branch meets ½ε² there
    np.testing.assert_allclose(loss_values(np.array([eps * (1 + 1e-12)]), "huber", eps), 0.5 * eps * eps,
                               rtol=1e-9)


def test_the_defaults_are_scikit_learns():
    from sklearn.linear_model import QuantileRegressor, SGDRegressor

    assert EPSILON == inspect.signature(SGDRegressor).parameters["epsilon"].default
    assert QUANTILE == inspect.signature(QuantileRegressor).parameters["quantile"].default
    assert check_loss("huber") == ("huber", EPSILON, QUANTILE)


@pytest.mark.parametrize("q", [1e-9, 0.5, 1 - 1e-9])
def test_a_quantile_strictly_inside_zero_and_one_is_taken(q):
    assert check_loss("quantile", quantile=q)[2] == q


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 1.5])
def test_a_quantile_at_or_beyond_zero_or_one_is_refused_naming_it(q):
    with pytest.raises(ConfigError, match="quantile"):
        check_loss("quantile", quantile=q)


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "squared", "quantile"])
def test_epsilon_zero_is_taken_except_for_huber(loss):
    assert check_loss(loss, epsilon=0.0)[1] == 0.0
    assert check_loss(loss, epsilon=0.5)[1] == 0.5


@pytest.mark.parametrize("eps", [0.0, -0.1, float("inf")])
def test_huber_needs_a_positive_finite_epsilon(eps):
    with pytest.raises(ConfigError, match="epsilon"):
        check_loss("huber", epsilon=eps)
    assert check_loss("huber", epsilon=0.5)[1] == 0.5  # a small one below 1 is taken


def test_the_objectives_settings_are_keywords_only():
    from linsgd.lstsq.losses import objective

    X, y = np.eye(2), np.array([1.0, -1.0])
    assert objective(X, y, np.zeros(2), 0.0, loss="epsilon_insensitive", epsilon=0.5) == pytest.approx(0.5)
    with pytest.raises(TypeError):  # a loss passed by position would be taken for another setting
        objective(X, y, np.zeros(2), 0.0, "epsilon_insensitive")
