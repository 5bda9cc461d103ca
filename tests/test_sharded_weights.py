"""Sample weights over Parquet shards: normalised once over the rows of every rank, not per shard.

A weighted objective is Σ s_i r_i² / (2 Σ s_i) over all rows. Scaling each shard's weights by its own n/Σs
would weigh a shard of light rows as much as a shard of heavy ones; the oracles here are weighted least
squares on all rows (closed form and statsmodels WLS), the same rows repeated (integer weights) and one
process reading every file.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.torchrun_util import torchrun

from linsgd.config import DataConfig
from linsgd.data.first_pass import encode
from linsgd.data.rows import load_rows, split_mask
from linsgd.errors import DataError
from linsgd.model import load_model

TRAIN = ("-m", "linsgd", "train")


def _shards(seed=0, n=600):
    """Two shards whose mean weights differ four-fold and whose rows disagree (shard 1 sits 3 higher):
    the weighted optimum's intercept is 2.4 above shard 0's line, a per-shard normalisation's 1.5."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * n, 2))
    shard = np.repeat([0, 1], n)
    y = X @ [1.5, -0.7] + 2.0 + 3.0 * shard + 0.2 * rng.standard_normal(2 * n)
    s = np.where(shard == 1, rng.integers(3, 6, 2 * n), rng.integers(0, 3, 2 * n)).astype(np.float64)
    return X, y, s, shard


def _write(folder, X, y, s, shard):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir()
    for k in (0, 1):
        rows = shard == k
        pq.write_table(pa.table({"x1": X[rows, 0], "x2": X[rows, 1], "y": y[rows], "s": s[rows]}),
                       folder / f"p{k}.parquet")
    return folder


def _wls(X, y, s):
    A = np.column_stack([X, np.ones(len(y))]) * np.sqrt(s)[:, None]
    return np.linalg.solve(A.T @ A, A.T @ (np.sqrt(s) * y))


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


def _load(path, others=None, val_fraction=0.0):
    """One rank's tables; ``others``: the totals the other ranks add in the all-reduce (None: no ranks)."""
    plus = None if others is None else (lambda values: [a + b for a, b in zip(values, others, strict=True)])
    cfg = DataConfig(target="y", weight="s", val_fraction=val_fraction)
    return load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0, sum_over_ranks=plus)


def test_each_shard_scales_its_weights_by_the_rows_and_weight_of_all_shards(tmp_path):
    X, y, s, shard = _shards()
    folder = _write(tmp_path / "parts", X, y, s, shard)
    N, S = len(y), s.sum()
    for k in (0, 1):
        mine = shard == k
        others = [float((~mine).sum()), s[~mine].sum(), 0.0, 0.0]
        table = _load(folder / f"p{k}.parquet", others).train
        np.testing.assert_allclose(table.v, s[mine] * N / S, rtol=1e-12)
        alone = _load(folder / f"p{k}.parquet").train  # without ranks: its own rows' normalisation, mean 1
        np.testing.assert_allclose(alone.v, s[mine] * mine.sum() / s[mine].sum(), rtol=1e-12)
    # and the validation rows alike, with their own totals over all ranks
    val = split_mask(0, 0, int((shard == 0).sum()), 0.3)
    s0 = s[shard == 0]
    rest = [float((shard == 1).sum()) - 7, 123.0, 7.0, 11.0]  # what rank 1 would add (train n, Σs, val n, Σs)
    loaded = _load(folder / "p0.parquet", rest, val_fraction=0.3)
    np.testing.assert_allclose(loaded.train.v, s0[~val] * ((~val).sum() + rest[0]) / (s0[~val].sum() + 123.0),
                               rtol=1e-12)
    np.testing.assert_allclose(loaded.val.v, s0[val] * (val.sum() + 7.0) / (s0[val].sum() + 11.0), rtol=1e-12)


def test_a_shard_of_zero_weights_is_refused_only_when_every_shard_weighs_nothing(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "zero.parquet"
    pq.write_table(pa.table({"x1": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0], "s": [0.0, 0.0, 0.0]}), path)
    table = _load(path, [3.0, 6.0, 0.0, 0.0]).train  # the other shard weighs 6: this one's rows count 0
    np.testing.assert_array_equal(table.v, [0.0, 0.0, 0.0])
    with pytest.raises(DataError, match="every weight of the training rows is 0"):
        _load(path, [3.0, 0.0, 0.0, 0.0])
    with pytest.raises(DataError, match="every weight of the training rows is 0"):
        _load(path)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sharded")
    X, y, s, shard = _shards(1)
    return _write(tmp / "parts", X, y, s, shard), (X, y, s)


def test_two_ranks_on_shards_solve_the_weighted_least_squares_of_all_rows(sharded, tmp_path, cli):
    import statsmodels.api as sm

    folder, (X, y, s) = sharded
    flags = ("--target", "y", "--weight", "s", "--solver", "exact", "--max-memory", "4K")
    proc = torchrun(2, *TRAIN, folder, *flags, "--out", tmp_path / "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "streamed" in proc.stdout and "2 ranks each solved their share" in proc.stdout  # sharded by file
    got = _params(tmp_path / "two")
    np.testing.assert_allclose(got, _wls(X, y, s), rtol=1e-9)
    wls = sm.WLS(y, sm.add_constant(X, prepend=False), weights=s).fit()
    np.testing.assert_allclose(got, wls.params, rtol=1e-9)
    # one process on the same files, and on the rows repeated s times without weights
    assert cli("train", folder, *flags, "--out", tmp_path / "one")[0] == 0
    np.testing.assert_allclose(_params(tmp_path / "one"), got, rtol=1e-9)
    k = s.astype(int)
    rep = _write(tmp_path / "rep", np.repeat(X, k, axis=0), np.repeat(y, k), np.ones(k.sum()),
                 np.repeat(np.arange(len(y)) >= len(y) // 2, k).astype(int))
    code, _, err = cli("train", rep, "--target", "y", "--exclude", "s", "--solver", "exact",
                       "--out", tmp_path / "rep-run")
    assert code == 0, err
    np.testing.assert_allclose(_params(tmp_path / "rep-run"), got, rtol=1e-9)


def test_two_ranks_of_weighted_sgd_on_shards_descend_the_weighted_objective_of_all_rows(sharded, tmp_path, cli):
    folder, (X, y, s) = sharded
    flags = ("--target", "y", "--weight", "s", "--solver", "sgd", "--lr", 0.02, "--epochs", 6, "--seed", 2,
             "--dtype", "float64", "--average", "false", "--max-memory", "4K")
    proc = torchrun(2, *TRAIN, folder, *flags, "--sync-every", 4, "--out", tmp_path / "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rank 0 of 2 trained on its shard" in proc.stdout
    import json

    lines = [json.loads(t) for t in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    theta = _params(tmp_path / "two")
    r = X @ theta[:2] + theta[2] - y
    # the per-epoch train loss over all shards is the weighted objective of all rows at the final model
    assert lines[-1]["train_loss"] == pytest.approx(0.5 * (s * r) @ r / s.sum(), rel=1e-9)
    # and the model is near the weighted optimum (intercept 2 + 2.4 = 4.4), not near the per-shard one (3.5);
    # one process, reading both files, lands there too
    assert cli("train", folder, *flags, "--out", tmp_path / "one")[0] == 0
    best = _wls(X, y, s)
    for name in ("two", "one"):
        assert abs(_params(tmp_path / name)[2] - best[2]) < 0.15, (name, _params(tmp_path / name), best)
    assert abs(best[2] - 4.4) < 0.15
