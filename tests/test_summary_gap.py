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


def test_with_one_residual_degree_of_freedom_p_values_and_intervals_are_statsmodels():
    import statsmodels.api as sm

    from linsgd.lstsq.summary import summarize

    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 2))  # 4 rows, 3 coefficients: df = 1
    y = X @ [1.0, -1.0] + 0.5 + 0.1 * rng.standard_normal(4)
    got = summarize(exact(X, y), confidence=0.9)
    ols = sm.OLS(y, sm.add_constant(X, prepend=False)).fit()
    assert got.df_resid == 1
    np.testing.assert_allclose(got.p, ols.pvalues, rtol=1e-9)
    np.testing.assert_allclose(np.column_stack([got.ci_low, got.ci_high]), ols.conf_int(0.1), rtol=1e-9)
    assert got.adj_r2 == pytest.approx(ols.rsquared_adj, rel=1e-9)
    with pytest.raises(TypeError):  # the level is a keyword: summarize(solution, 0.9) would read as what?
        summarize(exact(X, y), 0.9)


def test_the_gap_defaults_to_an_intercept_of_zero_and_a_penalised_one_has_a_nan_per_coefficient():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    y = X @ [1.0, 0.0, -2.0] + 1.5 + 0.2 * rng.standard_normal(30)
    solution = exact(X, y)
    w = np.array([1.0, 0.1, -2.0])
    assert optimality_gap(solution, w).loss == optimality_gap(solution, w, 0.0).loss
    assert optimality_gap(solution, w).loss == pytest.approx(0.5 * np.mean((X @ w - y) ** 2), rel=1e-12)
    penalised = optimality_gap(exact(X, y, alpha=0.1), w, 1.5)
    assert penalised.se_units.shape == (4,) and np.isnan(penalised.se_units).all()
    assert "penalised" in penalised.unavailable


def test_the_gap_in_words_and_as_json_with_and_without_a_penalty():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 2))
    y = X @ [1.0, -1.0] + 0.2 * rng.standard_normal(30)
    plain = exact(X, y)
    se_w, se_b = plain.standard_errors()
    gap = optimality_gap(plain, plain.w + [2 * se_w[0], -3 * se_w[1]], plain.b + 0.5 * se_b)
    words, values = str(gap), gap.to_dict()
    assert "Mahalanobis" in words and "max 3 standard errors per coefficient" in words
    assert "unavailable" not in values and values["max_se_units"] == pytest.approx(3.0, rel=1e-9)
    np.testing.assert_allclose(values["se_units"], [2.0, -3.0, 0.5], rtol=1e-9)
    penalised = optimality_gap(exact(X, y, alpha=0.1), plain.w, plain.b)
    assert "Mahalanobis" not in str(penalised) and "relative gap" in str(penalised)
    values = penalised.to_dict()
    assert values["unavailable"].startswith("standard errors and the Mahalanobis distance: the fit is penalised")
    assert values["max_se_units"] is None and values["se_units"] == [None, None, None]


def test_a_summary_is_frozen_its_level_in_the_open_interval_and_its_table_aligned():
    import dataclasses

    from linsgd.lstsq.summary import summarize

    rng = np.random.default_rng(5)
    X = rng.standard_normal((25, 2))
    solution = exact(X, X @ [1.0, 2.0] + rng.standard_normal(25))
    for level in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="a number in \\(0, 1\\)"):
            summarize(solution, confidence=level)
    table = summarize(solution, confidence=0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.n = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        optimality_gap(solution, solution.w, solution.b).loss = 0.0
    lines = str(table).splitlines()
    # short names: a first column of 14 characters, then coef right-aligned in 14
    assert lines[0] == " " * 14 + f"{'coef':>14}{'std err':>12}{'t':>10}{'P>|t|':>10}{'90% CI low':>14}{'high':>14}"
    assert [line[:14] for line in lines[1:4]] == [f"{name:<14}" for name in table.names]
    assert table.names[-1] == "intercept" and lines[1][14:28] == f"{table.coef[0]:>14.6g}"
