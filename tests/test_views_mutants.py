"""A streamed view's pieces at their smallest, against a hand count (what mutation testing of data/views.py
found unpinned)."""

from __future__ import annotations

import numpy as np

from linsgd.config import DataConfig
from linsgd.data.first_pass import encode
from linsgd.data.rows import load_rows
from linsgd.data.views import Streamed


def test_pieces_of_one_row_cut_the_table_row_by_row(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X, X @ [1.0, 2.0]]))
    cfg = DataConfig(target="2", max_memory=1000)
    table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
    view = Streamed(table, window_rows=4, piece_rows=1)
    assert view.pieces == [(i, i + 1) for i in range(30)]  # 30 pieces of one row
    windows = list(view.windows(7, 0))
    assert len(windows) == 8  # ⌈30 / 4⌉ windows of 4 pieces (strata), the last strata short
    assert sorted(a for group, _ in windows for a, _ in group) == list(range(30))  # each row once
    rows = np.concatenate([table.read(a, b)[0] for a, b in view.pieces])
    np.testing.assert_array_equal(rows, X)
    table.close()


def test_a_window_of_one_row_holds_one_piece(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([np.arange(12.0), np.arange(12.0)]))
    cfg = DataConfig(target="1", max_memory=100)
    table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
    view = Streamed(table, window_rows=1, piece_rows=1)
    assert view.window_rows == 1 and view.per_window == 1
    windows = list(view.windows(3, 0))
    assert len(windows) == 12 and all(len(group) == 1 for group, _ in windows)  # K = P = 12
    table.close()


def test_sample_weights_are_held_normalised_to_mean_one_and_none_stays_none():
    from linsgd.data.views import normalized_weights

    assert normalized_weights(None, 3, np.float64) is None
    v = normalized_weights([1.0, 2.0, 3.0], 3, np.float32)  # s · n / Σs = s · 3 / 6
    assert v.dtype == np.float32
    np.testing.assert_array_equal(v, np.array([0.5, 1.0, 1.5], np.float32))


def test_a_default_piece_holds_at_least_eight_kib_of_rows_counting_the_weight(tmp_path):
    """float64 rows of 2 features and the target: 24 bytes, ⌈8192/24⌉ = 342 rows; with a weight 32, 256."""
    rng = np.random.default_rng(1)
    columns = np.column_stack([rng.standard_normal((2000, 3)), rng.uniform(1, 2, 2000)])
    for weight, rows in [(None, 342), ("3", 256)]:
        path = tmp_path / f"d{weight}.npy"
        np.save(path, columns if weight else columns[:, :3])
        cfg = DataConfig(target="2", weight=weight, max_memory=1000)
        table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
        assert (table.d, table.weighted) == (2, weight is not None)
        assert Streamed(table, window_rows=1000).piece_rows == rows  # 1000 // 64 = 15 is below the 8 KiB floor
        table.close()


def test_an_epoch_has_a_whole_number_of_steps_the_last_batch_short(tmp_path):
    """⌈n / B⌉ steps: 101 rows in batches of 5 are 20 whole batches and one of a single row, 21 steps, in
    memory and streamed (the schedule's length and the start of averaging are counted in these steps)."""
    from linsgd.data.views import InMemory

    X = np.arange(202.0).reshape(101, 2)
    assert [InMemory(X, X[:, 0]).steps_per_epoch(b) for b in (5, 101, 1, 200)] == [21, 1, 101, 1]
    path = tmp_path / "d.npy"
    np.save(path, X)
    cfg = DataConfig(target="1", max_memory=1000)
    table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
    assert table.n == 101 and [Streamed(table, window_rows=10).steps_per_epoch(b) for b in (5, 101, 1)] == [21, 1, 101]
    table.close()


def test_a_piece_larger_than_the_window_makes_windows_of_one_piece(tmp_path):
    """m = max(1, ⌊window_rows / piece_rows⌋) (module docstring): pieces of 10 rows in windows of 4 rows give one
    piece per window, K = P = 3 windows for 30 rows, every row once."""
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([np.arange(30.0), np.arange(30.0)]))
    cfg = DataConfig(target="1", max_memory=1000)
    table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
    view = Streamed(table, window_rows=4, piece_rows=10)
    assert (view.per_window, view.nwindows) == (1, 3)
    windows = list(view.windows(1, 0))
    assert sorted(group for group, _ in windows) == [[(0, 10)], [(10, 20)], [(20, 30)]]
    table.close()


def test_rows_come_in_the_documented_chunks_of_65536():
    """``InMemory.rows()`` yields rows [start, stop) in chunks of 65,536 (what the exact solver merges)."""
    from linsgd.data.views import InMemory

    X = np.zeros((150_000, 1))
    assert [len(y) for _, y in InMemory(X, X[:, 0]).rows()] == [65_536, 65_536, 18_928]
    assert [len(y) for _, y in InMemory(X, X[:, 0]).rows(1, 65_538)] == [65_536, 1]
