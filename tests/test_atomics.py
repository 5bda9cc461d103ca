"""The barrier of threads in lockstep (linsgd.engines._atomics): no thread leaves a step before every thread has
arrived, also with more threads than cores and one thread late by far longer than the waiters spin (they sleep,
and are woken)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from numba import njit

from linsgd.engines._atomics import arrive, wait_for


@njit(nogil=True)
def _steps(counter, seen, tid, steps, late_every, late_work):
    """Every step: publish it, pass the barrier, then count the threads not yet at this step (must be none)."""
    threads = seen.shape[0]
    early, x = 0, 1.0
    for step in range(steps):
        if tid == 0 and step % late_every == 0:  # thread 0 late: the others spin, yield, then sleep
            for _ in range(late_work):
                x = x * 1.0000001 + 1e-9
        seen[tid, 0] = step
        arrive(counter)
        wait_for(counter, (step + 1) * threads)
        for t in range(threads):
            if seen[t, 0] < step:
                early += 1
    return early, x


@pytest.mark.parametrize("threads, late_work", [(2, 0), (2, 2_000_000), (4, 200_000)])
def test_no_thread_passes_the_barrier_before_every_thread_arrived(threads, late_work):
    steps = 600
    counter = np.zeros(8, dtype=np.int64)
    seen = np.full((threads, 8), -1, dtype=np.int64)  # a cache line per thread
    results = [None] * threads

    def run(t):
        results[t] = _steps(counter, seen, t, steps, 50, late_work)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    assert [r[0] for r in results] == [0] * threads
    assert counter[0] == threads * steps and counter[1] == 0  # every arrival counted; no sleeper left behind
    assert (seen[:, 0] == steps - 1).all()
