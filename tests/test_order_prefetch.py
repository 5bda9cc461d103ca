"""The prefetching order iterator never joins its thread when it is abandoned (closed by the GC)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

# threading._shutdown_locks_lock is a private CPython name (3.9–3.12 and 3.13's threading.py); where it is
# gone the test cannot hold the lock that the garbage collector may hold, so it is skipped, not wrong.
_PRIVATE_LOCK = hasattr(threading, "_shutdown_locks_lock") and sys.implementation.name == "cpython" \
    and (3, 9) <= sys.version_info[:2] <= (3, 13)


@pytest.mark.skipif(not _PRIVATE_LOCK, reason="needs CPython's private threading._shutdown_locks_lock (3.9-3.13)")
def test_closing_an_abandoned_iterator_does_not_wait_for_its_thread():
    """The garbage collector may close it inside threading's own lock (a new thread registering itself):
    closing must then not join the worker, which needs that lock. Deterministically: close it holding it."""
    code = (
        "import threading\n"
        "from linsgd.data.batching import iter_epoch_orders\n"
        "orders = iter_epoch_orders(0, 50_000, 5)\n"
        "next(orders)  # the worker now prepares epoch 1\n"
        "with threading._shutdown_locks_lock:\n"
        "    orders.close()\n"
        "print('closed')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "closed", proc.stderr
