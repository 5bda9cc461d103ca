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

# run colours: not the green and purple of the two loss levels
COLORS = ("tab:blue", "tab:orange", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray")


@dataclass(frozen=True)
class Bowl:
    """The loss surface over two coordinates: their names, the optimum there, its loss and the 2 × 2 H;
    ``label`` names the ★ at ``optimum``."""

    names: tuple[str, str]
    optimum: np.ndarray
    loss: float
    H: np.ndarray
    label: str = "least-squares optimum"

    def at(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """L(θ) on a grid: ``L* + ½ δᵀHδ`` with δ = (u, v) − optimum."""
        du, dv = u - self.optimum[0], v - self.optimum[1]
        return self.loss + 0.5 * (self.H[0, 0] * du * du + 2 * self.H[0, 1] * du * dv + self.H[1, 1] * dv * dv)


@dataclass(frozen=True)
class Run:
    """One traced run as drawn: its name, steps, losses, examples seen, (m, 2) path and the step it blew up."""

    label: str
    steps: np.ndarray
    loss: np.ndarray
    examples: np.ndarray
    path: np.ndarray
    diverged_step: int | None = None


# The two horizontal lines of the loss pictures: different colours and dashes, so they can be told apart
FLOOR_STYLE = dict(color="tab:green", lw=1.2, ls="--")
OPTIMUM_STYLE = dict(color="tab:purple", lw=1.2, ls="-.")


def floor_label(floor: float) -> str:
    return f"σ²/2 = {floor:.3g}: expected loss of the true (w, b) on fresh data"


def optimum_label(optimum: float) -> str:
    return f"{optimum:.3g}: least-squares optimum's loss on these examples (the least training can reach)"


def data_scatter(x: np.ndarray, y: np.ndarray, path: str | os.PathLike, *, column: int,
                 true_line: tuple[float, float] | None, fitted_line: tuple[float, float] | None, settings: str,
                 weight: str = "w") -> None:
    """The chapter's look at the data: ``features[:, column]`` against the labels, marker size 1.

    Args:
        x: (n,) the feature column. y: (n,) the labels. path: the PNG. column: its 0-based index.
        true_line, fitted_line: (slope, intercept) of y along this column, the other features at their
            mean 0: (w_j, b) of the true model and of the trained one (None: not drawn).
        settings: the run's settings, the title's second line. weight: the name of the column's weight.
    """
    fig, ax = plots.figure((5.6, 4.2))
    ax.scatter(x, y, s=1, color="tab:blue", label="examples")
    xs = np.array([np.min(x), np.max(x)])
    lines = [(true_line, "true", dict(color="black", lw=1)),
             (fitted_line, "fitted", dict(color="tab:red", ls="--", lw=1.2))]
    for line, name, style in lines:
        if line is not None:
            sign = "+" if line[1] >= 0 else "−"
            ax.plot(xs, line[0] * xs + line[1], label=f"{name}: y = {_num(line[0])}·x {sign} {_num(abs(line[1]))}",
                    **style)
    ax.set(xlabel=f"features[:, {column}] (0-based; its weight is {weight})", ylabel="labels")
    ax.set_title(f"the data: y = Xw + b + ε\n{settings}", fontsize=9)
    outside_legend(ax, markerscale=4)
    plots.save(fig, path)


def loss_steps(run: Run, path: str | os.PathLike, *, epoch_ends: list[int], floor: float, optimum: float,
               settings: str, title: str = "loss after every step") -> None:
    """The full-data loss from step 0 on (log scale), epoch ends dotted, σ²/2 and the optimum's loss as two
    lines; beside it, a close-up of the last steps on a linear scale, where those two lines part.

    Args:
        run: the traced run. path: the PNG. epoch_ends: global steps where epochs ended.
        floor: σ²/2, the expected loss of the true parameters on fresh data (not drawn when 0); the training
            loss of a fitted model lies below it, since the fit also fits the noise of these examples.
        optimum: the least-squares optimum's loss on these examples, the least training can reach (not
            drawn when 0). settings: the run's settings, the title's second line. title: its first line.
    """
    close = floor > 0 and optimum > 0 and run.diverged_step is None and len(run.steps) > 10
    fig, axes = plots.figure((8, 4.4), ncols=2, width_ratios=[1.5, 1]) if close else plots.figure((6, 4.4))
    ax = axes[0] if close else axes
    ax.plot(run.steps, run.loss, color="tab:blue", lw=1.2, marker="o" if len(run.steps) <= 30 else None,
            ms=3, label="loss on all examples")
    if run.diverged_step is None:
        ax.plot(run.steps[-1], run.loss[-1], "s", color="tab:blue", mfc="none", ms=7, label="last step")
    for k, end in enumerate(epoch_ends if len(epoch_ends) <= 50 else []):
        ax.axvline(end, color="gray", lw=0.7, ls=":", label="end of an epoch" if k == 0 else None)
    levels(ax, floor, optimum)
    if run.diverged_step is not None:
        last = int(run.steps[-1])
        ax.plot(last, run.loss[-1], "x", color="red", ms=9, mew=2,
                label=f"diverged here (step {last}: the loss grew too far)" if last == run.diverged_step
                else f"last finite step ({last}); inf/nan at step {run.diverged_step}")
        title = f"diverged at step {run.diverged_step}"
    if len(run.steps) == 1:
        ax.set_xlim(-0.5, 0.5)
        ax.set_xticks([0])
        title = "no steps: the initial parameters' loss" if not title.startswith("the exact") else title
    ax.set(yscale="log", xlabel=f"step{_sampled(run.steps)}", ylabel="loss: mean of ½(ŷ − y)²")
    shown = [v for v in (*run.loss, floor, optimum) if v > 0 and np.isfinite(v)]
    ax.set_ylim(min(shown) / 3, max(shown) * 3)  # the two levels stay in the picture, however far above
    decades(ax.yaxis, shown)
    if len(run.steps) > 1:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=9)
    fig.suptitle(settings, fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    if close:
        _close_up(axes[1], run, floor, optimum)
    outside_legend(ax)
    plots.save(fig, path)


def levels(ax, floor: float, optimum: float) -> None:
    """σ²/2 and the optimum's training loss as two horizontal lines (each skipped when 0)."""
    if floor > 0:
        ax.axhline(floor, label=floor_label(floor), **FLOOR_STYLE)
    if optimum > 0:
        ax.axhline(optimum, label=optimum_label(optimum), **OPTIMUM_STYLE)


def _close_up(ax, run: Run, floor: float, optimum: float) -> None:
    """The last third of the steps on a linear scale, zoomed to σ²/2 and the optimum's loss (the curve
    enters from above)."""
    k = len(run.steps) * 2 // 3
    steps, loss = run.steps[k:], run.loss[k:]
    ax.plot(steps, loss, color="tab:blue", lw=1)
    ax.plot(steps[-1], loss[-1], "s", color="tab:blue", mfc="none", ms=7)
    ax.axhline(floor, **FLOOR_STYLE)
    ax.axhline(optimum, **OPTIMUM_STYLE)
    gap = max(abs(floor - optimum), 0.02 * max(floor, optimum))
    lo = min(optimum, floor, float(loss.min())) - gap
    hi = max(max(optimum, floor) + 3 * gap, float(loss[-1]) + gap)
    ax.set(ylim=(lo, hi), xlabel="step", ylabel="loss (linear scale)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_title("close-up: the last third of the steps", fontsize=9)
    ax.grid(True, alpha=0.3)


def trajectory(run: Run, path: str | os.PathLike, *, bowl: Bowl, which: str, settings: str) -> None:
    """The path of two coordinates over the contours of the loss; start, end and the optimum marked.

    Args:
        run: the traced run (``run.path`` holds the two coordinates). path: the PNG.
        bowl: the loss surface over them. which: why these two (the title's first line).
        settings: the run's settings, the title's second line.
    """
    fig, ax = plots.figure((5.6, 5))
    paths(ax, [run], bowl, single=True)
    title = which if run.diverged_step is None else f"diverged at step {run.diverged_step}: {which}"
    ax.set_title(f"{title}\n{settings}", fontsize=9)
    outside_legend(ax)
    plots.save(fig, path)


def outside_legend(ax, *, ncols: int = 2, **kwargs) -> None:
    """The legend of ``ax``'s labelled artists under the figure, outside every axes: it covers no data."""
    handles, labels = ax.get_legend_handles_labels()
    if ax.figure.get_figwidth() < 7.5 and max(map(len, labels)) > 40:  # two long columns would not fit
        ncols = 1
    ax.figure.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=min(ncols, len(labels)),
                     **kwargs)


def paths(ax, runs: list[Run], bowl: Bowl, *, single: bool, box=None) -> None:
    """Contours of ``bowl`` and every run's path over them, with start, end and optimum marked
    ``box``: the (lo, hi) corners of the box drawn; None: every point of a finished path and the optimum)."""
    lo, hi = box or view(runs, bowl.optimum)
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 90), np.linspace(lo[1], hi[1], 90))
    excess = bowl.at(u, v) - bowl.loss
    top = max(float(excess.max()), 1e-300)
    levels = bowl.loss + top * np.geomspace(1e-4, 1.0, 12)
    ax.contour(u, v, bowl.at(u, v), levels=levels, colors="lightgray", linewidths=0.8)
    for run, color in zip(runs, COLORS * 4, strict=False):
        p, out = _inside(run, lo, hi)
        name = (run.label or "SGD's path") if single else label(run)
        ax.plot(p[:, 0], p[:, 1], color=color, lw=1, marker="." if len(p) <= 400 else None, ms=3, label=name)
        ax.plot(p[0, 0], p[0, 1], "o", color=color, mfc="white", ms=6, label="start" if single else None)
        if run.diverged_step is None:
            ax.plot(p[-1, 0], p[-1, 1], "s", color=color, mfc="none", ms=9, mew=1.5, zorder=3,
                    label="end" if single else None)
        else:
            where = "leaves the picture" if out else "last finite step"
            ax.plot(p[-1, 0], p[-1, 1], "x", color="red", ms=9, mew=2, zorder=3, clip_on=False,
                    label=f"{where} (blow-up at step {run.diverged_step})" if single else None)
    ax.plot(*bowl.optimum, "*", color="gold", mec="black", ms=13, label=bowl.label, zorder=4)
    # equal units on both axes: the bowl's real shape (round for the chapter's independent unit features)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel=bowl.names[0], ylabel=bowl.names[1], aspect="equal")


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


