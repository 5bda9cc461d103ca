"""Penalised lr="auto" under torchrun (2 ranks on loopback): the ranks minimise the raw-scale objective of
scikit-learn's Ridge too, like one process."""

from __future__ import annotations

import pytest
from support.torchrun_util import torchrun
from test_raw_penalty import objective, scaled_problem

from linsgd.model import load_model

sklearn = pytest.importorskip("sklearn.linear_model")
pytest.importorskip("torch")


def test_two_ranks_with_lr_auto_land_on_scikit_learns_ridge(tmp_path, cli):
    pd = pytest.importorskip("pandas")
    X, y = scaled_problem(n=2_000, d=4, seed=7)
    data = tmp_path / "d.csv"
    pd.DataFrame(X, columns=["a", "b", "c", "e"]).assign(y=y).to_csv(data, index=False)
    flags = ("--target", "y", "--seed", 3, "--lr", "auto", "--epochs", 20, "--average", "--solver", "sgd",
             "--dtype", "float64", "--penalty", "l2", "--alpha", 0.05, "--quiet")
    proc = torchrun(2, "-m", "linsgd", "train", data, *flags, "--batch-size", 5, "--sync-every", 1,
                    "--out", tmp_path / "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert cli("train", data, *flags, "--batch-size", 10, "--out", tmp_path / "one")[0] == 0
    oracle = sklearn.Ridge(alpha=len(y) * 0.05).fit(X, y)
    best = objective(X, y, oracle.coef_, oracle.intercept_, 0.05, 0.0)
    for run in ("two", "one"):
        m = load_model(tmp_path / run / "model.safetensors")
        assert (objective(X, y, m.w, m.b, 0.05, 0.0) - best) / best < 1e-4, run
        assert m.metrics["train"]["optimality_gap"]["relative"] < 1e-4  # against the same raw objective
