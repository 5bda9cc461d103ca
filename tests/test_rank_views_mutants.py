"""The rank views (data/rank_views.py) on sizes that do not divide evenly, against their definitions: a rank's
block of rows [r·n/N, (r+1)·n/N) (disjoint, covering, sizes differing by at most one), one step per global
batch of N·B rows rounded up, the slice of each epoch's order, a shard's seed offset by its rank and its loss
the mean over every shard's rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linsgd.data.batching import epoch_order, rank_slice
from linsgd.data.rank_views import RankSlice, Sharded
from linsgd.data.views import InMemory


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return InMemory(X, X @ [1.0, -2.0] + 0.5 + rng.standard_normal(n))


@pytest.mark.parametrize(("n", "N"), [(301, 3), (7, 2), (10, 4), (5, 5), (3, 4)])
def test_rank_blocks_are_disjoint_cover_every_row_once_and_follow_the_definition(n, N):
    data = _data(n)
    blocks = []
    for r in range(N):
        chunks = list(RankSlice(data, r, N, 2).rows())
        y = np.concatenate([c[1] for c in chunks]) if chunks else np.empty(0)
        np.testing.assert_array_equal(y, data.y[r * n // N:(r + 1) * n // N])
        blocks.append(y)
    np.testing.assert_array_equal(np.concatenate(blocks), data.y)  # in rank order: every row once
    sizes = [len(b) for b in blocks]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n


@pytest.mark.parametrize(("n", "N", "B"), [(301, 3, 4), (7, 2, 5), (12, 3, 4), (1, 4, 3), (100, 1, 7)])
def test_a_rank_runs_one_step_per_global_batch_rounded_up(n, N, B):
    view = RankSlice(_data(n), 0, N, B)
    steps = view.steps_per_epoch(B)
    assert steps == math.ceil(n / (N * B)) and type(steps) is int
    assert view.n == n


def test_a_rank_visits_its_slice_of_every_epoch_from_the_start_epoch():
    data = _data(301)
    for r in range(3):
        view = RankSlice(data, r, 3, 4)
        got = [o.copy() for o in view.epoch_orders(5, 3)]
        assert len(got) == 3
        for e, order in enumerate(got):
            np.testing.assert_array_equal(order, rank_slice(epoch_order(5, e, 301), 4, r, 3))
        resumed = [o.copy() for o in view.epoch_orders(5, 3, start=1)]
        np.testing.assert_array_equal(resumed[0], got[1])
        assert len(resumed) == 2
    assert view.sample() is data.X


@pytest.mark.parametrize("rank", [1, 2, 5])
def test_a_shard_draws_the_orders_of_its_seed_plus_its_rank(rank):
    data = _data(50)
    view = Sharded(data, rank, sum)
    got = [o.copy() for o in view.epoch_orders(7, 2)]
    for e, order in enumerate(got):
        np.testing.assert_array_equal(order, epoch_order(7 + rank, e, 50))
    assert view.n == 50 and view.steps_per_epoch(8) == 7  # ⌈50/8⌉ of its own rows
    resumed = [o.copy() for o in view.epoch_orders(7, 2, start=1)]
    assert len(resumed) == 1
    np.testing.assert_array_equal(resumed[0], got[1])


class _HalfMeanSquare:
    """The loss an engine reports, by its definition: mean ½(Xw + b − y)² over the rows given."""

    def loss(self, X, y, w, b, v):
        assert v is None
        return float(np.mean(0.5 * (X @ w + b - y) ** 2))


def test_a_shards_loss_weights_each_shard_by_its_rows():
    """Each rank (a thread) hands its list to an all-reduce that sums what every rank handed in."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    shards = [_data(13, 1), _data(40, 2), _data(7, 3)]
    engine, w, b = _HalfMeanSquare(), np.array([0.2, -0.7]), 0.1
    handed, barrier = {}, Barrier(len(shards), timeout=30)

    def view(rank):
        def all_reduce(values):
            handed[rank] = list(values)
            barrier.wait()
            return [sum(v[i] for v in handed.values()) for i in range(len(values))]
        return Sharded(shards[rank], rank, all_reduce)

    with ThreadPoolExecutor(len(shards)) as pool:
        losses = list(pool.map(lambda r: view(r).loss(engine, w, b), range(len(shards))))
    X = np.concatenate([s.X for s in shards])
    y = np.concatenate([s.y for s in shards])
    r = X @ w + b - y
    assert losses == pytest.approx([0.5 * r @ r / len(y)] * 3, rel=1e-12)
    for rank, s in enumerate(shards):  # what a rank hands in: its rows' summed loss and its row count
        assert handed[rank] == pytest.approx([engine.loss(s.X, s.y, w, b, None) * s.n, s.n], rel=1e-15)