def label(run: Run) -> str:
    return run.label if run.diverged_step is None else f"{run.label} (diverged at step {run.diverged_step})"


def view(runs: list[Run], optimum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axis limits: every point of a finished path and the optimum; of a diverged path, its points within
    8× its start's distance of the optimum (its first zig-zags; the rest flies off the picture)."""
    kept = [optimum.reshape(1, 2)]
    for run in runs:
        p = run.path[np.all(np.isfinite(run.path), axis=1)]
        if run.diverged_step is not None and len(p):
            reach = 8 * max(float(np.max(np.abs(p[0] - optimum))), 1e-3)
            p = p[np.all(np.abs(p - optimum) <= reach, axis=1)]
        kept.append(p)
    pts = np.concatenate(kept)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.08 * (hi - lo), 0.02 * np.maximum(np.abs(optimum), 1.0))
    lo, hi = lo - pad, hi + pad
    half = (hi - lo).max() / 2  # a square box in data units (drawn with equal aspect)
    mid = (lo + hi) / 2
    return mid - half, mid + half


def decades(axis, values) -> None:
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


def _sampled(steps: np.ndarray) -> str:
    """`` (every k-th shown)`` when the recorded steps skip some."""
    k = int(np.min(np.diff(steps))) if len(steps) > 2 else 1
    return f" (one point every {k} steps)" if k > 1 else ""
