"""Waiting for a forked child on an event (its exit, seen through a pidfd) and never longer than a timeout."""

from __future__ import annotations

import os
import select
import signal

import pytest


def wait_child(pid: int, timeout: float, what: str = "the forked child") -> int:
    """The wait status of child ``pid`` once it ends; past ``timeout`` seconds it is killed (SIGKILL), reaped,
    and the test fails naming ``what``."""
    fd = os.pidfd_open(pid)
    try:
        ended = select.select([fd], [], [], timeout)[0]
    finally:
        os.close(fd)
    if not ended:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"{what} ran past {timeout} s and was killed")
    return os.waitpid(pid, 0)[1]
