"""Run torchrun on loopback from tests: a free port, a bounded time, the output captured."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_cmd(nproc: int, *args: str, extra: tuple[str, ...] = (), nnodes: int = 1,
                 port: int | None = None) -> list[str]:
    """The torchrun command line on 127.0.0.1 (c10d rendezvous) with ``nproc`` processes per node."""
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(nnodes), "--nproc-per-node", str(nproc),
            "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port or free_port()}", *extra,
            *map(str, args)]


def torchrun(nproc: int, *args: str, timeout: float = 180, extra: tuple[str, ...] = (),
             env: dict | None = None) -> subprocess.CompletedProcess:
    """``torchrun --standalone``-like launch on 127.0.0.1 with ``nproc`` processes; returns the result."""
    proc = subprocess.Popen(torchrun_cmd(nproc, *args, extra=extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its workers: leave no process behind
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
