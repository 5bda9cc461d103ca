"""What ``linsgd demo`` shows a learner: the data and its lines, the loss step by step, the path of SGD.

Each function draws one PNG from plain arrays (they travel to :class:`linsgd.plots.Painter`'s child by
pickle). The loss surface of linear regression is a quadratic bowl, so the contours need no pass over the
data: with H = X̃ᵀX̃/n (X̃ = [X 1], the Hessian of the mean ½-squared loss) and θ* the least-squares
optimum, ``L(θ) = L* + ½ (θ − θ*)ᵀ H (θ − θ*)`` exactly; a picture of two coordinates uses the 2 × 2
block of H for them, the others held at their optimum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from linsgd import plots

_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


@dataclass(frozen=True)
class Bowl:
    """The loss surface over two coordinates: their names, the optimum there, its loss and the 2 × 2 H."""

    names: tuple[str, str]
    optimum: np.ndarray
    loss: float
    H: np.ndarray

    def at(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """L(θ) on a grid: ``L* + ½ δᵀHδ`` with δ = (u, v) − optimum."""
        du, dv = u - self.optimum[0], v - self.optimum[1]
        return self.loss + 0.5 * (self.H[0, 0] * du * du + 2 * self.H[0, 1] * du * dv + self.H[1, 1] * dv * dv)


@dataclass(frozen=True)
class Run:
    """One traced run as drawn: its name, steps, losses, seconds, (m, 2) path and the step it blew up."""

    label: str
    steps: np.ndarray
    loss: np.ndarray
    seconds: np.ndarray
    path: np.ndarray
    diverged_step: int | None = None


def data_scatter(x: np.ndarray, y: np.ndarray, path: str | os.PathLike, *, column: int,
                 true_line: tuple[float, float], fitted_line: tuple[float, float] | None, settings: str) -> None:
    """The chapter's look at the data: ``features[:, column]`` against the labels, marker size 1.

    Args:
        x: (n,) the feature column. y: (n,) the labels. path: the PNG. column: its index (in the label).
        true_line, fitted_line: (slope, intercept) of y along this column, the other features at their
            mean 0: (w_j, b) of the true model and of the trained one (None: not drawn).
        settings: the run's settings, the title's second line.
    """
    fig, ax = plots.figure()
    ax.scatter(x, y, s=1, color="tab:blue", label="examples")
    xs = np.array([np.min(x), np.max(x)])
    lines = [(true_line, "true", dict(color="black", lw=1)),
             (fitted_line, "fitted", dict(color="tab:red", ls="--", lw=1.2))]
    for line, name, style in lines:
        if line is not None:
            sign = "+" if line[1] >= 0 else "−"
            ax.plot(xs, line[0] * xs + line[1], label=f"{name}: y = {_num(line[0])}·x {sign} {_num(abs(line[1]))}",
                    **style)
    ax.set(xlabel=f"features[:, {column}]", ylabel="labels")
    ax.set_title(f"the data: y = Xw + b + ε\n{settings}", fontsize=9)
    slope = fitted_line[0] if fitted_line is not None else true_line[0]
    ax.legend(fontsize=7, markerscale=4, loc="upper right" if slope < 0 else "upper left")  # the empty corner
    plots.save(fig, path)


def loss_steps(run: Run, path: str | os.PathLike, *, epoch_ends: list[int], floor: float, optimum: float,
               settings: str, title: str = "loss after every step") -> None:
    """The full-data loss from step 0 on (log scale), epoch ends dotted, the noise floor σ²/2 dashed.

    Args:
        run: the traced run. path: the PNG. epoch_ends: global steps where epochs ended.
        floor: σ²/2, the loss of the true parameters on fresh data (not drawn when 0).
        optimum: the least-squares optimum's loss on these examples, the least SGD can reach.
        settings: the run's settings, the title's second line. title: its first line.
    """
    fig, ax = plots.figure()
    ax.plot(run.steps, run.loss, color="tab:blue", lw=1.2, marker="o" if len(run.steps) <= 30 else None,
            ms=3, label="loss on all examples")
    for k, end in enumerate(epoch_ends if len(epoch_ends) <= 50 else []):
        ax.axvline(end, color="gray", lw=0.7, ls=":", label="end of an epoch" if k == 0 else None)
    if floor > 0:
        ax.axhline(floor, color="gray", lw=1, ls="--", label=f"noise floor σ²/2 = {floor:.2g}")
    if optimum > 0:
        ax.axhline(optimum, color="black", lw=1, ls="-.", label=f"least-squares optimum {optimum:.3g}")
    if run.diverged_step is not None:
        ax.plot(run.steps[-1], run.loss[-1], "x", color="red", ms=9, mew=2, label="last finite step")
        title = f"diverged at step {run.diverged_step}"
    ax.set(yscale="log", xlabel=f"step{_sampled(run.steps)}", ylabel="loss: mean of ½(ŷ − y)²")
    _decades(ax.yaxis, [*run.loss, floor, optimum])
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{title}\n{settings}", fontsize=9)
    falling = not run.loss[-1] > run.loss[0]  # the corner the curve leaves empty
    ax.legend(fontsize=7, loc="upper right" if falling else "upper left")
    ax.grid(True, which="major", alpha=0.3)
    plots.save(fig, path)


def trajectory(run: Run, path: str | os.PathLike, *, bowl: Bowl, which: str, settings: str) -> None:
    """The path of two coordinates over the contours of the loss; start, end and the optimum marked.

    Args:
        run: the traced run (``run.path`` holds the two coordinates). path: the PNG.
        bowl: the loss surface over them. which: why these two (the title's first line).
        settings: the run's settings, the title's second line.
    """
    fig, ax = plots.figure((5, 4))
    _paths(ax, [run], bowl, single=True)
    title = which if run.diverged_step is None else f"diverged at step {run.diverged_step}: {which}"
    ax.set_title(f"{title}\n{settings}", fontsize=9)
    plots.save(fig, path)


def comparison(runs: list[Run], path: str | os.PathLike, *, param: str, bowl: Bowl, floor: float,
               settings: str) -> None:
    """Runs that differ in one setting, side by side: loss per step, loss per second, paths over the bowl.

    Args:
        runs: one per value of ``param`` (labels say the value). path: the PNG. bowl: the loss surface of
            the two coordinates drawn. floor: σ²/2 (dashed; not drawn when 0).
        settings: the settings they share, in the title.
    """
    fig, (by_step, by_time, paths) = plots.figure((13, 4.2), ncols=3)
    top = _top([r for r in runs if r.diverged_step is None] or runs)
    for ax, xkey, xlabel in ((by_step, "steps", "step"), (by_time, "seconds", "CPU seconds of training")):
        for run, color in zip(runs, _COLORS * 4, strict=False):
            x = getattr(run, xkey)
            ax.plot(x, run.loss, color=color, lw=1.2, label=_label(run))
            if run.diverged_step is not None:  # mark where the curve leaves the picture, or its last point
                k = int(np.argmax(run.loss > top)) if np.any(run.loss > top) else len(x) - 1
                ax.plot(x[k], min(run.loss[k], top), "x", color="red", ms=9, mew=2, clip_on=False)
        if floor > 0:
            ax.axhline(floor, color="gray", lw=1, ls="--", label=f"noise floor {floor:.2g}")
        ax.axhline(bowl.loss, color="black", lw=1, ls="-.", label=f"optimum {bowl.loss:.3g}")
        ax.set(yscale="log", xlabel=xlabel, ylabel="loss: mean of ½(ŷ − y)²", ylim=(None, top))
        _decades(ax.yaxis, [v for r in runs for v in r.loss[r.loss <= top]] + [floor, bowl.loss])
        ax.grid(True, which="major", alpha=0.3)
    lengths = [max(int(r.steps[-1]), 1) for r in runs]
    if max(lengths) > 20 * min(lengths):  # e.g. batch sizes 1 and 100: 3,000 and 30 steps, both visible
        by_step.set_xscale("symlog", linthresh=1)
        by_step.set_xlim(0, max(lengths) * 1.2)
        by_step.set_xlabel("step (log scale)")
    by_step.legend(fontsize=7)
    blown = any(r.diverged_step is not None for r in runs)
    by_step.set_title("loss after every step" + (" (× where it diverged)" if blown else ""), fontsize=9)
    by_time.set_title("the same, against the compute it took", fontsize=9)
    _paths(paths, runs, bowl, single=False)
    paths.set_title(f"paths of ({bowl.names[0]}, {bowl.names[1]}): ○ start, □ end, × blow-up", fontsize=9)
    fig.suptitle(f"--compare {param}: {settings}", fontsize=10)
    plots.save(fig, path)


def _paths(ax, runs: list[Run], bowl: Bowl, *, single: bool) -> None:
    """Contours of ``bowl`` and every run's path over them, with start, end and optimum marked."""
    lo, hi = _view(runs, bowl.optimum)
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 90), np.linspace(lo[1], hi[1], 90))
    excess = bowl.at(u, v) - bowl.loss
    top = max(float(excess.max()), 1e-300)
    levels = bowl.loss + top * np.geomspace(1e-4, 1.0, 12)
    ax.contour(u, v, bowl.at(u, v), levels=levels, colors="lightgray", linewidths=0.8)
    for run, color in zip(runs, _COLORS * 4, strict=False):
        p, out = _inside(run, lo, hi)
        label = (run.label or "SGD's path") if single else _label(run)
        ax.plot(p[:, 0], p[:, 1], color=color, lw=1, marker="." if len(p) <= 400 else None, ms=3, label=label)
        ax.plot(p[0, 0], p[0, 1], "o", color=color, mfc="white", ms=6, label="start" if single else None)
        if run.diverged_step is None:
            ax.plot(p[-1, 0], p[-1, 1], "s", color=color, mfc="none", ms=9, mew=1.5, zorder=3,
                    label="end" if single else None)
        else:
            where = "leaves the picture" if out else "last finite step"
            ax.plot(p[-1, 0], p[-1, 1], "x", color="red", ms=9, mew=2, zorder=3, clip_on=False,
                    label=f"{where} (blow-up at step {run.diverged_step})" if single else None)
    ax.plot(*bowl.optimum, "*", color="gold", mec="black", ms=13, label="least-squares optimum", zorder=4)
    # equal units on both axes: the bowl's real shape (round for the chapter's independent unit features)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel=bowl.names[0], ylabel=bowl.names[1], aspect="equal")
    ax.legend(fontsize=7, loc=_emptiest_corner([r.path for r in runs] + [bowl.optimum[None]], lo, hi))


