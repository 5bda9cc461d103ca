"""loss="huber"|"quantile"|"epsilon_insensitive" through linsgd.fit and linsgd train: the trusted optimum runs,
says so, lands on scikit-learn's optimum of the same objective, and is the same streamed, standardised and
weighted; SGD with such a loss is refused in one line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import linsgd
from linsgd.lstsq.losses import objective
from linsgd.lstsq.robust import trusted_optimum
from linsgd.lstsq.rows import array_chunks
from linsgd.model import load_model

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import HuberRegressor, QuantileRegressor  # noqa: E402


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    frame = load_diabetes(as_frame=True).frame
    frame["w"] = np.random.default_rng(0).uniform(0.5, 2.0, len(frame))
    path = tmp_path_factory.mktemp("losses") / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_fit_with_quantile_loss_is_quantileregressors_optimum(diabetes):
    X, y = diabetes
    r = linsgd.fit(X, y, loss="quantile", quantile=0.8, penalty="l1", alpha=0.01, solver="auto", lr="auto",
                   epochs="auto")
    m = QuantileRegressor(quantile=0.8, alpha=0.01).fit(X, y)
    kw = dict(loss="quantile", quantile=0.8, alpha=0.01, l1_ratio=1.0)
    theirs = objective(X, y, m.coef_, m.intercept_, **kw)
    assert r.history == [pytest.approx(objective(X, y, r.w, r.b, **kw), rel=1e-12)]
    assert abs(r.history[0] - theirs) <= 1e-3 * theirs
    assert r.config.solver == "exact" and "trusted optimum of the quantile loss" in r.config.solver_reason
    assert r.trusted.method == "linear program (HiGHS)"


def test_fit_with_huber_loss_is_huberregressors_optimum(diabetes):
    X, y = diabetes
    h = HuberRegressor(epsilon=1.35, alpha=1e-3, max_iter=10_000, tol=1e-12).fit(X, y)
    e, a = 1.35 * h.scale_, 1e-3 * h.scale_ / len(y)
    r = linsgd.fit(X, y, loss="huber", epsilon=e, penalty="l2", alpha=a, solver="exact")
    theirs = objective(X, y, h.coef_, h.intercept_, loss="huber", epsilon=e, alpha=a)
    assert abs(r.history[0] - theirs) <= 1e-3 * theirs and r.trusted.converged
    assert r.history[0] <= theirs * (1 + 1e-12)


def test_bad_loss_settings_are_refused_and_auto_says_why_it_takes_sgd(diabetes):
    X, y = diabetes
    for bad, name in ((dict(loss="hinge"), "loss"), (dict(loss="huber", epsilon=0.0), "epsilon"),
                      (dict(loss="quantile", quantile=0.0), "quantile")):
        with pytest.raises(linsgd.ConfigError, match=name):
            linsgd.fit(X, y, solver="exact", **bad)
    with pytest.raises(linsgd.ConfigError, match="penalty"):  # no linear program with a ridge part
        linsgd.fit(X, y, solver="exact", loss="quantile", penalty="l2", alpha=0.1)
    r = linsgd.fit(X, y, solver="auto", lr="auto", epochs="auto", max_epochs=2, loss="quantile", penalty="l2",
                   alpha=0.1)
    assert r.config.solver == "sgd" and "ridge part has no linear program" in r.config.solver_reason


def test_train_quantile_streamed_standardized_equals_in_memory(cli, diabetes_csv, tmp_path):
    path, frame = diabetes_csv
    flags = ("--target", "target", "--exclude", "w", "--loss", "quantile", "--quantile", 0.9)
    code, out, err = cli("train", path, *flags, "--out", tmp_path / "a")
    assert code == 0, err
    assert "solver: exact: the trusted optimum of the quantile loss" in out
    assert re.search(r"^optimality gap .*quantile \(quantile 0\.9\).* vs trusted optimum", out, re.M)
    a = load_model(tmp_path / "a" / "model.safetensors")
    X, y = frame.drop(columns=["target", "w"]).to_numpy(), frame["target"].to_numpy()
    m = QuantileRegressor(quantile=0.9, alpha=0.0).fit(X, y)
    theirs = objective(X, y, m.coef_, m.intercept_, loss="quantile", quantile=0.9)
    assert abs(objective(X, y, a.w, a.b, loss="quantile", quantile=0.9) - theirs) <= 1e-3 * theirs
    assert json.loads((tmp_path / "a" / "config.json").read_text())["loss"] == "quantile"
    code, out, err = cli("train", path, *flags, "--max-memory", "4K", "--chunk-bytes", 512, "--standardize",
                         "--out", tmp_path / "b")
    assert code == 0 and "train rows; streamed" in out, err
    b = load_model(tmp_path / "b" / "model.safetensors")
    np.testing.assert_allclose(b.w, a.w, rtol=1e-6, atol=1e-6 * np.abs(a.w).max())
    gap = b.metrics["train"]["optimality_gap"]  # measured on the raw scale the objective is defined on
    assert abs(gap["relative"]) < 1e-9 and gap["optimum"] == pytest.approx(theirs, rel=1e-3)


def test_train_weighted_huber_is_the_weighted_trusted_optimum(cli, diabetes_csv, tmp_path):
    path, frame = diabetes_csv
    code, out, err = cli("train", path, "--target", "target", "--weight", "w", "--loss", "huber", "--epsilon", 30,
                         "--penalty", "l1", "--alpha", 0.05, "--out", tmp_path / "h")
    assert code == 0, err
    model = load_model(tmp_path / "h" / "model.safetensors")
    X, y, s = frame.drop(columns=["target", "w"]).to_numpy(), frame["target"].to_numpy(), frame["w"].to_numpy()
    t = trusted_optimum(lambda: array_chunks(X, y, s, 10**6), 10, loss="huber", epsilon=30.0, quantile=0.5,
                        alpha=0.05, l1_ratio=1.0)
    np.testing.assert_allclose(model.w, t.w, atol=1e-6 * np.abs(t.w).max())
    gap = model.metrics["train"]["optimality_gap"]
    assert gap["optimum"] == pytest.approx(t.optimum, rel=1e-9) and abs(gap["relative"]) < 1e-9
    assert gap["objective"].startswith("weighted mean huber (epsilon 30) loss + 0.05")


def test_train_sgd_with_a_robust_loss_reports_its_gap_to_the_trusted_optimum(cli, diabetes_csv, tmp_path):
    path, frame = diabetes_csv
    code, out, err = cli("train", path, "--target", "target", "--exclude", "w", "--loss", "huber", "--epsilon", 30,
                         "--solver", "sgd", "--epochs", 1, "--seed", 0, "--out", tmp_path / "x")
    assert code == 0, err
    gap = load_model(tmp_path / "x" / "model.safetensors").metrics["train"]["optimality_gap"]
    X, y = frame.drop(columns=["target", "w"]).to_numpy(), frame["target"].to_numpy()
    t = trusted_optimum(lambda: array_chunks(X, y, None, 10**6), 10, loss="huber", epsilon=30.0, quantile=0.5)
    assert gap["optimum"] == pytest.approx(t.optimum, rel=1e-6)  # SGD read the rows in float32
    assert gap["relative"] > 0.05  # one epoch: far
    assert "vs trusted optimum" in out and "warning: not converged" in err


def test_linear_regressor_takes_the_loss_and_scores_like_quantileregressor(diabetes):
    from sklearn.base import clone

    X, y = diabetes
    m = linsgd.LinearRegressor(loss="quantile", quantile=0.3).fit(X, y)
    q = QuantileRegressor(quantile=0.3, alpha=0.0).fit(X, y)
    kw = dict(loss="quantile", quantile=0.3)
    theirs = objective(X, y, q.coef_, q.intercept_, **kw)
    assert abs(objective(X, y, m.coef_, m.intercept_, **kw) - theirs) <= 1e-3 * theirs
    assert "quantile" in m.solver_ and m.trusted_.method == "linear program (HiGHS)"
    assert clone(m).get_params()["quantile"] == 0.3
    step = clone(m).partial_fit(X, y)  # partial_fit takes SGD steps on the quantile loss
    assert step.history_[0] == pytest.approx(objective(X, y, step.coef_, step.intercept_, **kw), rel=1e-9)
