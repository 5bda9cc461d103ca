"""`linsgd train --solver exact` and `--lr auto` on data bigger than --max-memory (spilled and streamed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linsgd.data.synthetic import make_regression
from linsgd.lstsq.qr import exact
from linsgd.model import load_model


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory):
    """3 columns on different scales: 2,000 rows (48 KB as float64)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2000, 3)) * [1.0, 30.0, 0.05] + [0.0, 100.0, -2.0]
    y = X @ [1.5, -0.02, 40.0] + 3.0 + 0.3 * rng.standard_normal(2000)
    path = tmp_path_factory.mktemp("data") / "d.csv"
    lines = ["a,b,c,y"] + [",".join(repr(float(v)) for v in row) for row in np.column_stack([X, y])]
    path.write_text("\n".join(lines) + "\n")
    return path, X, y


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_streamed_train_solver_exact_equals_in_memory_and_the_exact_solution(csv_data, cli, tmp_path, dtype):
    path, X, y = csv_data
    flags = ("--target", "y", "--solver", "exact", "--seed", 1, "--dtype", dtype)
    code, out, err = cli("train", path, *flags, "--max-memory", "4K", "--chunk-bytes", 512, "--out", tmp_path / "s")
    assert code == 0, err
    assert "streamed" in out and "objective mean ½(ŷ−y)²" in out
    assert cli("train", path, *flags, "--out", tmp_path / "m")[0] == 0
    np.testing.assert_allclose(_params(tmp_path / "s"), _params(tmp_path / "m"), rtol=1e-10, atol=0)
    s = exact(X, y)  # float64 whatever --dtype: the file's values, not their float32 roundings
    np.testing.assert_allclose(_params(tmp_path / "s"), np.append(s.w, s.b), rtol=1e-10, atol=0)
    gap = load_model(tmp_path / "s" / "model.safetensors").metrics["train"]["optimality_gap"]
    assert gap["relative"] == 0.0 and gap["optimum"] == pytest.approx(s.loss, rel=1e-10)


def test_streamed_exact_with_standardize_and_validation_rows(csv_data, cli, tmp_path):
    path, X, y = csv_data
    flags = ("--target", "y", "--solver", "exact", "--seed", 2, "--standardize", "--val-fraction", 0.25)
    assert cli("train", path, *flags, "--max-memory", "8K", "--out", tmp_path / "s")[0] == 0
    assert cli("train", path, *flags, "--out", tmp_path / "m")[0] == 0
    np.testing.assert_allclose(_params(tmp_path / "s"), _params(tmp_path / "m"), rtol=1e-10, atol=0)
    lines = (tmp_path / "s" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "val_loss" in json.loads(lines[0])


def test_streamed_lr_auto_trains_on_the_first_pass_standardisation(csv_data, cli, tmp_path):
    path, X, y = csv_data
    flags = ("--target", "y", "--lr", "auto", "--seed", 3, "--epochs", 8, "--dtype", "float64")
    code, out, err = cli("train", path, *flags, "--max-memory", "8K", "--out", tmp_path / "s")
    assert code == 0, err
    assert "streamed" in out
    s = exact(X, y)
    losses = [json.loads(x)["train_loss"] for x in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] <= 1.02 * s.loss  # without standardising, lr is tiny for these column scales
    model = load_model(tmp_path / "s" / "model.safetensors")
    assert model.mean is not None and json.loads(json.dumps(model.config))["lr"] == "auto"
    np.testing.assert_allclose(model.w, s.w, rtol=0.02)
    # the same run in memory visits other orders, but reaches the same optimum within SGD's noise
    assert cli("train", path, *flags, "--out", tmp_path / "m")[0] == 0
    memory = [json.loads(x)["train_loss"] for x in (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()]
    assert memory[-1] <= 1.02 * s.loss


def test_exact_refuses_checkpoints_but_lr_auto_resumes(csv_data, cli, tmp_path):
    path, _, _ = csv_data
    code, _, err = cli("train", path, "--target", "y", "--solver", "exact", "--resume", "--out", tmp_path / "x")
    assert code == 2 and "--solver=exact" in err and "nothing" not in err and "one pass" in err
    flags = ("--target", "y", "--lr", "auto", "--seed", 5, "--dtype", "float64", "--max-memory", "8K")
    assert cli("train", path, *flags, "--epochs", 3, "--out", tmp_path / "full")[0] == 0
    assert cli("train", path, *flags, "--epochs", 2, "--out", tmp_path / "r", "--checkpoint-every", "1epoch")[0] == 0
    code, out, err = cli("train", path, *flags, "--epochs", 3, "--out", tmp_path / "r", "--resume")
    assert code == 0, err
    assert np.array_equal(_params(tmp_path / "r"), _params(tmp_path / "full"))


def test_python_fit_file_exact_with_a_penalty_reports_the_penalised_gap(tmp_path, cli):
    import dataclasses

    import linsgd
    from linsgd.config import DataConfig, TrainConfig

    X, y = make_regression(500, [2, -3.4], 4.2, seed=1, dtype="float64")
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X, y]))

    @dataclasses.dataclass(frozen=True)
    class Penalised(TrainConfig):  # the fields another change adds to TrainConfig
        penalty: str | None = "elasticnet"
        alpha: float = 0.1
        l1_ratio: float = 0.5

    run = linsgd.fit_file(path, DataConfig(target="2", max_memory=2000), Penalised(solver="exact", seed=0))
    s = exact(X, y, alpha=0.1, l1_ratio=0.5)
    assert run.streamed
    np.testing.assert_allclose(run.model.w, s.w, rtol=1e-10)
    gap = run.model.metrics["train"]["optimality_gap"]
    assert gap["optimum"] == pytest.approx(s.optimum, rel=1e-10) and "alpha=0.1" in gap["unavailable"]
    assert gap["objective"] == s.objective_text and gap["mahalanobis"] is None
    # linsgd summary measures the model's gap on the objective in the model's config, not on least squares
    linsgd.write_run(run, tmp_path / "run")
    code, out, err = cli("summary", tmp_path / "run" / "model.safetensors", path, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["optimality_gap"]["objective"] == s.objective_text and "unavailable" not in doc  # the table is OLS's
    assert doc["optimality_gap"]["optimum"] == pytest.approx(s.optimum, rel=1e-12)
    assert abs(doc["optimality_gap"]["relative"]) < 1e-12
    code, out, _ = cli("summary", tmp_path / "run" / "model.safetensors", path)
    assert f"objective {s.objective_text}:" in out and "alpha=" not in out


@pytest.mark.parametrize("solver", ["auto", "sgd"])
def test_loss_png_names_an_exact_run_as_one_pass_not_an_epoch(tmp_path, monkeypatch, solver):
    import pandas as pd

    import linsgd
    from linsgd import plots

    drawn = {}
    monkeypatch.setattr(plots, "loss_curve", lambda series, path, **kw: drawn.update(kw))
    X, y = make_regression(500, [1.0, -2.0], 0.5, seed=2, dtype="float64")
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    run = linsgd.fit_file(frame, linsgd.DataConfig(target="y"), linsgd.TrainConfig(solver=solver, seed=0))
    linsgd.write_run(run, tmp_path / "run")
    if solver == "auto":  # the default solves least squares in one pass
        assert "exact" in drawn["title"] and "epoch" not in drawn["xlabel"]
    else:
        assert "title" not in drawn and "marker" in drawn
