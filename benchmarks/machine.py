"""The machine a benchmark ran on, and its streaming-read bandwidth measured in the same run."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ["numpy", "torch", "scikit-learn", "jax", "jaxlib", "numba", "linsgd"]


def _cpuinfo() -> tuple[str, str]:
    """(CPU model name, physical cores per socket) from /proc/cpuinfo, "?" where unknown."""
    model, cores = "?", "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "?":
                model = value.strip()
            elif key.strip() == "cpu cores" and cores == "?":
                cores = value.strip()
    except OSError:
        pass
    return model, cores


def _ram_gib() -> str:
    """Total RAM in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "?"


def _version(package: str) -> str:
    """The installed version of ``package`` without importing it ("not installed" when absent)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit(repo: Path) -> str:
    """Short commit of ``repo`` plus "+dirty" when the work tree has changes."""
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def describe(repo: Path) -> list[str]:
    """Markdown bullet lines describing the machine and the software versions."""
    model, cores = _cpuinfo()
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    return [
        f"- CPU: {model} — {os.cpu_count()} logical CPUs ({cores} cores per socket reported)",
        f"- RAM: {_ram_gib()}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- linsgd commit: {_git_commit(repo)}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
    ]


def _best_of(fn, a: np.ndarray, repeats: int) -> float:
    """Best GB/s of ``fn(a)`` over ``repeats`` calls (best: the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(a)
        best = min(best, time.perf_counter() - t0)
    return a.nbytes / best / 1e9


def _numba_sum(parallel: bool):
    """A numba float32 sum (over all cores when ``parallel``), or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(parallel=parallel, fastmath=True)
    def total(a):
        s = np.float32(0.0)
        for i in numba.prange(a.size):
            s += a[i]
        return s

    return total


def bandwidth(gigabytes: float, repeats: int = 3) -> dict[str, float]:
    """Streaming-read bandwidth in GB/s: "numpy" (one thread, ``a.sum()``), "numba 1 core" and "numba
    all cores" (a compiled float32 sum, serial and over every core).

    Args:
        gigabytes: size of the float32 array read; well above the caches (1–2 GB).
        repeats: best of this many reads.
    """
    a = np.ones(int(gigabytes * 1e9) // 4, dtype=np.float32)  # written once, so its pages are real
    result = {"numpy": _best_of(np.sum, a, repeats)}
    for name, parallel in (("numba 1 core", False), ("numba all cores", True)):
        fn = _numba_sum(parallel)
        if fn is not None:
            fn(a[:1024])  # compile off the clock
            result[name] = _best_of(fn, a, repeats)
    return result


def one_core(bandwidth: dict[str, float]) -> float:
    """The best single-thread read bandwidth of :func:`bandwidth`'s result (GB/s)."""
    return max(v for k, v in bandwidth.items() if k != "numba all cores")
