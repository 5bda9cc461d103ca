"""The optimality gap's edge cases against hand-computed values: a target the model fits exactly (optimum 0),
and the null loss ½·Σs(y − ȳ_s)²/Σs of weights summing below 1."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.lstsq.qr import exact
from linsgd.lstsq.summary import optimality_gap


def test_on_a_constant_target_the_exact_answer_has_no_gap_and_any_other_an_infinite_relative_one():
    X = np.random.default_rng(0).standard_normal((20, 2))
    solution = exact(X, np.full(20, 2.0))
    assert solution.optimum == 0.0 and np.array_equal(solution.w, [0.0, 0.0]) and solution.b == 2.0
    at = optimality_gap(solution, solution.w, solution.b)
    assert (at.loss, at.optimum, at.relative) == (0.0, 0.0, 0.0)
    off = optimality_gap(solution, np.array([0.0, 0.5]), 2.0)
    assert off.relative == float("inf") and off.loss == pytest.approx(0.5 * np.mean((0.5 * X[:, 1]) ** 2), rel=1e-12)


def test_the_null_loss_of_weights_summing_below_one_is_the_weighted_variance_over_two():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 2)), rng.standard_normal(40)
    s = rng.uniform(0.001, 0.02, 40)
    assert s.sum() < 1
    gap = optimality_gap(exact(X, y, sample_weight=s), np.zeros(2), 0.0)
    ybar = s @ y / s.sum()
    assert gap.null == pytest.approx(0.5 * (s @ (y - ybar) ** 2) / s.sum(), rel=1e-10)


@pytest.mark.parametrize("solver", ["exact", "sgd"])
def test_training_on_a_constant_target_is_not_an_internal_error(cli, tmp_path, solver):
    """The standard errors of a perfect fit are 0: the intercept's distance in them is inf or nan, not a crash."""
    data = tmp_path / "const.csv"
    data.write_text("a,b,y\n1,2,3\n2,1,3\n3,5,3\n4,4,3\n5,7,3\n")
    code, out, err = cli("train", data, "--target", "y", "--solver", solver, "--epochs", 3, "--seed", 0,
                         "--out", tmp_path / "r")
    assert code == 0, err
    assert "internal error" not in err
    # exact: the solver's warning; SGD: any loss above an optimum of 0 is an infinite relative gap, said so
    said = "the target has no variance" if solver == "exact" else "not converged: relative optimality gap inf"
    assert said in err, err
    assert (tmp_path / "r" / "model.safetensors").exists()
