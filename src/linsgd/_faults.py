"""Test-only fault injection. Every hook is inert unless its ``LINSGD_TEST_*`` variable is set.

Used by the fault tests (tests/test_faults.py, tests/test_hostile.py) to make a real fault happen at a
known point of the run, never after a sleep that guesses how far the run has got:

* ``LINSGD_TEST_KILL_AT_SYNC=RANK:K`` — rank RANK sends itself SIGKILL before its K-th parameter sync
  (1-based), in the first attempt of a torchrun job only (``TORCHELASTIC_RESTART_COUNT`` 0 or unset).
* ``LINSGD_TEST_HANG_AT_SYNC=RANK:K`` — rank RANK sleeps for an hour before its K-th sync (a hung rank).
* ``LINSGD_TEST_AT=POINT:K:ACTION`` — at the K-th time (1-based) this process reaches POINT (see
  :data:`POINTS`), do ACTION: ``kill`` (SIGKILL itself), ``term`` or ``int`` (send itself SIGTERM or
  SIGINT and go on), or ``handshake=DIR`` (create ``DIR/ready``, then wait for ``DIR/go`` to exist, at most
  :data:`HANDSHAKE_S` seconds: the test changes the machine meanwhile, e.g. remounts a folder read-only).
"""

from __future__ import annotations

import os
import signal
import time

POINTS = {
    "checkpoint-written": "a checkpoint's temporary file is complete and closed, not yet renamed",
    "checkpoint-saved": "a checkpoint is under its final name and no file of the run is open for writing",
    "compile": "numba starts compiling a function in the main thread (the compiler lock is held)",
}
HANDSHAKE_S = 120.0
_reached: dict[str, int] = {}


def reached(point: str) -> None:
    """Count one more arrival at ``point`` and act when ``LINSGD_TEST_AT`` names this arrival."""
    spec = os.environ.get("LINSGD_TEST_AT")
    if not spec:
        return
    count = _reached[point] = _reached.get(point, 0) + 1
    where, k, action = spec.split(":", 2)
    if where != point or int(k) != count:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action in ("term", "int"):
        os.kill(os.getpid(), signal.SIGTERM if action == "term" else signal.SIGINT)
    elif action.startswith("handshake="):
        folder = action.removeprefix("handshake=")
        open(os.path.join(folder, "ready"), "w").close()
        deadline = time.monotonic() + HANDSHAKE_S
        while not os.path.exists(os.path.join(folder, "go")) and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        raise ValueError(f"LINSGD_TEST_AT={spec}: unknown action {action!r}")


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
