"""No library warning reaches the user raw: each is one line naming its category and package, and the
pictures of a degenerate run (one row, a loss of exactly 0) raise none at all."""

from __future__ import annotations

import subprocess
import sys

from linsgd.cli import _one_line_warning


def test_a_one_row_file_trains_with_nothing_but_linsgd_lines_on_stderr(tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("x1,y\n1,2\n")
    cmd = [sys.executable, "-W", "always", "-m", "linsgd", "train", str(data), "--target", "y", "--out",
           str(tmp_path / "run"), "--quiet", "--seed", 0, "--plots"]
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "site-packages" not in proc.stderr, proc.stderr
    # linsgd's own lines only; its advice never names the exact solver that found no unique solution here
    assert all(line.startswith(("linsgd train: ", "warning: not converged: ")) for line in proc.stderr.splitlines()), \
        proc.stderr
    assert "--solver exact" not in proc.stderr
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0  # drawn, on a linear axis


def test_a_library_warning_is_one_line_naming_its_category_and_package(capsys):
    show = _one_line_warning("train")
    show(UserWarning("Attempting to set identical low and high xlims\nmakes a singular transformation"),
         UserWarning, "/usr/lib/python3/site-packages/matplotlib/axes/_base.py", 3700)
    show(RuntimeWarning("overflow"), RuntimeWarning, "/x/dist-packages/numpy/core/_methods.py", 1)
    show(UserWarning("plain"), UserWarning, "script.py", 1)
    assert capsys.readouterr().err == (
        "linsgd train: warning: Attempting to set identical low and high xlims makes a singular transformation "
        "(UserWarning from matplotlib)\n"
        "linsgd train: warning: overflow (RuntimeWarning from numpy)\n"
        "linsgd train: warning: plain (UserWarning)\n")
