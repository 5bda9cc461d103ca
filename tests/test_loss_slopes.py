"""The slopes ψ(r) = ∂L/∂ŷ the fused engine's loss kernel steps with, at and around their kinks, against the
definitions of :mod:`linsgd.engines._loss_kernels` (which the reference engine's autograd also takes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linsgd.engines._loss_kernels import _slope

HUBER, EPSILON, QUANTILE = 1, 2, 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("r", "eps", "expect"), [
    (0.25, 0.25, 1.0), (-0.25, 0.25, -1.0),    # on the band's edge: outside it
    (0.2499, 0.25, 0.0), (-0.1, 0.25, 0.0),   # inside the band
    (3.0, 0.25, 1.0), (-3.0, 0.25, -1.0),
    (0.0, 0.25, 0.0), (-0.0, 0.25, 0.0),
    (0.0, 0.0, 0.0), (1e-30, 0.0, 1.0), (-1e-30, 0.0, -1.0),  # no band: the sign, 0 at r = 0
])
def test_epsilon_insensitive_slope_is_the_sign_outside_the_band(dtype, r, eps, expect):
    one = dtype(1.0)
    got = _slope(dtype(r), EPSILON, dtype(eps), dtype(0.5), one)
    if dtype(r) != 0 or r == 0:  # 1e-30 underflows to 0 in float32
        assert got == expect


def test_a_nan_residual_gives_a_nan_slope_where_the_formula_carries_it():
    # huber and epsilon-insensitive carry nan into w (the divergence guard watches ½Σr² anyway); the quantile's
    # select takes its r < 0 side
    assert math.isnan(_slope(math.nan, HUBER, 0.25, 0.5, 1.0))
    assert math.isnan(_slope(math.nan, EPSILON, 0.25, 0.5, 1.0))
    assert _slope(math.nan, QUANTILE, 0.25, 0.3, 1.0) == -0.3


@pytest.mark.parametrize(("r", "expect"), [(0.0, 0.1), (2.0, 0.1), (-1e-9, -0.9), (-5.0, -0.9)])
def test_quantile_slope(r, expect):
    assert _slope(r, QUANTILE, 0.1, 0.9, 1.0) == pytest.approx(expect, rel=1e-15)


@pytest.mark.parametrize(("r", "expect"), [(0.5, 0.5), (2.0, 1.0), (-2.0, -1.0), (-1.0, -1.0)])
def test_huber_slope_is_the_clipped_residual(r, expect):
    assert _slope(r, HUBER, 1.0, 0.5, 1.0) == expect
