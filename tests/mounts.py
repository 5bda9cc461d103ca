"""Real file-system faults for tests: a shell script run in a private mount namespace (tmpfs, read-only)."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def in_private_mounts(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` with ``sh -c`` in a mount namespace of its own; skip the test where that is not allowed."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to make a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount in a private namespace here: {probe.stderr.decode().strip()}")
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
