"""Step size schedules: η_t in closed form, applied per step by every engine path, and the CLI flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.rule_cases import PATHS, run

import linsgd
from linsgd._small import SMALL_STEPS
from linsgd.engines.rule import StepRule


def test_schedules_in_closed_form():
    assert StepRule(0.1).lr_at(10**6) == 0.1
    assert StepRule(0.1, schedule="invscaling", power_t=0.25).lr_at(15) == pytest.approx(0.1 / 16**0.25)
    cos = StepRule(0.1, schedule="cosine", total_steps=100)
    assert (cos.lr_at(0), cos.lr_at(50), cos.lr_at(100)) == pytest.approx((0.1, 0.05, 0.0))


@pytest.mark.parametrize("schedule", ["invscaling", "cosine"])
@pytest.mark.parametrize("path", PATHS)
def test_each_step_uses_the_step_size_of_its_global_step_number(path, schedule):
    """Two steps starting at global step t0: η_t0 then η_t0+1 (the count survives segments and resume).

    T > SMALL_STEPS for every path (the numba path needs a long run), t0 halfway through it."""
    X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]])
    y = np.array([1.0, -2.0, 3.0, 0.5])
    rule = StepRule(0.2, schedule=schedule, power_t=0.5, total_steps=SMALL_STEPS + 1)
    t0 = SMALL_STEPS // 2
    w, b = np.array([0.1, -0.2]), 0.3
    for t, rows in ((t0, [0, 1]), (t0 + 1, [2, 3])):
        r = X[rows] @ w + b - y[rows]
        eta = rule.lr_at(t)
        w, b = w - eta / 2 * X[rows].T @ r, b - eta / 2 * r.sum()
    out = run(path, X, y, np.array([0.1, -0.2]), 0.3, np.arange(4), rule, 2, t0=t0)
    np.testing.assert_allclose(out.w, w, rtol=1e-12)
    assert out.b == pytest.approx(b, rel=1e-12)
    assert math.isfinite(out.b)


def test_a_decaying_schedule_ends_nearer_the_optimum_than_a_constant_step(chapter_data):
    X, y = chapter_data
    kw = dict(lr=0.3, epochs=5, seed=0, dtype="float64")
    from linsgd.sgd.convergence import relative_gap

    const, cosine = (linsgd.fit(X, y, schedule=s, **kw) for s in ("constant", "cosine"))
    assert relative_gap(X, y, cosine.w, cosine.b) < relative_gap(X, y, const.w, const.b) / 3


@pytest.mark.parametrize("flag,value,allowed", [("--schedule", "linear", "constant, invscaling, cosine"),
                                                ("--power-t", "0", "> 0"), ("--average", "0", "k >= 1"),
                                                ("--penalty", "l3", "none, l2, l1 or elasticnet"),
                                                ("--l1-ratio", "2", "[0, 1]"), ("--alpha", "-1", ">= 0"),
                                                ("--epochs", "-1", "'auto'"), ("--max-epochs", "0", ">= 1")])
def test_bad_cli_values_are_exit_2_naming_the_flag_and_the_range(cli, tmp_path, flag, value, allowed):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n2,3\n3,5\n")
    code, _, err = cli("train", data, "--target", "y", "--out", tmp_path / "r", f"{flag}={value}")
    assert code == 2 and f"{flag}={value}" in err and allowed in err, err
