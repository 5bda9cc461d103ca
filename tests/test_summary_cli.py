"""`linsgd summary MODEL DATA`: the exact solution of the file, and the model's distance from it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest


def linsgd(*args, cwd):
    return subprocess.run([sys.executable, "-m", "linsgd", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("summary")
    assert linsgd("generate", "d.parquet", "--num-examples", "3000", "--num-features", "3", "--seed", "2",
                  "--noise", "0.5", cwd=d).returncode == 0
    proc = linsgd("train", "d.parquet", "--target", "y", "--out", "run", "--seed", "2", "--quiet", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d


def test_summary_json_is_the_least_squares_solution_and_gap(run_dir):
    proc = linsgd("summary", "run/model.safetensors", "d.parquet", "--json", cwd=run_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    table = pq.read_table(run_dir / "d.parquet").to_pandas()
    X, y = table[["x1", "x2", "x3"]].to_numpy(np.float64), table["y"].to_numpy(np.float64)
    A = np.column_stack([X, np.ones(len(y))])
    beta, rss, *_ = np.linalg.lstsq(A, y, rcond=None)
    coefs = [doc["coefficients"][k]["coef"] for k in ("x1", "x2", "x3", "intercept")]
    np.testing.assert_allclose(coefs, beta, rtol=1e-10)
    se = np.sqrt(np.diag(np.linalg.inv(A.T @ A)) * rss[0] / (len(y) - 4))
    np.testing.assert_allclose([doc["coefficients"][k]["se"] for k in ("x1", "x2", "x3", "intercept")], se,
                               rtol=1e-8)
    from linsgd.model import load_model

    model = load_model(run_dir / "run" / "model.safetensors")
    loss = 0.5 * np.mean((X @ model.w + model.b - y) ** 2)
    optimum = 0.5 * rss[0] / len(y)
    gap = doc["optimality_gap"]
    assert gap["loss"] == pytest.approx(loss, rel=1e-6) and gap["optimum"] == pytest.approx(optimum, rel=1e-9)
    assert gap["relative"] == pytest.approx((loss - optimum) / optimum, rel=1e-4, abs=1e-9)


def test_summary_table_and_bad_input(run_dir):
    proc = linsgd("summary", "run/model.safetensors", "d.parquet", cwd=run_dir)
    assert proc.returncode == 0 and "std err" in proc.stdout and "relative gap" in proc.stdout
    bad = linsgd("summary", "d.parquet", "d.parquet", cwd=run_dir)  # not a model file
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "d.parquet" in bad.stderr


def test_train_solver_exact_writes_the_least_squares_model(run_dir):
    proc = linsgd("train", "d.parquet", "--target", "y", "--out", "exact", "--solver", "exact", "--quiet",
                  cwd=run_dir)
    assert proc.returncode == 0, proc.stderr
    from linsgd.model import load_model

    table = pq.read_table(run_dir / "d.parquet").to_pandas()
    A = np.column_stack([table[["x1", "x2", "x3"]].to_numpy(np.float64), np.ones(len(table))])
    beta = np.linalg.lstsq(A, table["y"].to_numpy(np.float64), rcond=None)[0]
    model = load_model(run_dir / "exact" / "model.safetensors")
    np.testing.assert_allclose(np.append(model.w, model.b), beta, rtol=1e-6)  # stored from float32


def test_train_lr_auto_reaches_the_optimum_and_solver_exact_refuses_checkpoints(run_dir):
    proc = linsgd("train", "d.parquet", "--target", "y", "--out", "auto", "--lr", "auto", "--epochs", "10",
                  "--seed", "3", "--quiet", cwd=run_dir)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in (run_dir / "auto" / "metrics.jsonl").read_text().splitlines()]
    table = pq.read_table(run_dir / "d.parquet").to_pandas()
    A = np.column_stack([table[["x1", "x2", "x3"]].to_numpy(np.float64), np.ones(len(table))])
    rss = np.linalg.lstsq(A, table["y"].to_numpy(np.float64), rcond=None)[1][0]
    assert min(x["train_loss"] for x in lines) <= 1.01 * 0.5 * rss / len(table)  # reached within 10 epochs
    checkpointed = linsgd("train", "d.parquet", "--target", "y", "--out", "ckpt", "--lr", "auto", "--epochs", "2",
                          "--checkpoint-every", "1epoch", "--seed", "3", "--quiet", cwd=run_dir)
    assert checkpointed.returncode == 0, checkpointed.stderr
    first = json.loads((run_dir / "ckpt" / "metrics.jsonl").read_text().splitlines()[0])
    assert first["train_loss"] == lines[0]["train_loss"]  # the same run as without checkpoints
    refused = linsgd("train", "d.parquet", "--target", "y", "--out", "no", "--solver", "exact",
                     "--checkpoint-every", "1epoch", cwd=run_dir)
    assert refused.returncode == 2 and "--solver=exact" in refused.stderr and not (run_dir / "no").exists()


def test_train_reports_and_stores_the_optimality_gap(run_dir):
    from linsgd.model import load_model

    gap = load_model(run_dir / "run" / "model.safetensors").metrics["train"]["optimality_gap"]
    table = pq.read_table(run_dir / "d.parquet").to_pandas()
    A = np.column_stack([table[["x1", "x2", "x3"]].to_numpy(np.float64), np.ones(len(table))])
    rss = np.linalg.lstsq(A, table["y"].to_numpy(np.float64), rcond=None)[1][0]
    # the run trained on float32 rows (standardised once in memory by the default --lr auto): the optimum is
    # that of the rounded rows, within float32 rounding of the float64 file's
    assert gap["optimum"] == pytest.approx(0.5 * rss / len(table), rel=1e-7)
    assert gap["loss"] >= gap["optimum"] and gap["relative"] == pytest.approx(
        (gap["loss"] - gap["optimum"]) / gap["optimum"], rel=1e-9)


def test_a_constant_column_leaves_the_gap_unavailable_not_the_run(tmp_path):
    rows = ["a,c,y"] + [f"{i % 7},1,{2 * (i % 7) + 1}" for i in range(50)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    proc = linsgd("train", "d.csv", "--target", "y", "--out", "run", "--seed", "0", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "optimality gap: unavailable" in proc.stdout and "'c'" in proc.stdout
