"""Test-only fault injection. Every hook is inert unless its ``LINSGD_TEST_*`` variable is set.

Used by the fault tests (tests/test_faults.py) to make a real fault happen at a chosen point:

* ``LINSGD_TEST_SLOW_CHECKPOINT=SECONDS`` — sleep after a checkpoint's temporary file is written and
  before it is renamed to its final name (widens the window in which a SIGKILL hits a write).
* ``LINSGD_TEST_KILL_AT_SYNC=RANK:K`` — rank RANK sends itself SIGKILL before its K-th parameter sync
  (1-based), in the first attempt of a torchrun job only (``TORCHELASTIC_RESTART_COUNT`` 0 or unset).
* ``LINSGD_TEST_HANG_AT_SYNC=RANK:K`` — rank RANK sleeps for an hour before its K-th sync (a hung rank).
"""

from __future__ import annotations

import os
import signal
import time


def pause(var: str) -> None:
    """Sleep ``float($var)`` seconds when the variable is set."""
    seconds = os.environ.get(var)
    if seconds:
        time.sleep(float(seconds))


def before_sync(rank: int, count: int) -> None:
    """Kill or hang this process before its ``count``-th sync when a test asks for it."""
    if _hits("LINSGD_TEST_KILL_AT_SYNC", rank, count) and os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0":
        os.kill(os.getpid(), signal.SIGKILL)
    if _hits("LINSGD_TEST_HANG_AT_SYNC", rank, count):
        time.sleep(3600)


def _hits(var: str, rank: int, count: int) -> bool:
    spec = os.environ.get(var)
    if not spec:
        return False
    r, k = (int(v) for v in spec.split(":"))
    return r == rank and k == count
