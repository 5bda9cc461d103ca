"""One name, one objective: a penalty is scikit-learn's ElasticNet objective on the raw coefficients whatever
the lr, also when training runs on standardised features (lr="auto", --standardize), in memory, streamed,
resumed from a checkpoint or solved exactly. Oracles: the closed-form proximal step, scikit-learn's Ridge
and ElasticNet on the raw data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support.rule_cases import PATHS, run

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.views import InMemory, Streamed
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule
from linsgd.model import load_model
from linsgd.runs.run import fit_file
from linsgd.sgd.loop import init_params, step_rule, train_data
from linsgd.sgd.raw_penalty import penalty_weights

from test_views import _table, streamed_order

sklearn = pytest.importorskip("sklearn.linear_model")


def objective(X, y, w, b, alpha, rho):
    """(1/2n) Σ r² + α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²) on the raw scale, scikit-learn's ElasticNet objective."""
    r = X @ w + b - y
    return 0.5 * r @ r / len(y) + alpha * (rho * np.abs(w).sum() + 0.5 * (1 - rho) * w @ w)


def scaled_problem(n=4_000, d=12, seed=0):
    """n × d columns of standard deviations 0.5 … 3 and non-zero means; y = Xw + 0.5 + N(0, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 3.0, d) + rng.normal(0, 1, d)
    return X, X @ rng.uniform(-1, 1, d) + 0.5 + rng.standard_normal(n)


@pytest.mark.parametrize("path", PATHS)
def test_a_step_with_a_penalty_per_coefficient_is_the_soft_threshold_of_each(path):
    X = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]])
    y = np.array([1.0, -2.0])
    w0, b0, lr = np.array([0.3, -0.2, 0.01]), 0.1, 0.2
    l1, l2 = np.array([1.5, 0.1, 0.0]), np.array([0.25, 4.0, 1.0])
    u = w0 - lr / 2 * X.T @ (X @ w0 + b0 - y)
    expect = np.sign(u) * np.maximum(np.abs(u) - lr * l1, 0) / (1 + lr * l2)
    out = run(path, X, y, w0, b0, np.array([0, 1]), StepRule(lr, l1=tuple(l1), l2=tuple(l2)), 2)
    np.testing.assert_allclose(out.w, expect, rtol=1e-12, atol=1e-15)
    assert expect[0] == 0 and expect[1] != 0  # each coefficient got its own threshold


@pytest.mark.parametrize("penalty,rho,tol", [("l2", 0.0, 1e-4), ("elasticnet", 0.5, 1e-3)])
def test_lr_auto_minimises_the_raw_scale_objective_of_scikit_learn(penalty, rho, tol):
    """Standardised for conditioning, the penalty mapped back per coefficient: the documented objective."""
    X, y = scaled_problem()
    alpha = 0.05
    oracle = (sklearn.Ridge(alpha=len(y) * alpha) if penalty == "l2" else
              sklearn.ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-12, max_iter=100_000)).fit(X, y)
    best = objective(X, y, oracle.coef_, oracle.intercept_, alpha, rho)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = linsgd.fit(X, y, lr="auto", average=True, epochs=30, penalty=penalty, alpha=alpha, l1_ratio=rho,
                       seed=0)
    assert (objective(X, y, r.w.astype(np.float64), r.b, alpha, rho) - best) / best < tol
    # the exact solver minimises the same objective
    e = linsgd.fit(X, y, solver="exact", penalty=penalty, alpha=alpha, l1_ratio=rho)
    assert (objective(X, y, e.w, e.b, alpha, rho) - best) / best < 1e-8


def test_the_objective_the_loop_records_is_the_raw_one():
    X, y = scaled_problem(n=1_000, d=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = linsgd.fit(X, y, lr="auto", average=True, epochs=3, penalty="l2", alpha=0.1, seed=1, dtype="float64")
    # r.w is on the raw scale; the objective of the last epoch is F(w, b) of the model returned
    assert r.objective[-1] == pytest.approx(objective(X, y, r.w, r.b, 0.1, 0.0), rel=1e-9)


def test_streamed_penalised_epochs_equal_in_memory_epochs_over_the_same_order(engine, tmp_path):
    """The per-coefficient penalty travels with a streamed view: the loop's epochs equal in-memory epochs of
    the same rule over the order of the windows."""
    X, y = scaled_problem(n=1_003, d=3, seed=2)
    Z = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    scale = X.std(0)
    data = Streamed(_table(Z, y.astype(np.float32), tmp_path), window_rows=300, piece_rows=64)
    config = TrainConfig(lr=0.05, epochs=2, batch_size=10, engine=engine, seed=3, penalty="elasticnet",
                         alpha=0.2, l1_ratio=0.5, average=False)
    got = train_data(data, config, penalty_scale=scale)
    rule = step_rule(config, data.steps_per_epoch(10), scale)
    assert rule.l1 == penalty_weights(config, scale)[0] and len(set(rule.l1)) == 3
    eng, (w, b) = get_engine(engine), init_params(3, 3, config.init_std, "float32")
    for epoch in range(2):
        out = eng.run_epoch(Z, y.astype(np.float32), w, b, streamed_order(data, 3, epoch), rule, 10,
                            t0=epoch * 101)
        w, b = out.w, out.b
    np.testing.assert_allclose(got.w, w, rtol=1e-5, atol=1e-6)
    in_memory = train_data(InMemory(Z, y.astype(np.float32)), config, penalty_scale=scale)
    unscaled = train_data(InMemory(Z, y.astype(np.float32)), config)
    assert not np.allclose(in_memory.w, unscaled.w, atol=1e-4)  # the scale changed the penalty


@pytest.fixture(scope="module")
def scaled_npy(tmp_path_factory):
    X, y = scaled_problem(n=4_000, d=6, seed=4)
    path = tmp_path_factory.mktemp("pen") / "d.npy"
    np.save(path, np.column_stack([X, y]))
    return path, X, y


@pytest.mark.parametrize("budget", [None, 4 * 7 * 4 * 500])  # in memory; streamed in windows of 500 float32 rows
def test_file_runs_with_lr_auto_land_on_scikit_learns_ridge(scaled_npy, budget):
    path, X, y = scaled_npy
    oracle = sklearn.Ridge(alpha=len(y) * 0.05).fit(X, y)
    config = TrainConfig(lr="auto", epochs=20, average=True, seed=2, penalty="l2", alpha=0.05, solver="sgd")
    run = fit_file(path, DataConfig(target="6", max_memory=budget), config)
    assert run.streamed == (budget is not None)
    best = objective(X, y, oracle.coef_, oracle.intercept_, 0.05, 0.0)
    assert (objective(X, y, run.model.w, run.model.b, 0.05, 0.0) - best) / best < 1e-4
    gap = run.model.metrics["train"]["optimality_gap"]  # measured against the same raw objective
    assert gap["optimum"] == pytest.approx(best, rel=1e-6) and gap["relative"] < 1e-4
    exact = fit_file(path, DataConfig(target="6", max_memory=budget), TrainConfig(
        lr="auto", solver="exact", penalty="l2", alpha=0.05))
    np.testing.assert_allclose(exact.model.w, oracle.coef_, rtol=1e-7, atol=1e-9)


def test_resumed_penalised_lr_auto_run_equals_the_uninterrupted_run(cli, tmp_path, scaled_npy):
    path = scaled_npy[0]
    common = ("train", path, "--target", "6", "--seed", 4, "--quiet", "--lr", "auto", "--solver", "sgd",
              "--penalty", "elasticnet", "--alpha", 0.05, "--max-memory", 4 * 7 * 4 * 500)
    assert cli(*common, "--epochs", 3, "--out", tmp_path / "full")[0] == 0
    run = tmp_path / "run"
    assert cli(*common, "--epochs", 1, "--out", run, "--checkpoint-every", "70steps")[0] == 0
    assert cli(*common, "--epochs", 3, "--out", run, "--checkpoint-every", "1epoch", "--resume")[0] == 0
    a, b = load_model(tmp_path / "full" / "model.safetensors"), load_model(run / "model.safetensors")
    assert np.array_equal(a.w, b.w) and a.b == b.b
