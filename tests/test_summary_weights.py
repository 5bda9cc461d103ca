"""``linsgd summary`` of a model trained with sample weights: weighted least squares by the model's weight
column (statsmodels WLS on the rows of weight > 0), ``--weight none`` for the unweighted summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture
def weighted_run(cli, tmp_path):
    rng = np.random.default_rng(3)
    n = 60
    a, b = rng.normal(size=n), rng.normal(size=n)
    w = rng.integers(0, 4, size=n).astype(float)  # some rows of weight 0
    y = 1.5 * a - 0.5 * b + 2.0 + rng.normal(scale=0.3 + 0.5 * (w == 0), size=n)
    lines = "".join(f"{a[i]:.17g},{b[i]:.17g},{w[i]:g},{y[i]:.17g}\n" for i in range(n))
    (tmp_path / "d.csv").write_text("a,b,w,y\n" + lines)
    code, _, err = cli("train", tmp_path / "d.csv", "--target", "y", "--weight", "w", "--solver", "exact",
                       "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    return tmp_path, np.column_stack([a, b]), y, w


def _summary(cli, *args):
    code, out, err = cli("summary", *args, "--json")
    assert code == 0, err
    return json.loads(out), err


def test_the_summary_is_weighted_least_squares_by_the_models_weight_column(cli, weighted_run):
    folder, X, y, w = weighted_run
    got, _ = _summary(cli, folder / "run" / "model.safetensors", folder / "d.csv")
    keep = w > 0
    wls = sm.WLS(y[keep], sm.add_constant(X[keep]), weights=w[keep]).fit()
    coef = [got["coefficients"][k]["coef"] for k in ("intercept", "a", "b")]
    se = [got["coefficients"][k]["se"] for k in ("intercept", "a", "b")]
    np.testing.assert_allclose(coef, wls.params, rtol=1e-9)
    np.testing.assert_allclose(se, wls.bse, rtol=1e-7)
    assert got["n"] == keep.sum() and got["df_resid"] == keep.sum() - 3
    zero = int((~keep).sum())
    assert got["rows"]["used"] == keep.sum() and got["rows"]["total"] == len(y) and zero > 0
    assert f"left out: {zero} with sample weight 0 in 'w'" in got["rows"]["line"]
    assert got["optimality_gap"]["relative"] == pytest.approx(0.0, abs=1e-12)  # the model is the WLS optimum


def test_weight_none_gives_the_unweighted_summary_and_the_models_gap_against_it(cli, weighted_run):
    folder, X, y, w = weighted_run
    got, _ = _summary(cli, folder / "run" / "model.safetensors", folder / "d.csv", "--weight", "none")
    ols = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose([got["coefficients"][k]["coef"] for k in ("intercept", "a", "b")], ols.params,
                               rtol=1e-9)
    assert got["rows"]["total"] == got["rows"]["used"] == len(y)
    assert got["optimality_gap"]["relative"] > 1e-3  # the weighted optimum is not the unweighted one


def test_data_without_the_weight_column_is_summarised_unweighted_with_a_note(cli, weighted_run):
    folder, X, y, _ = weighted_run
    lines = "".join(f"{X[i, 0]:.17g},{X[i, 1]:.17g},{y[i]:.17g}\n" for i in range(len(y)))
    (folder / "new.csv").write_text("a,b,y\n" + lines)
    got, err = _summary(cli, folder / "run" / "model.safetensors", folder / "new.csv")
    assert "does not have: the summary is unweighted" in err and "'w'" in err, err
    assert got["n"] == len(y) and got["rows"]["weight"] is None
