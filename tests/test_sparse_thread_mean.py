"""The sparse threads' mean of their parameters in one pass: the same numbers, bit for bit, as the threads' combine
(the rule of ranks, :func:`linsgd.engines.threaded.combine`), and that combine itself where it does more."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.engines.base import EpochOutcome
from linsgd.engines.sparse_threads import mean_of
from linsgd.engines.threaded import combine


def _outs(dtype, n, seed=0, d=1001):
    rng = np.random.default_rng(seed)
    outs = []
    for _ in range(n):
        w = rng.standard_normal(d) * 10.0 ** rng.integers(-30, 30, d)
        w[:3] = [0.0, -0.0, 3e38]
        outs.append(EpochOutcome(w.astype(dtype), float(rng.standard_normal())))
    return outs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("examples", [[500_001, 500_000], [7, 0], [3, 5, 11]])
def test_the_one_pass_mean_is_the_combine_bit_for_bit(dtype, examples):
    outs = _outs(dtype, len(examples))
    w0 = np.zeros(len(outs[0].w), dtype=dtype)
    mine, theirs = mean_of(outs, examples, w0, 0.0, None), combine(outs, examples, w0, 0.0, None)
    assert mine.w.dtype == theirs.w.dtype == np.dtype(dtype)
    assert mine.w.tobytes() == theirs.w.tobytes() and mine.b == theirs.b
    assert mine.avg is None and not mine.diverged_at


def test_divergence_averages_and_no_examples_take_the_combine():
    outs = _outs("float64", 2)
    w0 = np.full(len(outs[0].w), 0.5)
    none = mean_of(outs, [0, 0], w0, 0.25, None)
    np.testing.assert_array_equal(none.w, w0)
    assert none.b == 0.25
    gone = mean_of([outs[0], EpochOutcome(outs[1].w, 1.0, diverged_at=4)], [3, 3], w0, 0.25, None)
    assert gone.diverged_at == 4 and gone.b == 0.25
    averaged = [EpochOutcome(o.w, o.b, avg=(o.w * 0.5, 2.0)) for o in outs]
    mine = mean_of(averaged, [2, 6], w0, 0.0, (w0, 0.0))
    theirs = combine(averaged, [2, 6], w0, 0.0, (w0, 0.0))
    assert mine.w.tobytes() == theirs.w.tobytes() and mine.avg[0].tobytes() == theirs.avg[0].tobytes()
