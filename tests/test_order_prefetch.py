"""The prefetching order iterator never joins its thread when it is abandoned (closed by the GC), and draws the same
orders when each is drawn when asked instead (``ahead=False``)."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from linsgd.data.batching import epoch_order, iter_epoch_orders

# threading._shutdown_locks_lock is a private CPython name (3.9–3.12 and 3.13's threading.py); where it is
# gone the test cannot hold the lock that the garbage collector may hold, so it is skipped, not wrong.
_PRIVATE_LOCK = hasattr(threading, "_shutdown_locks_lock") and sys.implementation.name == "cpython" \
    and (3, 9) <= sys.version_info[:2] <= (3, 13)


@pytest.mark.skipif(not _PRIVATE_LOCK, reason="needs CPython's private threading._shutdown_locks_lock (3.9-3.13)")
@pytest.mark.parametrize("more", ["", ", ahead=False"])
def test_closing_an_abandoned_iterator_does_not_wait_for_its_thread(more):
    """The garbage collector may close it inside threading's own lock (a new thread registering itself):
    closing must then not join the worker, which needs that lock. Deterministically: close it holding it."""
    code = (
        "import threading\n"
        "from linsgd.data.batching import iter_epoch_orders\n"
        f"orders = iter_epoch_orders(0, 50_000, 5{more})\n"
        "next(orders)  # the worker now prepares epoch 1\n"
        "with threading._shutdown_locks_lock:\n"
        "    orders.close()\n"
        "print('closed')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "closed", proc.stderr


@pytest.mark.parametrize("recycle", [False, True])
def test_orders_drawn_when_asked_are_the_ones_prepared_ahead(recycle):
    n = 50_001  # above SMALL_ROWS: threads draw them
    ahead = [o.copy() for o in iter_epoch_orders(7, n, 4, start=1, recycle=recycle)]
    asked = [o.copy() for o in iter_epoch_orders(7, n, 4, start=1, recycle=recycle, ahead=False)]
    assert len(asked) == len(ahead) == 3
    for a, b, epoch in zip(asked, ahead, range(1, 4), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, epoch_order(7, epoch, n))
