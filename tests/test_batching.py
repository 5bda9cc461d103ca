"""The epoch order: a permutation, repeatable, uniformly random (chi-square), the same from the prefetcher."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from linsgd.data.batching import BUCKET_ROWS, SEGMENT_ROWS, bucket_permutation, epoch_order, iter_epoch_orders

P_MIN = 1e-4  # a correct shuffle fails a test with this probability (the seeds are fixed: it passes)


@pytest.mark.parametrize("n", [1, 2, 10, BUCKET_ROWS - 1, BUCKET_ROWS + 1, 3 * BUCKET_ROWS + 17])
def test_each_epoch_is_a_permutation(n):
    for epoch in range(2):
        order = epoch_order(5, epoch, n)
        assert order.dtype == np.int32 and order.shape == (n,)
        np.testing.assert_array_equal(np.sort(order), np.arange(n))


def test_two_threads_give_the_same_order_as_one():
    from concurrent.futures import ThreadPoolExecutor

    n = 3 * BUCKET_ROWS + 11
    keys = _keys(0)
    one = bucket_permutation(keys, n, 5, segment_rows=1000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        two = bucket_permutation(keys, n, 5, segment_rows=1000, pool=pool)
        np.testing.assert_array_equal(epoch_order(1, 0, n, pool=pool), epoch_order(1, 0, n))
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(np.sort(one), np.arange(n))


def test_orders_repeat_for_a_seed_and_differ_across_epochs_and_seeds():
    n = 2 * BUCKET_ROWS + 5
    a = epoch_order(7, 0, n)
    np.testing.assert_array_equal(a, epoch_order(7, 0, n))
    for other in (epoch_order(7, 1, n), epoch_order(8, 0, n)):
        assert (a != other).mean() > 0.99  # a random pair of permutations shares ~1 fixed point


@pytest.mark.parametrize("start", [0, 2])
def test_the_prefetching_iterator_yields_epoch_order(start):
    n = BUCKET_ROWS + 3
    got = list(iter_epoch_orders(4, n, 5, start=start))
    assert len(got) == 5 - start
    for epoch, order in enumerate(got, start=start):
        np.testing.assert_array_equal(order, epoch_order(4, epoch, n))
    assert list(iter_epoch_orders(4, n, 0)) == []
    # recycled arrays: each order is right while it is the current one
    for epoch, order in enumerate(iter_epoch_orders(4, n, 5, start=start, recycle=True), start=start):
        np.testing.assert_array_equal(order, epoch_order(4, epoch, n))


def _keys(i: int) -> np.ndarray:
    return np.random.SeedSequence([12345, i]).generate_state(2, np.uint64)


@pytest.mark.parametrize("n,nbuckets,segment_rows", [(4, 1, 4), (4, 3, 4), (5, 2, 2)])
def test_every_permutation_is_equally_likely(n, nbuckets, segment_rows):
    """Counts of all n! arrangements over many shuffles, against the uniform law (chi-square).

    nbuckets > 1 exercises the two-level algorithm on a small n (random, often empty, buckets), and
    segment_rows < n several label streams.
    """
    draws = 200 * math.factorial(n)
    index = {p: k for k, p in enumerate(itertools.permutations(range(n)))}
    counts = np.zeros(len(index))
    for i in range(draws):
        counts[index[tuple(bucket_permutation(_keys(i), n, nbuckets, segment_rows=segment_rows).tolist())]] += 1
    assert stats.chisquare(counts).pvalue > P_MIN


def test_positions_are_uniform_at_scale():
    """Where do the examples of each tenth of the data land? Uniformly over the tenths of the epoch."""
    n, epochs = SEGMENT_ROWS + BUCKET_ROWS + 1000, 2  # two label segments, 34 buckets
    table = np.zeros((10, 10))
    for epoch in range(epochs):
        order = epoch_order(1, epoch, n)
        np.add.at(table, (order * 10 // n, np.arange(n) * 10 // n), 1)
    assert stats.chi2_contingency(table).pvalue > P_MIN
    # and each example's position is independent of its neighbour's: position gaps of consecutive
    # examples are uniform in sign
    pos = np.empty(n, dtype=np.int64)
    pos[epoch_order(2, 0, n)] = np.arange(n)
    up = int((np.diff(pos) > 0).sum())
    assert stats.binomtest(up, n - 1).pvalue > P_MIN
