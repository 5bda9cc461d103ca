"""generate → train → predict → evaluate, run folders, held-out R² equal to least squares, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from linsgd.config import DataConfig
from linsgd.data.first_pass import encode
from linsgd.model import load_model


def _xy(path):
    chunks = list(encode(path, DataConfig(target="y")).chunks())
    return np.concatenate([c.X for c in chunks]), np.concatenate([c.y for c in chunks])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_generate_train_predict_evaluate(cli, tmp_path, fmt, engine):
    data, test = tmp_path / f"d.{fmt}", tmp_path / f"t.{fmt}"
    assert cli("generate", data, "--num-examples", 3000, "--seed", 1)[0] == 0
    assert cli("generate", test, "--num-examples", 500, "--seed", 2)[0] == 0
    truth = json.loads((tmp_path / f"d.{fmt}.json").read_text())
    if fmt == "parquet":
        assert json.loads(pq.read_schema(data).metadata[b"linsgd.generate"]) == truth
    assert truth["true_w"] == [2.0, -3.4] and truth["true_b"] == 4.2
    run = tmp_path / "run"
    code, out, err = cli("train", data, "--target", "y", "--out", run, "--seed", 3, "--engine", engine,
                         "--solver", "sgd")
    assert code == 0, err
    # the pictures only on request (--plots, or linsgd plot RUN)
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "metrics.jsonl", "model.safetensors",
                                                     "sample.safetensors"]
    lines = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    # the defaults: lr, epochs and averaging "auto" (until converged, at most 100 epochs)
    assert 2 <= len(lines) < 100 and lines[-1]["train_loss"] < 1e-4
    assert json.loads((run / "config.json").read_text())["seed"] == 3
    model = load_model(run / "model.safetensors")
    np.testing.assert_allclose(model.w, truth["true_w"], atol=3e-3)
    code, out, _ = cli("predict", run / "model.safetensors", test, "--out", tmp_path / f"p.{fmt}")
    assert code == 0
    X, y = _xy(test)
    if fmt == "parquet":
        pred = pq.read_table(tmp_path / "p.parquet")["prediction"].to_numpy()
    else:
        pred = np.loadtxt(tmp_path / "p.csv", skiprows=1)
    np.testing.assert_allclose(pred, X @ model.w + model.b, rtol=1e-6, atol=1e-6)
    code, out, _ = cli("evaluate", run / "model.safetensors", test, "--json")
    metrics = json.loads(out)
    assert metrics["n"] == 500 and metrics["r2"] > 0.9999
    # at the statistical floor: the held-out MSE of least squares fitted on the same training rows, +5 %
    Xt, yt = _xy(data)
    A = np.column_stack([Xt, np.ones(len(yt))])
    theta = np.linalg.lstsq(A, yt, rcond=None)[0]
    floor = np.mean((X @ theta[:-1] + theta[-1] - y) ** 2)
    assert metrics["mse"] <= 1.05 * floor, (metrics["mse"], floor)
    assert metrics["mse"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-6)


def test_held_out_r2_equals_least_squares_r2_d20(cli, tmp_path):
    w = ",".join(f"{v:.3f}" for v in np.random.default_rng(0).normal(size=20))
    common = ("--num-features", 20, f"--true-w={w}", "--noise", 0.5)
    cli("generate", tmp_path / "train.parquet", "--num-examples", 20000, "--seed", 1, *common)
    cli("generate", tmp_path / "test.parquet", "--num-examples", 5000, "--seed", 2, *common)
    code, _, err = cli("train", tmp_path / "train.parquet", "--target", "y", "--out", tmp_path / "run",
                       "--seed", 0, "--batch-size", 32, "--epochs", 4, "--lr", 0.01, "--engine", "reference",
                       "--quiet")
    assert code == 0, err
    model = tmp_path / "run" / "model.safetensors"
    code, out, _ = cli("evaluate", model, tmp_path / "test.parquet", "--json")
    r2_sgd = json.loads(out)["r2"]
    X, y = _xy(tmp_path / "train.parquet")
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    Xt, yt = _xy(tmp_path / "test.parquet")
    r2_exact = 1 - np.sum((Xt @ coef[:-1] + coef[-1] - yt) ** 2) / np.sum((yt - yt.mean()) ** 2)
    print(r2_sgd, r2_exact)
    assert abs(r2_sgd - r2_exact) < 1e-3, (r2_sgd, r2_exact)


def test_standardize_reports_raw_coefficients_and_streaming_matches(cli, tmp_path):
    path = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    X = rng.normal([100.0, -5.0], [20.0, 0.1], size=(4000, 2))
    y = X @ [0.5, 30.0] + 7.0 + rng.normal(0, 0.01, 4000)
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="", fmt="%.10g")
    for budget, run in (("1G", "mem"), ("20K", "disk")):
        code, out, err = cli("train", path, "--target", "y", "--standardize", "--out", tmp_path / run,
                             "--seed", 0, "--epochs", 5, "--lr", 0.1, "--max-memory", budget,
                             "--engine", "reference", "--dtype", "float64", "--quiet")
        assert code == 0, err
        model = load_model(tmp_path / run / "model.safetensors")
        np.testing.assert_allclose(model.w, [0.5, 30.0], rtol=2e-3)
        # raw-scale w, b predict raw rows: the error is near the noise floor σ² = 1e-4
        assert np.mean((model.predict(X) - y) ** 2) < 2e-3
        np.testing.assert_allclose(model.mean, X.mean(axis=0), rtol=1e-9)


def test_val_split_and_early_stopping(cli, tmp_path):
    path = tmp_path / "d.parquet"
    cli("generate", path, "--num-examples", 2000, "--seed", 0)
    code, out, err = cli("train", path, "--target", "y", "--val-fraction", 0.25, "--early-stopping",
                         "--patience", 2, "--tol", 1e-3, "--epochs", 50, "--out", tmp_path / "r",
                         "--seed", 0, "--engine", "reference")
    assert code == 0, err
    lines = [json.loads(s) for s in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert 2 <= len(lines) < 50 and all("val_loss" in ln for ln in lines)
    m = load_model(tmp_path / "r" / "model.safetensors").metrics
    assert m["val"]["n"] + m["train"]["n"] == 2000 and 400 < m["val"]["n"] < 600


def test_predict_matches_columns_by_name_and_names_missing_ones(cli, tmp_path):
    path = tmp_path / "d.csv"
    cli("generate", path, "--num-examples", 500, "--seed", 0)
    cli("train", path, "--target", "y", "--out", tmp_path / "r", "--seed", 0, "--engine", "reference",
        "--quiet")
    model = tmp_path / "r" / "model.safetensors"
    (tmp_path / "swapped.csv").write_text("x2,other,x1\n1,9,2\n")
    assert cli("predict", model, tmp_path / "swapped.csv", "--out", tmp_path / "p.csv")[0] == 0
    m = load_model(model)
    assert float((tmp_path / "p.csv").read_text().split()[1]) == pytest.approx(m.w @ [2, 1] + m.b)
    (tmp_path / "missing.csv").write_text("x2,other\n1,9\n")
    code, _, err = cli("predict", model, tmp_path / "missing.csv", "--out", tmp_path / "q.csv")
    assert code == 2 and "column 'x1' not found (columns: x2, other)" in err
    assert not (tmp_path / "q.csv").exists()


def test_bad_flags_exit_2_before_anything_is_written(cli, tmp_path):
    path = tmp_path / "d.csv"
    cli("generate", path, "--num-examples", 100)
    for flags in (("--val-fraction", 1.0), ("--max-memory", "lots"), ("--lr", -1)):
        code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", *flags)
        assert code == 2 and "--" in err and not (tmp_path / "r").exists()
    assert cli("generate", tmp_path / "x.txt")[0] == 2
    code, _, err = cli("predict", tmp_path / "m.safetensors", path, "--out", tmp_path / "p.csv",
                       "--on-bad-rows", "skip")
    assert code == 2 and "--on-bad-rows=skip" in err


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from linsgd.cli import main\n"
            "for argv in (['--help'], ['train', '--help']):\n"
            "    try: main(argv)\n"
            "    except SystemExit: pass\n"
            "print(sorted(m for m in ('pyarrow', 'torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.strip().endswith("[]")


def test_evaluate_skips_bad_rows_and_says_how_many(cli, tmp_path):
    path = tmp_path / "d.csv"
    cli("generate", path, "--num-examples", 300, "--seed", 0)
    cli("train", path, "--target", "y", "--out", tmp_path / "r", "--seed", 0, "--engine", "reference", "--quiet")
    lines = path.read_text().splitlines()
    lines[5] = "abc," + lines[5].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    model = tmp_path / "r" / "model.safetensors"
    code, _, err = cli("evaluate", model, path)
    assert code == 2 and f"{path}:6: column 'x1': not a number (value='abc')" in err
    code, out, _ = cli("evaluate", model, path, "--on-bad-rows", "skip", "--json")
    result = json.loads(out)
    assert code == 0 and result["n"] == 299 and result["skipped"] == 1


def test_unwritable_spill_folder_is_a_storage_error(cli, tmp_path):
    path = tmp_path / "d.csv"
    cli("generate", path, "--num-examples", 2000)
    code, _, err = cli("train", path, "--target", "y", "--max-memory", "1K", "--tmp-dir", tmp_path / "nope",
                       "--out", tmp_path / "r", "--quiet")
    assert code == 4 and "cannot write the spill files" in err and not (tmp_path / "r").exists()
