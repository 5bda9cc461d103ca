"""Two-core work splitting for kernels that release the GIL: one shared helper thread, created on first use.

The machines linsgd targets have few cores; a kernel pass over all rows (a full-data loss, packing rows,
an input check) is split in two halves, one on the calling thread and one on the helper thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

# Below this many rows a pass takes less than starting the other half costs (~50 µs).
MIN_SPLIT_ROWS = 1 << 16

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_here = threading.local()  # .serial: this thread runs both halves itself (one_core)


def _helper() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linsgd-half")
        return _pool


def _forget_helper() -> None:
    """In a forked child: the helper thread did not come along, so a new one is made on first use."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


def available_cores() -> int:
    """The cores this process may run on: the size of its affinity mask where the OS has one (a container's
    or ``taskset``'s limit), else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def in_halves(work: Callable[[int, int], object], n: int, *, pool: Executor | None = None,
              min_split: int = MIN_SPLIT_ROWS) -> list:
    """``[work(0, h), work(h, n)]`` with h = n // 2: the second half on ``pool`` (default: the shared
    helper thread), the first here.

    ``work`` must release the GIL to gain anything (numba ``nogil`` kernels, large numpy reductions);
    below ``min_split`` items it runs once, here: ``[work(0, n)]``.
    """
    if n < max(2, min_split):
        return [work(0, n)]
    h = n // 2
    if getattr(_here, "serial", False):  # one_core(): the same halves, one after the other, on this thread
        return [work(0, h), work(h, n)]
    future = (pool or _helper()).submit(work, h, n)
    first = work(0, h)
    return [first, future.result()]


@contextmanager
def one_core() -> Iterator[None]:
    """Within it, :func:`in_halves` called from this thread runs both halves here, one after the other: the
    same halves, so the same result, on one core (for work done beside threads that hold the others)."""
    before = getattr(_here, "serial", False)
    _here.serial = True
    try:
        yield
    finally:
        _here.serial = before
