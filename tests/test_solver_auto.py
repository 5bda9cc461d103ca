"""solver="auto": the exact solve where its statistics fit the memory budget and nothing asks for SGD steps."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.sgd.solver import RESUMABLE, choose, statistics_bytes


def test_the_rule():
    assert statistics_bytes(12) == 3 * 8 * 14**2
    fits, too_big = statistics_bytes(12), statistics_bytes(12) - 1
    assert choose(TrainConfig(), 12, fits).solver == "exact"
    c = choose(TrainConfig(), 12, too_big)
    assert c.solver == "sgd" and "more than the" in c.solver_reason
    for tuned in (dict(lr=0.1), dict(epochs=5), dict(patience=2)):
        c = choose(TrainConfig(**tuned), 12, 1 << 30)
        assert c.solver == "sgd" and c.solver_reason.endswith("asks for SGD steps")
    c = choose(TrainConfig(), 12, 1 << 30, sgd_because=RESUMABLE)
    assert c.solver == "sgd" and c.solver_reason == f"sgd: {RESUMABLE}"
    assert choose(TrainConfig(solver="sgd"), 12, 1 << 30).solver_reason is None  # only "auto" is resolved
    assert choose(TrainConfig(solver="exact", lr=0.1), 12, 1).solver == "exact"


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"sqm": rng.uniform(30, 200, n), "rooms": rng.integers(1, 7, n).astype(float),
                       "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n)})
    df["price"] = 3000 * df["sqm"] + 20000 * df["rooms"] + 50000 * (df["city"] == "Oslo") + rng.normal(0, 1e4, n)
    return df


def test_fit_file_with_the_default_train_config_is_the_least_squares_answer(tmp_path):
    df = _frame()
    run = linsgd.fit_file(df, DataConfig(target="price"), TrainConfig())
    assert run.result.config.solver == "exact" and run.result.solution is not None
    X = np.column_stack([df["sqm"], df["rooms"], df["city"] == "Oslo", df["city"] == "Tromsø"]).astype(float)
    ref = linsgd.exact(X, df["price"].to_numpy())
    np.testing.assert_allclose(run.model.w, ref.w, rtol=1e-9)
    out = linsgd.write_run(run, tmp_path / "run")
    saved = json.loads((out / "config.json").read_text())
    assert saved["solver"] == "exact" and saved["solver_reason"].startswith("exact: least squares in one pass")
    model = linsgd.load_model(out / "model.safetensors")
    assert model.config["solver_reason"] == saved["solver_reason"]


def test_a_design_without_a_unique_solution_falls_back_to_sgd():
    df = _frame().assign(twice=lambda d: 2 * d["sqm"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = linsgd.fit_file(df, DataConfig(target="price"), TrainConfig(seed=0))
    reason = run.result.config.solver_reason
    assert run.result.config.solver == "sgd" and "no unique solution" in reason and "'twice'" in reason
    with pytest.raises(linsgd.DataError, match="twice"):  # asked for by name, the exact solver refuses
        linsgd.fit_file(df, DataConfig(target="price"), TrainConfig(solver="exact", seed=0))


def test_linear_regressor_auto_fits_exactly_and_partial_fit_takes_steps():
    df = _frame()
    X = np.column_stack([df["sqm"], df["rooms"]])
    y = df["price"].to_numpy()
    m = linsgd.LinearRegressor(random_state=0).fit(X, y)
    assert m.solver_.startswith("exact:") and m.n_iter_ == 0
    np.testing.assert_allclose(m.coef_, linsgd.exact(X, y).w, rtol=1e-9)
    p = linsgd.LinearRegressor(random_state=0).partial_fit(X, y)
    assert p.solver_.startswith("sgd: partial_fit") and p.n_epochs_ == 1


def test_the_cli_prints_the_solver_and_why(cli, tmp_path):
    path = tmp_path / "d.csv"
    assert cli("generate", path, "--num-examples", 300, "--seed", 1)[0] == 0
    code, out, _ = cli("train", path, "--target", "y", "--seed", 0, "--out", tmp_path / "a")
    assert code == 0 and "solver: exact: least squares in one pass (the statistics of 2 features" in out
    code, out, _ = cli("train", path, "--target", "y", "--seed", 0, "--max-memory", "64", "--out", tmp_path / "b")
    assert code == 0 and "solver: sgd: the exact statistics of 2 features would take 384 bytes" in out
    code, out, _ = cli("train", path, "--target", "y", "--seed", 0, "--checkpoint-every", "1epoch",
                       "--out", tmp_path / "c")
    assert code == 0 and f"solver: sgd: {RESUMABLE}" in out


def test_auto_reads_float64_rows_for_the_exact_solve_and_the_training_dtype_for_sgd(cli, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,y\n1e39,1\n2,3\n5,4\n")
    code, out, err = cli("train", path, "--target", "y", "--seed", 0, "--out", tmp_path / "a")
    assert code == 0 and "solver: exact" in out, err
    assert linsgd.load_model(tmp_path / "a" / "model.safetensors").dtype == "float64"
    code, _, err = cli("train", path, "--target", "y", "--seed", 0, "--max-memory", "16", "--out", tmp_path / "b")
    assert code == 2 and "too large for float32" in err  # auto chose SGD (budget): float32 rows, as asked
