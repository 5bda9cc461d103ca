"""The two-core split: each half once, and a forked child that still gets its second half done."""

from __future__ import annotations

import os

import numpy as np
import pytest
from support.children import wait_child

from linsgd._parallel import MIN_SPLIT_ROWS, in_halves


@pytest.mark.parametrize("n", [0, 1, MIN_SPLIT_ROWS - 1, MIN_SPLIT_ROWS, 2 * MIN_SPLIT_ROWS + 7])
def test_every_row_is_in_exactly_one_half(n):
    seen = np.zeros(n, dtype=int)

    def work(i0, i1):
        seen[i0:i1] += 1
        return i1 - i0

    parts = in_halves(work, n)
    assert sum(parts) == n and (seen == 1).all()
    assert len(parts) == (2 if n >= MIN_SPLIT_ROWS else 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_makes_its_own_helper_thread():
    """The parent's helper thread does not survive a fork; the child must not wait for it forever."""
    in_halves(lambda i0, i1: i1 - i0, 2 * MIN_SPLIT_ROWS)  # the parent's helper thread exists now
    pid = os.fork()
    if pid == 0:  # child: exit 0 only if both halves ran
        try:
            ok = sum(in_halves(lambda i0, i1: i1 - i0, 2 * MIN_SPLIT_ROWS)) == 2 * MIN_SPLIT_ROWS
        finally:
            os._exit(0 if ok else 1)
    status = wait_child(pid, 10, "the forked child, waiting for the parent's helper thread,")
    assert os.waitstatus_to_exitcode(status) == 0
