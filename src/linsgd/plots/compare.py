"""``linsgd demo --compare``'s picture: runs that differ in one setting, side by side.

Three panels (four when the paths differ in scale): the loss after every step, the loss against the
examples seen (the compute each run took, the same on every machine, so a seed draws the same bytes), and
the paths over one contour plot (with a close-up around the optimum when some paths start far away).
"""

from __future__ import annotations

import os

import numpy as np

from linsgd import plots
from linsgd.plots.demo import COLORS, Bowl, Run, decades, label, levels, paths, view

ZOOM_RATIO = 4.0  # a close-up of the paths when one path's box is this many times another's


def comparison(runs: list[Run], path: str | os.PathLike, *, param: str, bowl: Bowl, floor: float,
               settings: str) -> None:
    """Runs that differ in one setting: loss per step, loss per example seen, their paths over the bowl.

    Every curve ends in a marker of its colour (□, or × where it diverged); curves drawn later are
    thinner, so one that lies under another still shows at its edges. The loss axes are logarithmic and
    not capped: a diverging run is drawn to its last finite loss.

    Args:
        runs: one per value of ``param`` (labels say the value). path: the PNG. bowl: the loss surface of
            the two coordinates drawn. floor: σ²/2 (not drawn when 0). settings: what the runs share.
    """
    zoom = _zoom(runs, bowl)
    fig, axes = plots.figure((15.5 if zoom else 12.5, 4.4), ncols=4 if zoom else 3)
    by_step, by_examples, where = axes[:3]
    widths = np.linspace(3.0, 1.0, len(runs)) if len(runs) > 1 else [1.4]
    for ax, xkey in ((by_step, "steps"), (by_examples, "examples")):
        for run, color, lw in zip(runs, COLORS * 4, widths, strict=False):
            x = getattr(run, xkey)
            ax.plot(x, run.loss, color=color, lw=lw, label=label(run))
            end = "x" if run.diverged_step is not None else "s"
            ax.plot(x[-1], run.loss[-1], end, color="red" if end == "x" else color, mfc="none", ms=8, mew=2,
                    zorder=3)
        levels(ax, floor, bowl.loss if bowl.loss > 0 else 0.0)
        finite = np.concatenate([r.loss[np.isfinite(r.loss)] for r in runs])
        ax.set(yscale="log", ylabel="loss: mean of ½(ŷ − y)²", ylim=(None, 10 * float(finite.max())))
        decades(ax.yaxis, [*finite, floor, bowl.loss])
        ax.grid(True, which="major", alpha=0.3)
    by_step.set_xlabel("step")
    by_examples.set_xlabel("examples seen (steps × batch size)")
    lengths = [max(int(r.steps[-1]), 1) for r in runs]
    if max(lengths) > 20 * min(lengths):  # e.g. batch sizes 1 and 100: 3,000 and 30 steps, both visible
        from matplotlib.ticker import FuncFormatter

        by_step.set_xscale("symlog", linthresh=1)
        by_step.set_xlim(0, max(lengths) * 1.2)
        by_step.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        by_step.set_xlabel("step (0, then a log scale)")
    blown = any(r.diverged_step is not None for r in runs)
    by_step.set_title("loss after every step: □ end" + (", × last finite step" if blown else ""), fontsize=9)
    by_examples.set_title("the same, against the examples seen (the compute)", fontsize=9)
    paths(where, runs, bowl, single=False)
    where.set_title(f"paths of ({bowl.names[0]}, {bowl.names[1]}): ○ start, □ end, × blow-up", fontsize=9)
    if zoom:
        near = [r for r in runs if _extent(r, bowl) <= ZOOM_RATIO * min(_extent(q, bowl) for q in runs)]
        paths(axes[3], runs, bowl, single=False, box=view(near, bowl.optimum))
        axes[3].set_title("close-up around the optimum", fontsize=9)
    handles, names = by_step.get_legend_handles_labels()
    star = where.get_legend_handles_labels()
    fig.legend(handles + star[0][-1:], names + star[1][-1:], fontsize=7, loc="outside lower center",
               ncols=min(4, len(names) + 1))
    fig.suptitle(f"--compare {param}: {settings}", fontsize=10)
    plots.save(fig, path)


def _extent(run: Run, bowl: Bowl) -> float:
    """The half-width of the box a path needs around the optimum (a diverged path: its first zig-zags)."""
    lo, hi = view([run], bowl.optimum)
    return float(np.max(hi - lo)) / 2


def _zoom(runs: list[Run], bowl: Bowl) -> bool:
    """Whether the paths differ so much in scale that the near ones need a panel of their own."""
    extents = [_extent(r, bowl) for r in runs]
    return len(runs) > 1 and max(extents) > ZOOM_RATIO * min(extents)
