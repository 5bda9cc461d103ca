"""`linsgd train --solver exact` under torchrun: each rank's least-squares state, merged over ranks ≡ 1 process."""

from __future__ import annotations

import numpy as np
from support.torchrun_util import torchrun

from linsgd.data.synthetic import make_regression
from linsgd.model import load_model

TRAIN = ("-m", "linsgd", "train")


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


def test_two_ranks_solve_exactly_what_one_process_solves(tmp_path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = make_regression(3001, [2, -3.4, 0.7], 4.2, noise=0.5, seed=11, dtype="float64")
    X = X * [1.0, 50.0, 0.01] + [3.0, -100.0, 0.0]
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, (a, b) in enumerate([(0, 1700), (1700, 3001)]):  # unequal shards
        pq.write_table(pa.table({"x1": X[a:b, 0], "x2": X[a:b, 1], "x3": X[a:b, 2], "y": y[a:b]}),
                       folder / f"p{k}.parquet")
    flags = ("--target", "y", "--solver", "exact", "--seed", 1)  # (a shard splits off its own val rows)
    assert cli("train", folder, *flags, "--out", tmp_path / "one")[0] == 0
    # in memory: every rank reads all rows and solves its block of them; streamed: each rank its own files
    for name, budget in (("memory", "1G"), ("shards", "8K")):
        proc = torchrun(2, *TRAIN, folder, *flags, "--max-memory", budget, "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "2 ranks each solved their share of the rows" in proc.stdout
        np.testing.assert_allclose(_params(tmp_path / name), _params(tmp_path / "one"), rtol=1e-10, atol=0)
        gap = load_model(tmp_path / name / "model.safetensors").metrics["train"]["optimality_gap"]
        assert gap["relative"] == 0.0


def test_lr_auto_on_parquet_shards_standardises_with_the_moments_of_every_shard(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = make_regression(2000, [2, -3.4], 4.2, noise=0.1, seed=12, dtype="float64")
    X = X * [1.0, 30.0] + [5.0, -50.0]
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, (a, b) in enumerate([(0, 700), (700, 2000)]):  # shards with different means
        pq.write_table(pa.table({"x1": X[a:b, 0] + k, "x2": X[a:b, 1], "y": y[a:b] + 2 * k}), folder / f"p{k}.parquet")
    proc = torchrun(2, *TRAIN, folder, "--target", "y", "--lr", "auto", "--seed", 2, "--epochs", 4, "--dtype",
                    "float64", "--max-memory", "4K", "--sync-every", 4, "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = load_model(tmp_path / "run" / "model.safetensors")
    full = X + [[1.0, 0.0]] * (np.arange(2000) >= 700)[:, None]
    np.testing.assert_allclose(model.mean, full.mean(axis=0), rtol=1e-12)  # not rank 0's shard's
    np.testing.assert_allclose(model.scale, full.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.w, [2, -3.4 / 30], rtol=0.01)  # y was made before x2 was scaled by 30
