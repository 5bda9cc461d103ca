"""`linsgd demo` away from its defaults: what it says is true, its pictures repeat byte for byte and no
legend hides a data point."""

from __future__ import annotations

import re

import numpy as np
import pytest

from linsgd import plots
from linsgd.cli import build_parser


def points_under_legends(fig) -> int:
    """How many plotted points (every line's vertices, in display coordinates) fall inside a legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [leg.get_window_extent(renderer) for leg in fig.legends]
    boxes += [ax.get_legend().get_window_extent(renderer) for ax in fig.axes if ax.get_legend() is not None]
    hidden = 0
    for ax in fig.axes:
        for line in ax.get_lines():
            xy = np.column_stack(line.get_data()).astype(float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if not len(xy) or line.get_transform() is not ax.transData:
                continue
            pts = ax.transData.transform(xy)
            inside = ax.bbox
            pts = pts[(pts[:, 0] >= inside.x0) & (pts[:, 0] <= inside.x1) & (pts[:, 1] >= inside.y0)
                      & (pts[:, 1] <= inside.y1)]
            for box in boxes:
                hidden += int(np.sum((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0)
                                     & (pts[:, 1] <= box.y1)))
    return hidden


@pytest.fixture
def drawn(monkeypatch):
    """Draw in this process; returns {file name: points under a legend} of every figure saved."""
    found: dict[str, int] = {}
    save = plots.save

    def check_then_save(fig, path):
        plots.lay_out(fig)
        found[path.name] = points_under_legends(fig)
        save(fig, path)

    monkeypatch.setattr(plots.Painter, "_fork", lambda self: None)
    monkeypatch.setattr(plots, "save", check_then_save)
    return found


def test_the_check_sees_a_legend_over_data():
    fig, ax = plots.figure()
    ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50), label="a diagonal line")
    ax.legend(loc="center")
    plots.lay_out(fig)
    assert points_under_legends(fig) > 0


@pytest.mark.parametrize("flags", [
    [], ["--batch-size", "5000"], ["--num-examples", "1"], ["--lr", "3"], ["--lr", "2"],
    ["--compare", "init-std=0,0.01,1000"], ["--compare", "epochs=1,3,10"], ["--compare", "batch-size=1,10,100,1000"],
    ["--compare", "lr=0.003,0.03,0.3,3"],
])
def test_no_legend_covers_a_data_point(cli, drawn, tmp_path, flags):
    cli("demo", "--seed", "1", "--out", tmp_path, *flags)
    assert drawn and all(v == 0 for v in drawn.values()), drawn


def test_the_same_seed_writes_the_same_bytes(cli, tmp_path):
    for k in (1, 2):
        assert cli("demo", "--seed", "3", "--html", "--out", tmp_path / f"a{k}")[0] == 0
        assert cli("demo", "--seed", "3", "--out", tmp_path / f"a{k}", "--compare", "init-std=0,0.01")[0] == 0
    names = sorted(p.name for p in (tmp_path / "a1").iterdir())
    assert names == ["compare-init-std.png", "explorer.html", "loss.png", "scatter.png", "trajectory.png"]
    for name in names:
        assert (tmp_path / "a1" / name).read_bytes() == (tmp_path / "a2" / name).read_bytes(), name
    cli("demo", "--seed", "4", "--out", tmp_path / "b")
    assert (tmp_path / "b" / "loss.png").read_bytes() != (tmp_path / "a1" / "loss.png").read_bytes()


def test_epochs_auto_runs_and_help_lists_only_flags_it_accepts(cli, tmp_path):
    rc, out, err = cli("demo", "--seed", "1", "--epochs", "auto", "--out", tmp_path)
    assert rc == 0, err
    epochs = re.findall(r"^epoch (\d+), loss", out, re.M)
    assert 3 < len(epochs) < 100 and "note: --epochs auto stops when" in out
    parser = build_parser()
    demo = parser._subparsers._group_actions[0].choices["demo"]
    accepted = {s for a in demo._actions for s in a.option_strings}
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", demo.format_help()))
    assert mentioned <= accepted, mentioned - accepted


def test_edge_cases_are_spoken(cli, tmp_path):
    rc, out, err = cli("demo", "--seed", "1", "--batch-size", "5000", "--out", tmp_path)
    assert "note: --batch-size 5000 is more than the 1000 examples" in out
    rc, out, err = cli("demo", "--seed", "1", "--num-examples", "1", "--out", tmp_path)
    assert "1 example for 3 parameters: the least-squares optimum is not unique" in out
    assert err.startswith("warning: not converged: final loss") and "no unique optimum" in err
    rc, out, err = cli("demo", "--seed", "1", "--solver", "exact", "--out", tmp_path)
    assert "loss of the exact solution" in out and not re.search(r"^epoch \d", out, re.M)
    rc, out, err = cli("demo", "--seed", "1", "--true-w=" + ",".join(["1"] * 100), "--out", tmp_path)
    assert rc == 0 and len(out.splitlines()) < 45 and "..." in out


def test_titles_say_what_ran():
    from linsgd import lesson

    assert lesson.settings(0.03, 5000, 3, 1, n=1000) == "lr 0.03 · batch 1000 (all; asked 5000) · 3 epochs · seed 1"
    assert lesson.settings(0.03, 10, 3, 1, n=1000) == "lr 0.03 · batch 10 · 3 epochs · seed 1"
    assert lesson.settings(0.03, 10, 3, 1, "exact") == "exact least squares (no lr, batches or epochs) · seed 1"


def test_a_diverging_demo_suggests_half_the_mean_square_limit(cli, tmp_path):
    from linsgd.data.synthetic import make_regression
    from linsgd.sgd.stability import mean_square_limit

    rc, out, err = cli("demo", "--seed", "1", "--lr", "2", "--out", tmp_path)
    X, _ = make_regression(1000, [2, -3.4], 4.2, noise=0.01, seed=1)
    suggested = float(re.search(r"or --lr=([\d.]+) \(a safe step", err).group(1))
    assert rc == 3 and suggested == pytest.approx(mean_square_limit(X, 10) / 2, rel=2e-3)


@pytest.fixture
def figures(monkeypatch):
    """Draw in this process; returns {file name: the figure as saved}."""
    found: dict = {}
    save = plots.save

    def keep_then_save(fig, path):
        save(fig, path)  # lays it out first
        found[path.name] = fig

    monkeypatch.setattr(plots.Painter, "_fork", lambda self: None)
    monkeypatch.setattr(plots, "save", keep_then_save)
    return found


def _lines(ax, starts: str):
    return [line for line in ax.get_lines() if line.get_label().startswith(starts)]


def test_the_two_loss_levels_are_named_for_what_they_are_and_drawn_apart(cli, figures, tmp_path):
    from linsgd.data.synthetic import make_regression
    from linsgd.lstsq.qr import exact

    cli("demo", "--seed", "0", "--out", tmp_path)
    fig = figures["loss.png"]
    whole, close = fig.axes[:2]
    (floor,) = _lines(whole, "σ²/2 = 5e-05: expected loss of the true (w, b) on fresh data")
    (best,) = _lines(whole, "4.85e-05: least-squares optimum's loss on these examples")
    X, y = make_regression(1000, [2, -3.4], 4.2, noise=0.01, seed=0)
    assert best.get_ydata()[0] == pytest.approx(exact(X, y).loss, rel=1e-6)
    assert best.get_ydata()[0] < floor.get_ydata()[0] == 5e-5  # this sample's fit is below σ²/2
    assert floor.get_color() != best.get_color() and floor.get_linestyle() != best.get_linestyle()
    # in the close-up (linear scale) the two lines lie well apart on screen
    levels = [line.get_ydata()[0] for line in close.get_lines()
              if len(line.get_ydata()) == 2 and line.get_ydata()[0] == line.get_ydata()[1]]
    pixels = close.transData.transform([[0, v] for v in sorted(levels)])[:, 1]
    assert len(levels) == 2 and pixels[1] - pixels[0] > 20


def test_a_diverging_comparison_is_drawn_to_its_blow_up(cli, figures, tmp_path):
    rc, out, err = cli("demo", "--seed", "1", "--out", tmp_path, "--compare", "lr=0.03,3")
    step = int(re.search(r"lr=3: .* diverged at step (\d+)", out).group(1))
    by_step = figures["compare-lr.png"].axes[0]
    (curve,) = _lines(by_step, "lr=3 (diverged at step")
    x, loss = curve.get_data()
    assert x[-1] == step - 1 and loss[-1] > 1e30  # its last finite step, where the loss had grown
    assert by_step.get_ylim()[1] >= loss[-1]  # the axis is not capped below it
    crosses = [line for line in by_step.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_xdata()[0] == step - 1


def test_curves_end_in_a_marker_and_no_step_axis_is_degenerate(cli, figures, tmp_path):
    cli("demo", "--seed", "1", "--out", tmp_path, "--compare", "epochs=1,3,10")
    ends = [line for line in figures["compare-epochs.png"].axes[0].get_lines() if line.get_marker() == "s"]
    assert sorted(line.get_xdata()[0] for line in ends) == [100, 300, 1000]
    cli("demo", "--seed", "1", "--out", tmp_path, "--epochs", "0")
    ax = figures["loss.png"].axes[0]
    assert ax.get_xlim() == (-0.5, 0.5) and [t.get_text() for t in ax.get_xticklabels()] == ["0"]
    assert ax.get_title() == "no steps: the initial parameters' loss"


def test_lesson_draw_pictures_a_learners_own_history(tmp_path):
    from linsgd import lesson
    from linsgd.data.synthetic import make_regression

    X, y = make_regression(100, [2, -3.4], 4.2, noise=0.01, seed=0)
    w, b, ws, bs = np.zeros(2), 0.0, [np.zeros((2, 1))], [np.zeros(1)]
    for k in range(0, 100, 10):  # the learner's loop: batches in order, lr 0.1
        r = X[k:k + 10] @ w + b - y[k:k + 10]
        w, b = w - 0.1 * X[k:k + 10].T @ r / 10, b - 0.1 * r.mean()
        ws.append(w.reshape(2, 1)), bs.append(np.array([b]))
    paths = lesson.draw(X, y.reshape(-1, 1), ws, bs, tmp_path / "pics", noise=0.01, settings="mine")
    assert [p.name for p in paths] == ["scatter.png", "loss.png", "trajectory.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    with pytest.raises(ValueError, match="w_history"):
        lesson.draw(X, y, ws, bs[:-1], tmp_path / "pics")


def test_lesson_draw_computes_the_full_data_loss_of_each_point(figures, tmp_path):
    from linsgd import lesson
    from linsgd.data.synthetic import make_regression

    X, y = make_regression(50, [1.0, 2.0], 0.5, noise=0.1, seed=0)
    ws = [np.zeros(2), np.array([0.5, 1.0]), np.array([1.0, 2.0])]
    bs = [0.0, 0.25, 0.5]
    lesson.draw(X, y, ws, bs, tmp_path)
    (curve,) = _lines(figures["loss.png"].axes[0], "loss on all examples")
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    expected = [0.5 * np.mean((X64 @ w + b - y64) ** 2) for w, b in zip(ws, bs, strict=True)]
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-12)


def test_paths_far_apart_in_scale_get_a_close_up(cli, figures, tmp_path):
    cli("demo", "--seed", "1", "--out", tmp_path, "--compare", "init-std=0,0.01,1000")
    axes = figures["compare-init-std.png"].axes
    assert len(axes) == 4 and axes[3].get_title() == "close-up around the optimum"
    assert np.ptp(axes[2].get_xlim()) > 500 and np.ptp(axes[3].get_xlim()) < 10  # the near paths fill it
    cli("demo", "--seed", "1", "--out", tmp_path, "--compare", "init-std=0,0.01")
    assert len(figures["compare-init-std.png"].axes) == 3  # no close-up needed
    cli("demo", "--seed", "1", "--out", tmp_path)
    assert figures["scatter.png"].axes[0].get_xlabel() == "features[:, 1] (0-based; its weight is w₂)"


def test_the_notebooks_sliders_redraw_linsgds_own_run():
    from linsgd import lesson
    from linsgd.config import TrainConfig
    from linsgd.data.synthetic import make_regression
    from linsgd.sgd.trace import trace

    X, y = make_regression(200, [2, -3.4], 4.2, noise=0.01, seed=0)
    fig = lesson.explore(X, y, lr=0.1, batch_size=20, seed=2)
    t = trace(X, y, TrainConfig(lr=0.1, epochs=3, batch_size=20, seed=2, init_std=0.01, solver="sgd", average=False))
    loss, path = fig.axes[0].get_lines()[0], fig.axes[1].get_lines()[0]
    np.testing.assert_allclose(loss.get_ydata(), t.loss) and np.testing.assert_allclose(path.get_xdata(), t.w[:, 0])
    other = lesson.explore(X, y, lr=0.3, batch_size=20, seed=2).axes[1].get_lines()[0]
    assert not np.allclose(other.get_xdata()[:5], path.get_xdata()[:5])  # another lr, another path
    assert lesson.explore(X, y, lr=3.0).axes[0].get_title().startswith("diverged at step")
    w = pytest.importorskip("ipywidgets")
    box = lesson.sliders(X, y)
    assert isinstance(box, w.interactive) and [c.description for c in box.children[:4]] == [
        "lr", "batch_size", "init_std", "seed"]