def _inside(run: Run, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, bool]:
    """The path to draw: a diverged one up to where it first leaves the box [lo, hi], cut at the edge
    (True then), so its growing zigzag shows and not the lines of its flight to infinity."""
    p = run.path
    outside = ~np.all((p >= lo) & (p <= hi), axis=1)
    if run.diverged_step is None or not outside.any() or not outside.argmax():
        return p, False
    k = int(outside.argmax())
    a, z = p[k - 1], p[k]
    with np.errstate(all="ignore"):  # how far along a → z each edge is crossed; the first crossing wins
        t = np.concatenate([(hi - a) / (z - a), (lo - a) / (z - a)])
    t = float(np.min(t[(t >= 0) & (t <= 1)], initial=1.0))
    return np.vstack([p[:k], a + t * (z - a)]), True


def _label(run: Run) -> str:
    return run.label if run.diverged_step is None else f"{run.label} (diverged at step {run.diverged_step})"


def _emptiest_corner(paths: list[np.ndarray], lo: np.ndarray, hi: np.ndarray) -> str:
    """The corner of the box [lo, hi] farthest from every point drawn (matplotlib's loc="best" measures
    every candidate place against every vertex, each time the layout is computed)."""
    pts = (np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in paths]) - lo) / np.maximum(hi - lo, 1e-300)
    corners = {"lower left": (0, 0), "lower right": (1, 0), "upper left": (0, 1), "upper right": (1, 1)}
    far = {name: float(np.min(np.max(np.abs(pts - c), axis=1), initial=np.inf)) for name, c in corners.items()}
    return max(far, key=far.get)


