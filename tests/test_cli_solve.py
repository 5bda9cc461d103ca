"""The training flags --lr auto and --solver exact on the command line (through `linsgd demo`)."""

from __future__ import annotations

import re
import subprocess
import sys


def linsgd(*args):
    return subprocess.run([sys.executable, "-m", "linsgd", *args], capture_output=True, text=True, timeout=300)


def test_lr_auto_and_solver_exact_flags(tmp_path):
    auto = linsgd("demo", "--seed", "2", "--lr", "auto", "--out", str(tmp_path))
    assert auto.returncode == 0, auto.stderr
    losses = [float(v) for v in re.findall(r"^epoch \d+, loss (\S+)$", auto.stdout, re.M)]
    assert len(losses) == 3 and losses[-1] < 5.6e-5
    exact = linsgd("demo", "--seed", "2", "--solver", "exact", "--out", str(tmp_path))
    assert exact.returncode == 0, exact.stderr
    assert not re.search(r"^epoch ", exact.stdout, re.M)  # the exact solver has no epochs
    (optimum,) = [float(v) for v in re.findall(r"^loss of the exact solution (\S+)$", exact.stdout, re.M)]
    assert optimum <= losses[-1] and 4e-5 < optimum < 5.6e-5  # σ²/2 = 5e-5


def test_bad_lr_and_solver_flags_exit_2():
    for flags in (["--lr", "fast"], ["--solver", "newton"]):
        proc = linsgd("demo", *flags)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and flags[0] in proc.stderr
