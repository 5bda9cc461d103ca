"""The statistical table's layout against a hand count of its columns (what mutation testing of
lstsq/summary.py found unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.lstsq.qr import exact
from linsgd.lstsq.summary import optimality_gap, summarize

# the columns after the names: coef 14, std err 12, t 10, P>|t| 10, CI low 14, high 14
FIELDS = 14 + 12 + 10 + 10 + 14 + 14


def test_a_long_name_widens_the_first_column_to_the_name_and_two_spaces():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(30)
    name = "a_rather_long_name_1"  # 20 characters: wider than the 14 of the first column's minimum
    table = str(summarize(exact(X, y, feature_names=[name, "b"]))).splitlines()
    head, rows = table[0], table[1:4]  # the header, then x1, x2 and the intercept
    assert [len(line) for line in [head, *rows]] == [len(name) + 2 + FIELDS] * 4
    assert rows[0].startswith(name + "  ") and rows[2].startswith("intercept" + " " * (len(name) + 2 - 9))


def test_short_names_keep_the_first_column_at_fourteen():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(30)
    table = str(summarize(exact(X, y, feature_names=["twelve_chars", "b"]))).splitlines()
    assert [len(line) for line in table[:4]] == [14 + FIELDS] * 4


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_a_penalised_table_lists_scikit_learns_elastic_net_and_its_intercept_only_when_fitted(fit_intercept):
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 3))
    y = X @ [1.5, -2.0, 0.5] + 3.0 + 0.2 * rng.standard_normal(60)
    table = summarize(exact(X, y, alpha=0.1, l1_ratio=0.5, fit_intercept=fit_intercept))
    net = ElasticNet(alpha=0.1, l1_ratio=0.5, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000).fit(X, y)
    expected = np.append(net.coef_, net.intercept_) if fit_intercept else net.coef_
    assert table.names == ["x1", "x2", "x3"] + ["intercept"] * fit_intercept
    np.testing.assert_allclose(table.coef, expected, rtol=1e-7, atol=1e-9)
    assert np.isnan(table.se).all() and len(table.se) == len(expected) and table.unavailable


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_mahalanobis_distance_is_statsmodels_covariance_metric(fit_intercept):
    """√(Δθᵀ Cov⁻¹ Δθ) with statsmodels OLS' Cov = s²(X̃ᵀX̃)⁻¹: the distance is √excess / s, not √excess · s."""
    import statsmodels.api as sm

    rng = np.random.default_rng(6)
    X = rng.standard_normal((50, 2))
    y = X @ [0.7, -1.2] + 2.0 * fit_intercept + 3.0 * rng.standard_normal(50)  # s ≈ 3: · and / differ by s²
    design = sm.add_constant(X) if fit_intercept else X
    ols = sm.OLS(y, design).fit()
    solution = exact(X, y, fit_intercept=fit_intercept)
    w, b = solution.w + [0.4, -0.3], (solution.b + 0.25 if fit_intercept else 0.0)
    delta = np.append(w - solution.w, b - solution.b) if fit_intercept else w - solution.w
    order = [1, 2, 0] if fit_intercept else [0, 1]  # statsmodels puts the constant first
    cov = np.asarray(ols.cov_params())[np.ix_(order, order)]
    expected = float(np.sqrt(delta @ np.linalg.solve(cov, delta)))
    assert ols.scale > 4  # the residual variance is far from 1
    assert optimality_gap(solution, w, b).mahalanobis == pytest.approx(expected, rel=1e-9)
