"""Real file-system faults for tests: a shell script run in a private mount namespace (tmpfs, read-only)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

TIMEOUT_S = 120.0


def in_private_mounts(script: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``script`` with ``sh -c`` in a mount namespace of its own; skip the test where that is not allowed.

    The script runs in a process group of its own: past ``timeout`` seconds the whole group (the shell and
    every command it started) is killed and the test fails.
    """
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to make a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"], capture_output=True,
                           timeout=TIMEOUT_S)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount in a private namespace here: {probe.stderr.decode().strip()}")
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the script ran past {timeout} s and was killed: {script}\n{out}\n{err}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
