"""Figures drawn by the Painter's child process: the same files, nothing written early, errors come back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from linsgd import plots
from linsgd.errors import StorageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _calls(folder):
    x = np.linspace(-2.0, 2.0, 200)
    return [(plots.scatter, (x, 4.2 - 3.4 * x, folder / "scatter.png"), dict(xlabel="x", ylabel="y", title="t")),
            (plots.loss_curve, ({"train": [0.04, 1.4e-4, 5.1e-5]}, folder / "loss.png"), dict(floor=5e-5))]


def test_the_child_writes_the_same_files_as_this_process(tmp_path):
    (tmp_path / "here").mkdir()
    (tmp_path / "child").mkdir()
    plots.Painter(background=False).draw(_calls(tmp_path / "here"))
    with plots.Painter() as painter:
        assert painter._pid is not None  # really a child (this is Linux)
        painter.draw(_calls(tmp_path / "child"))
    for name in ("scatter.png", "loss.png"):
        data = (tmp_path / "child" / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and data == (tmp_path / "here" / name).read_bytes()


def test_nothing_is_written_without_draw_and_the_child_is_reaped(tmp_path):
    with plots.Painter() as painter:
        pid = painter._pid
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ChildProcessError):  # already waited for: no zombie left
        os.waitpid(pid, os.WNOHANG)


def _fails(path):
    raise ValueError(f"no figure for {path}")


class _Unpicklable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def _fails_unpicklably():
    raise _Unpicklable("locked")


def _dies():
    os._exit(3)


def test_an_error_in_the_child_is_raised_here_with_its_traceback(tmp_path):
    with plots.Painter() as painter, pytest.raises(ValueError, match="no figure for x") as info:
        painter.draw([(_fails, ("x",), {})])
    assert "_fails" in str(info.value.__cause__) and "Traceback" in str(info.value.__cause__)


def test_an_unwritable_figure_is_a_storage_error(tmp_path):
    with plots.Painter() as painter, pytest.raises(StorageError) as info:
        painter.draw([(plots.loss_curve, ({"train": [1.0, 0.5]}, tmp_path / "missing" / "loss.png"), {})])
    assert info.value.exit_code == 4 and "missing" in str(info.value)


def test_an_error_that_does_not_pickle_keeps_its_name_and_message():
    with plots.Painter() as painter, pytest.raises(RuntimeError, match="_Unpicklable: locked"):
        painter.draw([(_fails_unpicklably, (), {})])


def test_a_child_that_dies_is_an_error():
    with plots.Painter() as painter, pytest.raises(RuntimeError, match="without an answer .exit code 3"):
        painter.draw([(_dies, (), {})])


def test_log_axis_decades_are_plain_text_powers_of_ten(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig, ax = plots.figure()
    ax.plot([1, 2, 3], [0.04, 1.4e-4, 5.1e-5])
    ax.set(yscale="log")
    plots.plain_powers_of_ten(ax.yaxis)
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert {"10⁻⁴", "10⁻³", "10⁻²"} <= set(labels) and not any("$" in t for t in labels)


def _demo_with(patch: str, out, *flags) -> subprocess.CompletedProcess:
    """``linsgd demo`` in a fresh process whose ``plots_demo.loss_steps`` is replaced by ``patch``'s ``fail``."""
    code = ("import sys\nfrom linsgd.plots import demo as plots_demo\nfrom linsgd.errors import StorageError\n"
            f"{patch}\nplots_demo.loss_steps = fail\nfrom linsgd.cli import main\n"
            f"sys.exit(main(['demo', '--seed', '1', '--out', {str(out)!r}, *{list(flags)!r}]))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("patch,code,message", [
    ("def fail(*a, **k): raise StorageError('cannot write loss.png: No space left on device')", 4,
     "linsgd demo: error: cannot write loss.png: No space left on device"),
    ("def fail(*a, **k): 1 / 0", 1, "linsgd demo: internal error (please report it; --debug shows the "
                                    "traceback): ZeroDivisionError: division by zero"),
])
def test_demo_reports_a_failed_figure_in_one_line(tmp_path, patch, code, message):
    proc = _demo_with(patch, tmp_path)
    assert proc.returncode == code
    assert proc.stderr.strip().splitlines() == [message]
    assert "wrote" not in proc.stdout and not (tmp_path / "loss.png").exists()


def test_demo_debug_shows_the_childs_traceback(tmp_path):
    proc = _demo_with("def fail(*a, **k): 1 / 0", tmp_path, "--debug")
    assert proc.returncode == 1 and "in fail" in proc.stderr and "ZeroDivisionError" in proc.stderr


def test_a_diverged_demo_draws_only_the_steps_before_it(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "linsgd", "demo", "--lr", "3", "--seed", "0", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    # the loss and the path up to the blow-up; no scatter with a fitted line, no temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "trajectory.png"]


def test_an_error_in_the_second_plotting_process_comes_back_too(tmp_path):
    """With two calls or more the child forks once more per core (this machine has 2): calls[1::2] go there."""
    calls = _calls(tmp_path) + [(_fails, ("the second process",), {})]
    calls = [calls[0], calls[2], calls[1]]
    with plots.Painter() as painter, pytest.raises(ValueError, match="no figure for the second process"):
        painter.draw(calls)
    assert (tmp_path / "scatter.png").exists() and (tmp_path / "loss.png").exists()
