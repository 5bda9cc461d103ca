"""The update rule's branches against closed forms: the soft threshold's three cases (u > τ, |u| ≤ τ,
u < −τ) on every engine path, the schedules' step sizes, and the weighted loss of both loss kernels (NumPy
for small data, numba beyond ``SMALL_ROWS``) against Σ v r² / 2n."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.rule_cases import PATHS, run

from linsgd._small import SMALL_ROWS
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule


@pytest.mark.parametrize("path", PATHS)
def test_a_penalised_step_takes_every_branch_of_the_soft_threshold(path):
    X = np.array([[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]])
    y = np.array([0.0, 0.0])
    w0 = np.array([2.0, -2.0, 0.05, -0.05, 0.0])  # u: above τ, below −τ, inside [−τ, τ] three times (once 0)
    b0, lr, l1, l2 = 0.0, 0.5, 0.4, 0.3
    r = X @ w0 + b0 - y
    u = w0 - lr / 2 * X.T @ r
    tau = lr * l1
    expect = np.where(u > tau, u - tau, np.where(u < -tau, u + tau, 0.0)) / (1 + lr * l2)
    assert (u > tau).any() and (u < -tau).any() and (np.abs(u) <= tau).any()
    out = run(path, X, y, w0, b0, np.array([0, 1]), StepRule(lr, l1=l1, l2=l2), 2)
    np.testing.assert_allclose(out.w, expect, rtol=1e-12, atol=1e-15)
    assert out.w[1] == pytest.approx((-2.0 + lr / 2 * 2.0 + tau) / (1 + lr * l2), rel=1e-12)  # u + τ, not u − τ
    assert out.b == pytest.approx(b0 - lr / 2 * r.sum(), rel=1e-12)


@pytest.mark.parametrize("t", [0, 1, 7, 99, 100, 150])
def test_step_sizes_of_the_schedules_are_the_documented_formulas(t):
    eta0, p, T = 0.3, 0.4, 100
    assert StepRule(eta0).lr_at(t) == eta0
    assert StepRule(eta0, "invscaling", power_t=p).lr_at(t) == pytest.approx(eta0 / (1 + t) ** p, rel=1e-15)
    cosine = StepRule(eta0, "cosine", total_steps=T).lr_at(t)
    assert cosine == pytest.approx(eta0 * 0.5 * (1 + math.cos(math.pi * min(t, T) / T)), rel=1e-15, abs=1e-18)


def test_averaging_counts_the_iterates_from_average_from():
    assert [StepRule(0.1, average_from=3).averaging(t) for t in range(6)] == [0, 0, 0, 1, 2, 3]
    assert [StepRule(0.1, average_from=1).averaging(t) for t in range(3)] == [0, 1, 2]
    assert StepRule(0.1).averaging(10) == 0
    assert StepRule(0.1, l1=0.1).penalized and StepRule(0.1, l2=0.1).penalized and not StepRule(0.1).penalized
    assert [StepRule(0.1, s).schedule_code for s in ("constant", "invscaling", "cosine")] == [0, 1, 2]


@pytest.mark.parametrize("n", [SMALL_ROWS // 2, 2 * SMALL_ROWS + 1])  # the NumPy loss, then numba's
@pytest.mark.parametrize("engine", ["reference", "fused"])
def test_weighted_loss_is_half_the_weighted_mean_of_squared_residuals(engine, n):
    rng = np.random.default_rng(n)
    X, w, b = rng.standard_normal((n, 3)), np.array([0.5, -1.0, 2.0]), 0.25
    y = rng.standard_normal(n)
    v = rng.uniform(0.0, 3.0, n)
    v *= n / v.sum()  # mean 1, as the views hold them
    r = X @ w + b - y
    eng = get_engine(engine)
    assert eng.loss(X, y, w, b, v) == pytest.approx(0.5 * (v * r) @ r / n, rel=1e-12)
    assert eng.loss(X, y, w, b) == pytest.approx(0.5 * r @ r / n, rel=1e-12)
    assert abs(eng.loss(X, y, w, b, v) - eng.loss(X, y, w, b)) > 1e-3  # the weights change it


def test_the_rules_defaults_are_the_configs():
    from linsgd.config import TrainConfig

    rule = StepRule(0.3)
    assert rule.power_t == TrainConfig().power_t == 0.25
    assert StepRule(0.3, "invscaling").lr_at(15) == pytest.approx(0.3 / 16 ** 0.25, rel=1e-15)
    assert rule.total_steps == 1 and StepRule(0.3, "cosine").lr_at(1) == pytest.approx(0.0, abs=1e-17)
    assert (rule.l1, rule.l2, rule.average_from, rule.schedule) == (0.0, 0.0, 0, "constant")
    with pytest.raises(AttributeError):
        rule.lr = 1.0  # frozen: the kernels get the same numbers all epoch


@pytest.mark.parametrize("path", PATHS)
def test_steps_continue_the_schedule_and_the_average_from_t0(path):
    """Two steps of one row each from step t0 = 3 on, invscaling and averaging from step 2, continuing a
    running average (w̄, b̄) of 2 iterates: every number in closed form."""
    X, y = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([0.5, -1.0])
    w0, b0, eta0, p = np.array([0.2, -0.1]), 0.3, 0.1, 0.5
    rule = StepRule(eta0, "invscaling", power_t=p, average_from=2)
    wa0, ba0 = np.array([1.0, 1.0]), -1.0
    w, b, wa, ba = w0.copy(), b0, wa0.copy(), ba0
    for t, i in enumerate([0, 1], start=3):
        eta = eta0 / (1 + t) ** p
        r = X[i] @ w + b - y[i]
        w, b = w - eta * r * X[i], b - eta * r
        m = t + 1 - 2 + 1  # iterates averaged after step t + 1 (1-based), averaging from step 2
        wa, ba = wa + (w - wa) / m, ba + (b - ba) / m
    out = run(path, X, y, w0, b0, np.array([0, 1]), rule, 1, t0=3, avg=(wa0, ba0))
    np.testing.assert_allclose(out.w, w, rtol=1e-12)
    assert out.b == pytest.approx(b, rel=1e-12)
    np.testing.assert_allclose(out.avg[0], wa, rtol=1e-12)
    assert out.avg[1] == pytest.approx(ba, rel=1e-12)
    assert run(path, X, y, w0, b0, np.array([0, 1]), StepRule(eta0), 1).avg is None  # no averaging: none


def test_a_float32_batch_loss_near_the_largest_float_is_not_divergence():
    """½r² = 1.45e38 is finite in float32 (max 3.4e38): the step is taken (the NumPy kernel's check)."""
    from linsgd.engines._numpy_kernels import run_epoch

    X, y = np.ones((1, 1), dtype=np.float32), np.array([-1.7e19], dtype=np.float32)
    out = run_epoch(X, y, np.zeros(1, dtype=np.float32), 0.0, np.array([0]), 1e-30, 1)
    assert not out.diverged_at and np.isfinite(out.w).all()
    boom = run_epoch(X, np.array([-3e19], dtype=np.float32), np.zeros(1, dtype=np.float32), 0.0, np.array([0]),
                     1e-30, 1)
    assert boom.diverged_at == 1  # r² = 9e38 overflows: the first step, parameters from before it
    assert boom.w.tolist() == [0.0]
