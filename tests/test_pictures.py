"""What `linsgd demo` shows and says: readable pictures for any flags, honest endings, --compare."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from linsgd import lesson, plots
from linsgd.data.synthetic import make_regression

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def outside(fig) -> list[str]:
    """The texts of ``fig`` (tick labels, axis labels, titles, legends) that stick out of the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    bad = []
    for ax in fig.axes:
        texts = [ax.xaxis.label, ax.yaxis.label, ax.title]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            texts += [t.label1 for t in axis.get_major_ticks() if lo <= t.get_loc() <= hi]
        extents = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text()]
        if ax.get_legend() is not None:
            extents.append(("legend", ax.get_legend().get_window_extent(renderer)))
        for text, e in extents:
            if e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or e.y1 > box.y1 + 0.5:
                bad.append(text)
    return bad


@pytest.fixture
def checked(monkeypatch):
    """Draw in this process and check every figure before it is saved; returns {file name: bad texts}."""
    found: dict[str, list[str]] = {}
    save = plots.save

    def check_then_save(fig, path):
        plots.lay_out(fig)  # what save does first
        found[path.name if hasattr(path, "name") else str(path)] = outside(fig)
        save(fig, path)

    monkeypatch.setattr(plots.Painter, "_fork", lambda self: None)
    monkeypatch.setattr(plots, "save", check_then_save)
    return found


def test_the_check_finds_a_clipped_label():
    fig, ax = plots.figure()
    fig.set_layout_engine(None)
    fig.subplots_adjust(left=0.0, bottom=0.0)  # no margin: the y tick labels and x label are cut off
    ax.set(xlabel="features[:, 1]", ylabel="labels")
    assert "features[:, 1]" in outside(fig) and "labels" in outside(fig)


@pytest.mark.parametrize("flags,code", [
    ([], 0), (["--batch-size", "1"], 0), (["--lr", "1"], 0), (["--lr", "3"], 3), (["--solver", "exact"], 0),
    (["--epochs", "0"], 0), (["--true-w", "2"], 0), (["--true-w=1,-2,30,4"], 0), (["--num-examples", "1"], 0),
    (["--noise", "0", "--lr", "0.001"], 0), (["--lr", "auto", "--batch-size", "1000"], 0),
    (["--true-w=1e6,-3e6", "--true-b=-1e7", "--num-examples", "3", "--epochs", "50"], 0),
    (["--compare", "batch-size=1,10,100"], 0), (["--compare", "lr=0.003,3", "--true-w", "2"], 0),
])
def test_every_label_lies_inside_its_figure(cli, checked, tmp_path, flags, code):
    rc, out, err = cli("demo", "--seed", "1", "--out", tmp_path, *flags)
    assert rc == code, err
    assert checked and all(bad == [] for bad in checked.values()), checked
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(checked)


def test_the_default_demo_does_not_warn_and_a_slow_lr_does(cli, tmp_path):
    rc, out, err = cli("demo", "--seed", "2", "--out", tmp_path)
    assert rc == 0 and err == ""
    rc, out, err = cli("demo", "--seed", "2", "--lr", "0.001", "--out", tmp_path)
    lines = err.splitlines()
    assert rc == 0 and len(lines) == 1 and lines[0].startswith("warning: not converged: final loss ")
    assert "least-squares optimum" in lines[0] and "--epochs" in lines[0] and "larger --lr" in lines[0]


def test_a_diverging_demo_draws_the_steps_before_it_and_exits_3(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "linsgd", "demo", "--lr", "2", "--seed", "1", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "trajectory.png"]
    assert all((tmp_path / n).read_bytes().startswith(PNG_MAGIC) for n in ("loss.png", "trajectory.png"))
    assert re.findall(r"^epoch (\d+), loss", proc.stdout, re.M) == ["1"]  # the epoch before the blow-up
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "diverged at the end of epoch 2" in err[0] and "try --lr=" in err[0]


def test_compare_prints_one_line_per_value_and_draws_them(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "linsgd", "demo", "--seed", "1", "--out", str(tmp_path),
                           "--compare", "lr=0.003,0.03,0.3,3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("lr=")]
    assert [line.split(":")[0] for line in lines] == ["lr=0.003", "lr=0.03", "lr=0.3", "lr=3"]
    assert lines[0].endswith("not converged (" + lines[0].split("not converged (")[1])
    assert lines[1].endswith(", 300 steps, converged") and "diverged at step" in lines[3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare-lr.png"]
    assert (tmp_path / "compare-lr.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("value", ["lr=abc", "lr=0", "lr=", "speed=1,2", "batch-size=0,10", "epochs=1.5",
                                   "init-std=-1", "lr=1,2,3,4,5,6,7,8,9", "lr"])
def test_bad_compare_values_exit_2_naming_the_flag(cli, tmp_path, value):
    rc, out, err = cli("demo", "--compare", value, "--out", tmp_path / "never")
    assert rc == 2 and out == "" and len(err.splitlines()) == 1 and err.startswith("linsgd demo: error: --compare=")
    assert not (tmp_path / "never").exists()


def test_long_minibatches_print_their_first_rows_and_lr_auto_its_lr(cli, tmp_path):
    rc, out, err = cli("demo", "--seed", "1", "--batch-size", "1000", "--lr", "auto", "--epochs", "1",
                       "--out", tmp_path)
    assert rc == 0
    assert "first minibatch (batch_size=1000): its first 5 of 1000 rows" in out
    assert sum(1 for line in out.splitlines() if line.startswith("     [")) == 4  # X shows 5 rows
    assert re.search(r"^lr auto: chose lr=0\.\d+ for the standardised features$", out, re.M)


def test_the_optimum_is_that_of_solve_exact():
    from linsgd.lstsq.qr import exact

    X, y = make_regression(300, [2, -3.4, 0.5], 4.2, seed=0)
    best, s = lesson.optimum(X, y), exact(X, y)
    np.testing.assert_allclose(best.w, s.w, rtol=1e-9)
    assert best.b == pytest.approx(s.b, rel=1e-9) and best.loss == pytest.approx(s.loss, rel=1e-7)
    assert lesson.optimum(X[:3], y[:3]) is None  # 3 rows, 4 parameters: no unique optimum


def test_which_coordinates_are_drawn():
    assert lesson.coordinates([2.0]) == ([0, 1], "path of (w, b) over the loss")
    assert lesson.coordinates([2.0, -3.4])[0] == [0, 1]
    idx, why = lesson.coordinates([0.1, -5.0, 0.2, 3.0])
    assert idx == [1, 3] and "(w₂, w₄)" in why and "largest |true w|" in why


def test_the_run_folder_pictures_keep_their_labels_inside(checked, tmp_path):
    from linsgd.plots import run as plots_run

    rng = np.random.default_rng(0)
    actual = rng.normal(1e5, 3e4, 500)
    predicted = actual + rng.normal(0, 1e3, 500)
    plots_run.fit(actual, predicted, tmp_path / "fit.png", target="price_in_dollars")
    plots_run.residuals(actual, predicted, tmp_path / "residuals.png", target="price_in_dollars")
    names = [f"feature_with_a_long_name_{j}" for j in range(60)]
    plots_run.coefficients(rng.normal(0, 1, 60), names, tmp_path / "coef.png", b=3.0)
    assert sorted(checked) == ["coef.png", "fit.png", "residuals.png"]
    assert all(bad == [] for bad in checked.values()), checked
