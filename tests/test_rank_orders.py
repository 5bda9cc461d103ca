"""Ranks without torchrun: a sharded run's ranks draw distinct orders (seed + rank) and its loss is the mean
over every rank's rows (checked against one process on all rows); a rank slice of a global order covers
every example once, batch by batch, in the documented pattern."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.data.batching import epoch_order, rank_slice
from linsgd.data.rank_views import RankSlice, Sharded
from linsgd.data.views import InMemory
from linsgd.engines import get_engine


def _shards(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.standard_normal(300)
    return X, y, [InMemory(X[:120], y[:120]), InMemory(X[120:], y[120:])]


def _two_ranks(shards):
    """Both ranks' Sharded views, with an all-reduce that adds the lists of floats both ranks hand in."""
    engine, w, b = get_engine("reference"), np.array([0.3, -1.0]), 0.2
    local = [[s.loss(engine, w, b) * s.n, float(s.n)] for s in shards]

    def total(values):  # what sum_floats returns on every rank: the sum over ranks
        return [sum(v[i] for v in local) for i in range(len(values))]

    return [Sharded(s, rank, total) for rank, s in enumerate(shards)], engine, w, b


def test_sharded_loss_is_the_mean_over_every_rank_of_the_rows():
    X, y, shards = _shards()
    views, engine, w, b = _two_ranks(shards)
    r = X @ w + b - y
    one_process = 0.5 * r @ r / len(y)
    for view in views:
        assert view.loss(engine, w, b) == pytest.approx(one_process, rel=1e-12)
    own = [s.loss(engine, w, b) for s in shards]
    assert abs(own[0] - one_process) > 1e-3 and abs(own[1] - one_process) > 1e-3  # not a rank's own rows


def test_each_rank_of_a_sharded_run_draws_its_own_orders():
    _, _, shards = _shards()
    same = [InMemory(shards[0].X, shards[0].y), InMemory(shards[0].X.copy(), shards[0].y.copy())]
    views = [Sharded(s, rank, sum) for rank, s in enumerate(same)]  # equal data: only the seed differs
    seed = 11
    orders = [[o.copy() for o in v.epoch_orders(seed, 3)] for v in views]
    for rank, got in enumerate(orders):
        for epoch, order in enumerate(got):
            np.testing.assert_array_equal(order, epoch_order(seed + rank, epoch, 120))
    for epoch in range(3):
        assert not np.array_equal(orders[0][epoch], orders[1][epoch])
    resumed = [o.copy() for o in views[1].epoch_orders(seed, 3, start=2)]
    np.testing.assert_array_equal(resumed[0], orders[1][2])


@pytest.mark.parametrize("n,B,N", [(10, 2, 2), (23, 3, 2), (20, 2, 3), (7, 4, 3), (12, 1, 4), (13, 2, 3)])
def test_rank_slices_take_their_batch_of_every_global_batch_and_cover_the_order_once(n, B, N):
    order = np.random.default_rng(n).permutation(n)
    parts = [rank_slice(order, B, r, N) for r in range(N)]
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))  # every example exactly once
    full = n // (N * B)
    for r, part in enumerate(parts):
        expected = [order[k * N * B + r * B + j] for k in range(full) for j in range(B)]
        assert part[:full * B].tolist() == expected
    tail = n - full * N * B
    sizes = [len(p) - full * B for p in parts]
    assert sorted(sizes, reverse=True) == sizes and max(sizes) - min(sizes) <= 1 and sum(sizes) == tail


def test_rank_slice_view_solves_its_block_and_visits_its_slice():
    X, y, _ = _shards(1)
    data = InMemory(X, y)
    views = [RankSlice(data, r, 3, 4) for r in range(3)]
    blocks = [np.concatenate([c[1] for c in v.rows()]) for v in views]
    np.testing.assert_array_equal(np.concatenate(blocks), y)  # the blocks, in rank order, are all the rows
    assert [len(b) for b in blocks] == [100, 100, 100]
    for r, v in enumerate(views):
        got = next(iter(v.epoch_orders(5, 1)))
        np.testing.assert_array_equal(got, rank_slice(epoch_order(5, 0, 300), 4, r, 3))
        assert v.steps_per_epoch(4) == 25  # one per global batch of 3·4
