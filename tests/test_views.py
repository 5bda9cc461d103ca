"""Streaming ≡ in memory for the same order; each row once per epoch; splits independent of chunking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from linsgd.cli.options import parse_size
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.first_pass import encode
from linsgd.data.row_store import RowStore
from linsgd.data.rows import load_rows, split_mask
from linsgd.data.synthetic import make_regression
from linsgd.data.views import InMemory, Streamed
from linsgd.engines import get_engine
from linsgd.sgd.loop import init_params, train_data


def streamed_order(data: Streamed, seed: int, epoch: int) -> np.ndarray:
    """The rows in the order a streamed epoch visits them: each window's rows, permuted (module docstring)."""
    return np.concatenate([np.concatenate([np.arange(a, b) for a, b in group])[perm]
                           for group, perm in data.windows(seed, epoch)])


def streamed_epoch(eng, data: Streamed, w, b, key, lr, batch_size: int):
    """One epoch over the view's runs, as the train loop runs it (batches continue across windows)."""
    for X, y, idx, v in data.epoch_runs(key, batch_size):
        out = eng.run_epoch(X, y, w, b, idx, lr, batch_size, weight=v)
        w, b = out.w, out.b
    return out


def _table(X, y, spill_dir=None, s=None):
    """A RowStore of X, y (and sample weights s), in memory or spilled, filled in chunks of 97 rows."""
    t = RowStore(X.shape[1], X.dtype.name, str(spill_dir) if spill_dir else None, weighted=s is not None)
    if spill_dir:
        t.spill()
    for a in range(0, len(y), 97):
        t.append(np.column_stack([X[a:a + 97], y[a:a + 97], *([s[a:a + 97]] if s is not None else [])]))
    return t.finish(None)


@pytest.mark.parametrize("spilled", [False, True])
def test_streamed_epoch_equals_in_memory_epoch_over_the_same_order(engine, tmp_path, spilled):
    X, y = make_regression(2003, [2, -3.4, 1.5], 4.2, seed=3)
    data = Streamed(_table(X, y, tmp_path if spilled else None), window_rows=300, piece_rows=64)
    eng = get_engine(engine)
    w, b = init_params(7, 3, 0.01, "float32")
    for epoch in range(2):
        order = streamed_order(data, 7, epoch)
        expected = eng.run_epoch(X, y, w, b, order, 0.03, 10)
        got = streamed_epoch(eng, data, w, b, (7, epoch), 0.03, 10)
        np.testing.assert_allclose(got.w, expected.w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.b, expected.b, rtol=1e-5, atol=1e-6)
        w, b = got.w, got.b
    assert data.loss(eng, w, b) == pytest.approx(eng.loss(X, y, w, b), rel=1e-5)


def test_streamed_order_visits_every_row_once_and_is_shuffled():
    X, y = make_regression(1000, [1.0], 0.0, seed=0)
    data = Streamed(_table(X, y), window_rows=128, piece_rows=32)
    orders = [streamed_order(data, 5, e) for e in range(2)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(1000))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0][:32], np.sort(orders[0][:32]))  # shuffled within a window
    np.testing.assert_array_equal(streamed_order(data, 5, 0), orders[0])  # repeatable


def test_training_streamed_converges_like_in_memory(engine, tmp_path):
    X, y = make_regression(4000, [2, -3.4], 4.2, seed=1)
    config = TrainConfig(lr=0.03, epochs=3, batch_size=10, engine=engine, seed=1)
    mem = train_data(InMemory(X, y), config)
    streamed = train_data(Streamed(_table(X, y, tmp_path), window_rows=500), config)
    for r in (mem, streamed):
        np.testing.assert_allclose(r.w, [2, -3.4], atol=2e-3)
        assert r.history[-1] < 6e-5


def test_split_does_not_depend_on_chunking_and_has_the_asked_fraction():
    whole = split_mask(11, 0, 10_000, 0.2)
    parts = np.concatenate([split_mask(11, a, min(333, 10_000 - a), 0.2) for a in range(0, 10_000, 333)])
    np.testing.assert_array_equal(whole, parts)
    assert abs(whole.mean() - 0.2) < 0.02
    assert not np.array_equal(whole, split_mask(12, 0, 10_000, 0.2))


def test_load_spills_beyond_the_budget_and_reads_back_the_same_rows(tmp_path):
    X, y = make_regression(5000, [1.0, 2.0], 0.5, seed=2)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="", fmt="%.9g")
    cfg = DataConfig(target="y", chunk_bytes=1 << 16, val_fraction=0.25, standardize=True)
    spill = dataclasses.replace(cfg, max_memory=10_000, tmp_dir=str(tmp_path))
    mem = load_rows(encode(path, cfg, dtype="float32"), cfg, seed=0)
    disk = load_rows(encode(path, spill, dtype="float32"), spill, seed=0)
    assert mem.train.in_memory and not disk.train.in_memory and not disk.val.in_memory
    assert mem.fingerprint == disk.fingerprint
    for a, b in ((mem.train, disk.train), (mem.val, disk.val)):
        assert a.n == b.n
        np.testing.assert_array_equal(a.read(0, a.n)[0], b.read(0, b.n)[0])
    Xt = mem.train.read(0, mem.train.n)[0]
    np.testing.assert_allclose(Xt.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Xt.std(axis=0), 1, atol=1e-5)
    disk.train.close()


def test_parse_size():
    assert parse_size("512M") == 512 << 20 and parse_size("2G") == 2 << 30 and parse_size("1000") == 1000
    assert parse_size("1.5GB") == int(1.5 * (1 << 30))


def test_parquet_that_cannot_fit_never_holds_rows_in_memory(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = make_regression(3000, [1.0, 2.0], 0.5, seed=4)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "y": y}), path, row_group_size=500)
    held = []
    real_append = RowStore.append
    monkeypatch.setattr(RowStore, "append", lambda self, rows: (held.append(self.in_memory),
                                                             real_append(self, rows)))
    cfg = DataConfig(target="y", max_memory=3000 * 12 - 1)
    loaded = load_rows(encode(path, cfg, dtype="float32"), cfg, seed=0)
    assert held and not any(held) and loaded.train.n == 3000
    np.testing.assert_array_equal(loaded.train.read(0, 3000)[0], X)
    loaded.train.close()


@pytest.mark.timing
def test_memory_of_a_streamed_epoch_does_not_grow_with_the_data(engine, tmp_path):
    import tracemalloc

    peaks = []
    for n in (40_000, 160_000):
        X, y = make_regression(n, [1.0] * 8, 0.5, seed=1)
        data = Streamed(_table(X, y, tmp_path), window_rows=5_000, piece_rows=1_000)
        del X, y
        eng = get_engine(engine)
        w, b = init_params(0, 8, 0.01, "float32")
        streamed_epoch(eng, data, w, b, (0, 0), 0.01, 10)  # warm up (kernels, caches)
        tracemalloc.start()
        streamed_epoch(eng, data, w, b, (0, 1), 0.01, 10)
        data.loss(eng, w, b)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        data.table.close()
    window_bytes = 5_000 * 9 * 4
    # 4x the rows, the same memory; the window read ahead is allocated at the peak or not, as the threads
    # happen to run (one window of slack; an n-long array would be 4 · 160,000 bytes or more)
    assert peaks[1] < 1.2 * peaks[0] + 64_000 + window_bytes, peaks
    assert peaks[1] < 5 * window_bytes, (peaks, window_bytes)
