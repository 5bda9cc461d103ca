"""The convergence verdict's documented thresholds, just above and just below each, and its words.

docs/reference.md and linsgd.sgd.convergence document: not converged when the excess loss exceeds 5 % of
max(L*, 1e-5 · ½Var(y)), or (LinearRegressor, linsgd train) when a coefficient is more than 1 standard error
from the exact one — not on a perfect fit (L* ≤ 1e-5 · ½Var(y)). The numbers are written here, not imported:
a change of a constant must change what these tests see.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pytest

import linsgd
from linsgd.config import CHAPTER, TrainConfig
from linsgd.errors import DivergenceError
from linsgd.sgd.convergence import Distance, diagnose, distance
from linsgd.sgd.result import FitResult


def _result(n_epochs: int = 5, **settings) -> FitResult:
    config = TrainConfig(**{"solver": "sgd", "seed": 0, **settings})
    return FitResult(w=np.zeros(2), b=0.0, history=[1.0] * n_epochs, seed=0, config=config)


@pytest.mark.parametrize("relative,far", [(0.0499, False), (0.0501, True)])
def test_the_gap_rule_fires_above_five_percent_of_the_optimum(relative, far):
    found = Distance(loss=2.0 * (1 + relative), optimum=2.0, null=10.0)
    assert (diagnose(_result(), found) is not None) == far


@pytest.mark.parametrize("excess,far", [(0.0499e-5, False), (0.0501e-5, True)])
def test_on_a_perfect_fit_the_gap_is_measured_against_a_hundred_thousandth_of_the_variance(excess, far):
    # L* = 1e-20 (rounding): the floor is 1e-5 · L₀ = 1e-5, so the threshold is an excess of 5e-7
    found = Distance(loss=1e-20 + excess, optimum=1e-20, null=1.0, max_se=1e9)
    assert (diagnose(_result(), found, se_rule=True) is not None) == far


@pytest.mark.parametrize("se,far", [(0.99, False), (1.01, True)])
def test_the_standard_error_rule_fires_above_one_standard_error(se, far):
    found = Distance(loss=1.0001, optimum=1.0, null=10.0, max_se=se, worst="age")
    why = diagnose(_result(), found, se_rule=True)
    assert (why is not None) == far
    if far:
        assert f"a coefficient (age) is {se:.3g} standard errors from the exact least-squares one" in why
    assert diagnose(_result(), found, se_rule=False) is None  # linsgd.fit (the chapter's) has no SE rule


@pytest.mark.parametrize("optimum,far", [(0.99e-5, False), (1.01e-5, True)])
def test_the_standard_error_rule_skips_a_perfect_fit(optimum, far):
    # L₀ = 1: a fit is perfect when L* <= 1e-5; its standard errors then measure rounding
    found = Distance(loss=optimum, optimum=optimum, null=1.0, max_se=50.0)
    assert (diagnose(_result(), found, se_rule=True) is not None) == far


def test_a_noise_free_table_never_warns_anywhere(cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    y = X.sum(axis=1)  # r² = 1: the optimum's loss is rounding
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linsgd.fit(X, y, seed=0)
        linsgd.fit(X, y + 4.2, seed=1, dtype="float64")
        linsgd.LinearRegressor(solver="sgd", random_state=0).fit(X, y)
    path = tmp_path / "perfect.csv"
    header = ",".join([f"x{j}" for j in range(5)] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="")
    for solver in ("auto", "sgd"):
        code, out, err = cli("train", path, "--target", "y", "--solver", solver, "--seed", 0,
                             "--out", tmp_path / solver)
        assert code == 0 and "warning" not in err, err


def test_linear_regressor_warns_in_standard_errors_when_the_loss_is_close():
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 3))
    y = X @ [1.0, 2.0, 3.0] + 1 + 3 * rng.standard_normal(20_000)
    m = linsgd.LinearRegressor(solver="sgd", lr=0.002, epochs=1, average=False, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"a coefficient \(x\d\) is [\d.]+ standard errors") as caught:
        m.fit(X, y)
    found = distance(X, y, m.coef_, m.intercept_)
    assert found.relative < 0.05 < 1 < found.max_se  # the loss rule alone would have said nothing
    assert "relative optimality gap" not in str(caught[0].message)


def test_the_advice_never_repeats_the_settings_in_force():
    far = Distance(loss=2.0, optimum=1.0, null=10.0)
    why = diagnose(_result(lr="auto", average="auto", epochs="auto", max_epochs=7), far, cli=True)
    assert "--lr auto" not in why and "--average auto" not in why and "--epochs auto" not in why
    assert "a smaller --tol (now 1e-05)" in why and "--solver exact" in why
    capped = dataclasses.replace(_result(7, lr="auto", epochs="auto", max_epochs=7))
    why = diagnose(capped, far, cli=True)
    assert "after 7 epochs (the max-epochs cap)" in why and "a larger --max-epochs (now 7)" in why
    why = diagnose(_result(3, **CHAPTER | {"seed": 0}), far, cli=True)
    assert "--lr auto" in why and "--average auto" in why and "more --epochs" in why


def test_the_loss_quoted_is_the_kept_models(cli, tmp_path):
    path = tmp_path / "d.csv"
    assert cli("generate", path, "--num-examples", 2000, "--seed", 1)[0] == 0
    code, out, err = cli("train", path, "--target", "y", "--lr", 1e-4, "--epochs", 2, "--seed", 0,
                         "--out", tmp_path / "r")
    assert code == 0 and "warning: not converged" in err
    gap = linsgd.load_model(tmp_path / "r" / "model.safetensors").metrics["train"]["optimality_gap"]
    assert f"loss {gap['loss']:.6g} of the model kept" in err


def test_the_epoch_cap_is_named(cli, tmp_path):
    path = tmp_path / "d.csv"
    assert cli("generate", path, "--num-examples", 500, "--seed", 1)[0] == 0
    code, out, err = cli("train", path, "--target", "y", "--solver", "sgd", "--max-epochs", 2, "--seed", 0,
                         "--out", tmp_path / "r")
    assert code == 0 and "ran into the cap of --max-epochs 2" in out


def test_the_divergence_advice_trains_and_is_never_the_step_in_force(cli, tmp_path):
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.standard_normal((2000, 2)), np.zeros(2000)])
    X[7, 2] = 60.0  # a rare level's column: only row 7 moves its coefficient, and the mean curvature misses it
    y = X @ [2.0, -3.4, 0.5] + 4.2 + 0.01 * rng.standard_normal(2000)
    path = tmp_path / "rare.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,y", comments="")
    flags = ("--target", "y", "--seed", 0, "--epochs", 3)
    code, _, err = cli("train", path, *flags, "--lr", 0.3, "--out", tmp_path / "a")
    assert code == 3 and "--lr=0.3 " not in err.split("try", 1)[1]
    suggested = re.search(r"or --lr=([\d.e+-]+) ", err).group(1)
    assert float(suggested) < 0.3
    code, _, err = cli("train", path, *flags, "--lr", suggested, "--out", tmp_path / "b")
    assert code == 0, err
    # a step that diverged while below the stable estimate: the advice is a quarter of it, not the estimate
    e = DivergenceError(2, 5, lr=0.1, suggested_lr=0.5)
    assert e.suggested_lr == pytest.approx(0.025) and "--lr=0.025" in e.describe("--lr")
    auto = DivergenceError(1, 0, lr=0.14, suggested_lr=0.14, auto=True).describe("--lr")
    assert "--lr=auto first" not in auto and "try --solver exact" in auto
