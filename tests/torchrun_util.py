"""Run torchrun on loopback from tests: a free port, a bounded time, the output captured."""

from __future__ import annotations

import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(nproc: int, *args: str, timeout: float = 180, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``torchrun --standalone``-like launch on 127.0.0.1 with ``nproc`` processes; returns the result."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", str(nproc),
           "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{free_port()}", *extra, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
