"""Whole-process wall time: ``python -m linsgd demo`` against a script of the chapter's code."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHAPTER_SCRIPT = Path(__file__).with_name("chapter_script.py")  # the chapter end to end, torch only


@dataclass
class Timing:
    """Median wall seconds of a command over the timed runs, or why it could not be timed."""

    median: float | None
    runs: list[float]
    error: str | None = None


def _time_once(cmd: list[str], env: dict | None, cwd: str) -> tuple[float, str | None]:
    """Wall seconds of one run of ``cmd``, and the last stderr line when it failed."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)  # the plotting script writes there
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or [f"exit {proc.returncode}"]
        return seconds, f"exit {proc.returncode}: {lines[-1][:120]}"
    return seconds, None


def compare(repeats: int, env: dict | None = None) -> dict[str, Timing]:
    """Time the linsgd demo and the chapter script, interleaved, after one untimed warm-up run each.

    The warm-up fills the page cache and lets linsgd write its compiled-kernel cache: the target is about
    a user's second and later runs. Interleaving spreads the noise of a shared machine over both.

    Args:
        repeats: timed runs of each (the median is reported).
        env: environment for the children (e.g. a PYTHONPATH that finds linsgd), None: inherit.
    """
    with tempfile.TemporaryDirectory(prefix="linsgd-bench-") as tmp:
        cmds = {"linsgd demo": [sys.executable, "-m", "linsgd", "demo", "--seed", "0",
                                "--out", str(Path(tmp) / "demo")],
                "chapter script": [sys.executable, str(CHAPTER_SCRIPT)],
                "chapter script + scatter plot": [sys.executable, str(CHAPTER_SCRIPT), "--plot"]}
        runs: dict[str, list[float]] = {name: [] for name in cmds}
        errors: dict[str, str | None] = {}
        for name, cmd in cmds.items():
            errors[name] = _time_once(cmd, env, tmp)[1]
        for _ in range(repeats):
            for name, cmd in cmds.items():
                if errors[name] is None:
                    seconds, errors[name] = _time_once(cmd, env, tmp)
                    runs[name].append(seconds)
    return {name: Timing(statistics.median(runs[name]) if errors[name] is None else None, runs[name],
                         errors[name]) for name in cmds}
