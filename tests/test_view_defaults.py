"""What every view hands out when asked without a start: each epoch's order from epoch 0, every row from the
first (the orders are those of linsgd.data.batching.epoch_order; the rows those of the arrays or the file)."""

from __future__ import annotations

import numpy as np

from linsgd.config import DataConfig
from linsgd.data.batching import epoch_order
from linsgd.data.first_pass import encode
from linsgd.data.rank_views import RankSlice, Sharded
from linsgd.data.rows import load_rows
from linsgd.data.views import InMemory, Streamed


def _arrays(n=300):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    return X, X @ [1.0, 2.0] + 0.1 * rng.standard_normal(n)


def test_in_memory_orders_start_at_epoch_zero_and_rows_at_row_zero():
    X, y = _arrays()
    view = InMemory(X, y)
    orders = [o.copy() for o in view.epoch_orders(7, 2)]
    assert len(orders) == 2
    for e, got in enumerate(orders):
        np.testing.assert_array_equal(got, epoch_order(7, e, 300))
    rows = list(view.rows())
    np.testing.assert_array_equal(np.concatenate([r[0] for r in rows]), X)
    np.testing.assert_array_equal(np.concatenate([r[1] for r in rows]), y)


def test_streamed_and_rank_views_start_at_epoch_zero_and_row_zero(tmp_path):
    X, y = _arrays()
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X, y]))
    loaded = _spilled(path)
    assert not loaded.train.in_memory  # spilled: read window by window
    view = Streamed(loaded.train, window_rows=64)
    assert list(view.epoch_orders(7, 3)) == [(7, 0), (7, 1), (7, 2)]
    rows = list(view.rows())
    np.testing.assert_array_equal(np.concatenate([r[0] for r in rows]), X)
    np.testing.assert_array_equal(np.concatenate([r[1] for r in rows]), y)
    sharded = Sharded(view, rank=1, sum_over_ranks=lambda values: values)
    assert list(sharded.epoch_orders(7, 2)) == [(8, 0), (8, 1)]  # the shard's seed is offset by its rank
    ranks = RankSlice(InMemory(X, y), rank=0, world_size=2, batch_size=5)
    assert len([o for o in ranks.epoch_orders(7, 2)]) == 2
    loaded.train.close()


def test_windows_pieces_sample_and_rank_steps_as_documented(tmp_path):
    X, y = _arrays()
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X, y]))
    loaded = _spilled(path)
    one_piece_each = Streamed(loaded.train, window_rows=64, piece_rows=64)  # a window of one piece
    windows = list(one_piece_each.windows(7, 0))
    assert len(windows) == 5 and all(len(group) == 1 for group, _ in windows)  # ⌈300/64⌉ pieces, one each
    for k, (group, perm) in enumerate(windows):  # the rows of window k permuted by the stream [seed, 4, epoch, k]
        rows = sum(b - a for a, b in group)
        np.testing.assert_array_equal(perm, np.random.default_rng([7, 4, 0, k]).permutation(rows))
    whole = Streamed(loaded.train, window_rows=1000, piece_rows=64)  # every piece fits one window
    assert len(list(whole.windows(7, 0))) == 1
    np.testing.assert_array_equal(Streamed(loaded.train, window_rows=64).sample(), X[:64])
    loaded.train.close()
    ranks = RankSlice(InMemory(X[:101], y[:101]), rank=0, world_size=2, batch_size=5)
    assert ranks.steps_per_epoch(5) == 11 and isinstance(ranks.steps_per_epoch(5), int)  # ⌈101/10⌉


def _spilled(path):
    """The rows of ``path`` (target column "2") with a memory budget of 1,000 bytes: spilled to disk."""
    cfg = DataConfig(target="2", max_memory=1000)
    return load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0)
