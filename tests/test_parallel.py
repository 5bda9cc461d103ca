"""The two-core split: each half once, and a forked child that still gets its second half done."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from support.children import wait_child

from linsgd._parallel import MIN_SPLIT_ROWS, in_halves, one_core


@pytest.mark.parametrize("n", [0, 1, MIN_SPLIT_ROWS - 1, MIN_SPLIT_ROWS, 2 * MIN_SPLIT_ROWS + 7])
def test_every_row_is_in_exactly_one_half(n):
    seen = np.zeros(n, dtype=int)

    def work(i0, i1):
        seen[i0:i1] += 1
        return i1 - i0

    parts = in_halves(work, n)
    assert sum(parts) == n and (seen == 1).all()
    assert len(parts) == (2 if n >= MIN_SPLIT_ROWS else 1)


def test_on_one_core_both_halves_run_on_the_calling_thread_with_the_same_split():
    n = 2 * MIN_SPLIT_ROWS + 7
    calls = []

    def work(i0, i1):
        calls.append((i0, i1, threading.get_ident()))
        return i1 - i0

    split = in_halves(work, n)
    assert {t for *_, t in calls} != {threading.get_ident()}  # two threads by default
    calls.clear()
    with one_core():
        assert in_halves(work, n) == split
    assert calls == [(0, n // 2, threading.get_ident()), (n // 2, n, threading.get_ident())]
    calls.clear()
    in_halves(work, n)  # the context ended: two threads again
    assert {t for *_, t in calls} != {threading.get_ident()}


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
