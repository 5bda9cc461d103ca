"""Cutting an epoch into pieces at sync/checkpoint steps changes nothing but where the loop stops."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.sgd.segments import cut


def _runs(sizes):
    start = 0
    for m in sizes:
        yield None, None, np.arange(start, start + m), None
        start += m


@pytest.mark.parametrize("sizes,every,start", [([23], 2, 0), ([20, 10, 3], 3, 0), ([20, 10, 3], 3, 6),
                                               ([20, 10, 3], None, 0), ([20, 10, 3], 1, 5), ([5], 4, 0)])
def test_pieces_partition_the_epoch_after_start_and_end_at_multiples_of_every(sizes, every, start):
    B = 5
    pieces = list(cut(_runs(sizes), B, every, start))
    np.testing.assert_array_equal(np.concatenate([p.idx for p in pieces]), np.arange(start * B, sum(sizes)))
    steps = [p.first for p in pieces] + [pieces[-1].end]
    assert steps[0] == start and all(a < b for a, b in zip(steps, steps[1:], strict=False))
    for p in pieces:
        assert -(-len(p.idx) // B) == p.end - p.first
        assert p.boundary == (every is not None and p.end % every == 0)
        if every is not None:  # a piece never crosses a multiple of every
            assert p.first // every == (p.end - 1) // every