def _view(runs: list[Run], optimum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axis limits: every point of a finished path and the optimum; of a diverged path, its points within
    3× its start's distance of the optimum (the rest flies off the picture)."""
    kept = [optimum.reshape(1, 2)]
    for run in runs:
        p = run.path[np.all(np.isfinite(run.path), axis=1)]
        if run.diverged_step is not None and len(p):
            reach = 3 * max(float(np.max(np.abs(p[0] - optimum))), 1e-3)
            p = p[np.all(np.abs(p - optimum) <= reach, axis=1)]
        kept.append(p)
    pts = np.concatenate(kept)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.08 * (hi - lo), 0.02 * np.maximum(np.abs(optimum), 1.0))
    lo, hi = lo - pad, hi + pad
    half = (hi - lo).max() / 2  # a square box in data units (drawn with equal aspect)
    mid = (lo + hi) / 2
    return mid - half, mid + half


def _decades(axis, values) -> None:
    """Label a log axis' decades in plain text; without minor ticks when ``values`` span two decades or
    more (a layout engine measures every tick: the 8 minor ticks per decade double a figure's cost,
    ~0.1 s), with them when fewer decades would leave the axis without a label."""
    from matplotlib.ticker import NullLocator

    plots.plain_powers_of_ten(axis)
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() >= 100 * v.min():
        axis.set_minor_locator(NullLocator())


def _num(v: float) -> str:
    """A coefficient for a legend: 4 decimals, or 4 significant digits when large."""
    return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"


def _top(runs: list[Run]) -> float:
    """The upper y limit of the loss panels: 10× the highest finite loss of the given runs."""
    finite = np.concatenate([r.loss[np.isfinite(r.loss)] for r in runs] or [np.ones(1)])
    return 10.0 * float(finite.max()) if finite.size else 10.0


def _sampled(steps: np.ndarray) -> str:
    """`` (every k-th shown)`` when the recorded steps skip some."""
    k = int(np.min(np.diff(steps))) if len(steps) > 2 else 1
    return f" (one point every {k} steps)" if k > 1 else ""
