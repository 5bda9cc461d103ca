"""The epoch order: a permutation, repeatable, uniformly random (chi-square), the same from the prefetcher.

Up to SHUFFLE_ROWS rows it is Fisher–Yates (exactly uniform: every arrangement counted); above, the Feistel
permutation (pseudo-random: positions and neighbours tested at scale)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from linsgd.data import _shuffle_kernels
from linsgd.data.batching import SHUFFLE_ROWS, epoch_order, feistel_order, iter_epoch_orders

P_MIN = 1e-4  # a correct shuffle fails a test with this probability (the seeds are fixed: it passes)


@pytest.mark.parametrize("n", [1, 2, 10, SHUFFLE_ROWS - 1, SHUFFLE_ROWS + 1, 3 * SHUFFLE_ROWS + 17])
def test_each_epoch_is_a_permutation(n):
    for epoch in range(2):
        order = epoch_order(5, epoch, n)
        assert order.dtype == np.int32 and order.shape == (n,)
        np.testing.assert_array_equal(np.sort(order), np.arange(n))


@pytest.mark.parametrize("n", [3 * SHUFFLE_ROWS + 11, 1 << 17, (1 << 17) + 1, 5 * (1 << 16) - 1])
def test_two_threads_give_the_same_order_as_one(n):
    """The two fills (front over the first half of the domain, back over the second) meet exactly, for
    n at, just above and between powers of two."""
    from concurrent.futures import ThreadPoolExecutor

    one = epoch_order(1, 0, n)
    with ThreadPoolExecutor(max_workers=1) as pool:
        two = epoch_order(1, 0, n, pool=pool)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(np.sort(one), np.arange(n))


def test_the_feistel_order_is_the_permutations_values_below_n_in_order():
    """The order over n rows is the one over 2^m rows with the values >= n left out (the definition)."""
    keys = np.array([11, 22, 33, 44], dtype=np.uint64)
    n = (1 << 16) + 123
    whole = feistel_order(keys, 1 << 17)
    np.testing.assert_array_equal(feistel_order(keys, n), whole[whole < n])
    np.testing.assert_array_equal(np.sort(whole), np.arange(1 << 17))
    assert (feistel_order(keys, n) != feistel_order(keys + np.uint64(1), n)).mean() > 0.99  # every key counts


def test_orders_repeat_for_a_seed_and_differ_across_epochs_and_seeds():
    n = 2 * SHUFFLE_ROWS + 5
    a = epoch_order(7, 0, n)
    np.testing.assert_array_equal(a, epoch_order(7, 0, n))
    for other in (epoch_order(7, 1, n), epoch_order(8, 0, n)):
        assert (a != other).mean() > 0.99  # a random pair of permutations shares ~1 fixed point


@pytest.mark.parametrize("start", [0, 2])
def test_the_prefetching_iterator_yields_epoch_order(start):
    n = SHUFFLE_ROWS + 3
    got = list(iter_epoch_orders(4, n, 5, start=start))
    assert len(got) == 5 - start
    for epoch, order in enumerate(got, start=start):
        np.testing.assert_array_equal(order, epoch_order(4, epoch, n))
    assert list(iter_epoch_orders(4, n, 0)) == []
    # recycled arrays: each order is right while it is the current one
    for epoch, order in enumerate(iter_epoch_orders(4, n, 5, start=start, recycle=True), start=start):
        np.testing.assert_array_equal(order, epoch_order(4, epoch, n))


def _fisher_yates(i: int, n: int) -> np.ndarray:
    """The numba Fisher–Yates of orders up to SHUFFLE_ROWS rows, with the i-th of a family of keys."""
    key = np.random.SeedSequence([12345, i]).generate_state(2, np.uint64)[1]
    order = np.arange(n, dtype=np.int32)
    _shuffle_kernels.shuffle_buckets(key, np.array([0, n], dtype=np.int64), order, 0, 1)
    return order


@pytest.mark.parametrize("n", [4, 5])
def test_every_permutation_is_equally_likely(n):
    """Counts of all n! arrangements over many shuffles, against the uniform law (chi-square)."""
    draws = 200 * math.factorial(n)
    index = {p: k for k, p in enumerate(itertools.permutations(range(n)))}
    counts = np.zeros(len(index))
    for i in range(draws):
        counts[index[tuple(_fisher_yates(i, n).tolist())]] += 1
    assert stats.chisquare(counts).pvalue > P_MIN


def test_positions_are_uniform_at_scale():
    """Where do the examples of each tenth of the data land? Uniformly over the tenths of the epoch."""
    n, epochs = (1 << 20) + SHUFFLE_ROWS + 1000, 2  # the Feistel order on a domain of 2²¹
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


@pytest.mark.parametrize("n", [100_003, (1 << 20) + 1])
def test_neighbours_in_the_order_are_independent(n):
    """A batch is a random sample: where the example at position k comes from (which tenth of the data, and
    its index mod 16, the low bits the Feistel rounds start from) says nothing about position k + 1's."""
    order = epoch_order(3, 0, n).astype(np.int64)
    for cell in (order * 10 // n, order % 16):
        table = np.zeros((cell.max() + 1,) * 2)
        np.add.at(table, (cell[:-1], cell[1:]), 1)
        assert stats.chi2_contingency(table).pvalue > P_MIN
    # and a batch of 10 spreads like 10 draws without replacement: the variance of its mean index
    means = order[: n // 10 * 10].reshape(-1, 10).mean(axis=1)
    expected_var = (n * n - 1) / 12 / 10 * (n - 10) / (n - 1)
    ratio = means.var() / expected_var
    assert abs(ratio - 1) < 6 * math.sqrt(2 / len(means))  # six standard errors of a sample variance


def test_an_int64_order_holds_the_same_indices():
    """Above 2³¹ rows the order is int64 (index_dtype); the kernel writes either width the same."""
    keys = np.array([5, 6, 7, 8], dtype=np.uint64)
    n = SHUFFLE_ROWS + 99
    wide = feistel_order(keys, n, out=np.empty(n, dtype=np.int64))
    np.testing.assert_array_equal(wide, feistel_order(keys, n))
    assert wide.dtype == np.int64
