"""The practitioner defaults land on the optimum, and a run that does not says so (ConvergenceWarning)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from support.nist import load

import linsgd
from linsgd.model import load_model
from linsgd.sgd.convergence import relative_gap


@pytest.fixture(scope="module")
def longley():
    ds = load("Longley")
    return np.asarray(ds.X, dtype=np.float64), np.asarray(ds.y, dtype=np.float64)


def test_the_warning_fires_on_one_epoch_of_longley_and_not_on_a_converged_fit(longley, chapter_data):
    X, y = longley
    with pytest.warns(linsgd.ConvergenceWarning, match="not converged: relative optimality gap"):
        linsgd.fit(X, y, lr="auto", epochs=1, seed=0, dtype="float64")
    X, y = chapter_data  # (Longley's design is too collinear for SGD to converge: it warns, rightly)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = linsgd.fit(X, y, lr="auto", epochs="auto", average="auto", seed=0, dtype="float64")
    assert relative_gap(X, y, r.w, r.b) < 1e-3


def test_linear_regressor_defaults_on_longley_and_the_sklearn_warning(longley):
    from sklearn.exceptions import ConvergenceWarning

    X, y = longley
    with pytest.warns(ConvergenceWarning) as caught:  # scikit-learn's class: GridSearchCV filters it
        m = linsgd.LinearRegressor(solver="sgd", random_state=0, epochs=1).fit(X, y)
    assert isinstance(caught[0].message, linsgd.ConvergenceWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = linsgd.LinearRegressor(solver="sgd", random_state=0).fit(X, y)
    assert m.score(X, y) > 0.95  # the intercept starts at ȳ = 65,317: no more R² of −206
    # against the exact R² 0.99548: the collinear design leaves SGD at 3.7× the optimal MSE (it warns); 4× at most
    exact = linsgd.LinearRegressor(solver="exact").fit(X, y).score(X, y)
    assert exact == pytest.approx(0.9954790045772934, rel=1e-12)
    assert 1 - m.score(X, y) <= 4 * (1 - exact)


def test_penalised_run_uses_the_loss_still_falling_rule():
    X, y = linsgd.make_regression(500, [2, -3.4], 4.2, seed=0)
    with pytest.warns(linsgd.ConvergenceWarning, match="ran out"):
        linsgd.fit(X, y, lr=0.001, epochs=3, penalty="l2", alpha=0.01, seed=0)


def test_cli_defaults_early_stopping_metadata_and_warning(cli, tmp_path):
    data = tmp_path / "d.csv"
    cli("generate", data, "--num-examples", 1000, "--seed", 1)
    code, out, err = cli("train", data, "--target", "y", "--out", tmp_path / "r", "--seed", 0, "--solver", "sgd")
    assert code == 0 and "warning" not in err
    assert "stopped after epoch" in out and "kept epoch" in out
    m = load_model(tmp_path / "r" / "model.safetensors")
    stop = m.metrics["early_stopping"]
    assert 1 <= stop["kept_epoch"] <= stop["stopped_epoch"] < 100
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (config["lr"], config["epochs"], config["average"], config["weight"]) == ("auto", "auto", "auto", None)
    code, _, err = cli("train", data, "--target", "y", "--out", tmp_path / "one", "--epochs", 1, "--lr", 1e-4,
                       "--seed", 0)
    assert code == 0 and err.count("warning: not converged:") == 1 and "--epochs" in err


def test_divergence_suggests_auto_first(cli, tmp_path):
    data = tmp_path / "d.csv"
    cli("generate", data, "--num-examples", 500, "--seed", 1)
    code, _, err = cli("train", data, "--target", "y", "--out", tmp_path / "r", "--lr", 5, "--epochs", 3)
    assert code == 3 and err.index("--lr=auto") < err.index("raw scale")
