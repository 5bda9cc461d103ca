"""``linsgd demo --animate``: SGD step by step as a GIF (matplotlib's animation, written by Pillow).

Each frame is one step: on the left the data with the step's minibatch highlighted and the line of the
current (w, b); on the right the path so far over the loss's contours, with two arrows from the current
point: the step the minibatch takes (−η × its gradient) and the step the full gradient would take. The
frames are a pure function of their arrays, and the GIF carries no date, so a seed writes the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from linsgd.plots.demo import Bowl
from linsgd.storage import atomic_path

FPS = 10  # a GIF counts in hundredths of a second: 10 frames a second are exact
MAX_FRAMES = 95  # 9.5 s of film
EVERY_STEP = 40  # the first steps, where the most happens, each get a frame


@dataclass(frozen=True)
class Film:
    """What the animation shows, step by step (m steps recorded, step 0 the start).

    Attributes:
        x: (n,) the feature column drawn. y: (n,) the labels. column: its 0-based index.
        batches: (m − 1, B) row indices of the minibatch of each step (the last one of an epoch may be
            shorter: padded with −1). slope, intercept: (m,) the line along ``x`` after each step (w_j, b).
        path: (m, 2) the two coordinates of ``bowl`` after each step. batch_step, full_step: (m − 1, 2) the
            move −η ∇ of the minibatch and of all examples at the point each step started from.
        loss: (m,) the full-data loss after each step. epoch_ends: steps where epochs ended.
    """

    x: np.ndarray
    y: np.ndarray
    column: int
    batches: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    path: np.ndarray
    batch_step: np.ndarray
    full_step: np.ndarray
    loss: np.ndarray
    epoch_ends: list[int]


def frame_steps(m: int) -> np.ndarray:
    """The steps that get a frame: each of the first ``EVERY_STEP``, then evenly spaced to the last, at most
    ``MAX_FRAMES`` in all (m: the recorded points, step 0 included)."""
    last = m - 1
    head = np.arange(0, min(EVERY_STEP, last + 1))
    tail = np.linspace(min(EVERY_STEP, last), last, max(0, MAX_FRAMES - len(head)))
    return np.unique(np.concatenate([head, np.round(tail).astype(int)]))


def animate(film: Film, path: str | os.PathLike, *, bowl: Bowl, settings: str) -> None:
    """Write ``film`` as a GIF at ``path`` (atomically): one frame per step of :func:`frame_steps`."""
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.8), dpi=80)
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.84, wspace=0.25)
    left.scatter(film.x, film.y, s=1, color="lightsteelblue")
    batch = left.scatter([], [], s=14, color="tab:red", label="this step's minibatch")
    xs = np.array([film.x.min(), film.x.max()])
    (line,) = left.plot(xs, film.slope[0] * xs + film.intercept[0], color="tab:red", lw=1.5, label="current line")
    left.set(xlabel=f"features[:, {film.column}]", ylabel="labels")
    left.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2)
    lo = np.minimum(film.path.min(axis=0), bowl.optimum) - 0.1 * np.ptp(film.path, axis=0).max() - 0.05
    hi = np.maximum(film.path.max(axis=0), bowl.optimum) + 0.1 * np.ptp(film.path, axis=0).max() + 0.05
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80))
    excess = max(float((bowl.at(u, v) - bowl.loss).max()), 1e-300)
    right.contour(u, v, bowl.at(u, v), levels=bowl.loss + excess * np.geomspace(1e-4, 1, 12), colors="lightgray",
                  linewidths=0.8)
    right.plot(*bowl.optimum, "*", color="gold", mec="black", ms=12, zorder=4)
    (trail,) = right.plot([], [], color="tab:blue", lw=1)
    (dot,) = right.plot([], [], "o", color="tab:blue", ms=5)
    arrows = dict(angles="xy", scale_units="xy", scale=1, width=0.008, zorder=5)
    full = right.quiver([0], [0], [0], [0], color="black", label="−η × full gradient", **arrows)
    mini = right.quiver([0], [0], [0], [0], color="tab:red", label="−η × minibatch gradient", **arrows)
    right.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel=bowl.names[0], ylabel=bowl.names[1])
    right.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2)
    title = fig.suptitle("", fontsize=9)
    steps = frame_steps(len(film.path))

    def draw(k: int):
        rows = film.batches[min(k, len(film.batches) - 1)]
        rows = rows[rows >= 0]
        batch.set_offsets(np.column_stack([film.x[rows], film.y[rows]]) if k < len(film.batches) else np.empty((0, 2)))
        line.set_ydata(film.slope[k] * xs + film.intercept[k])
        trail.set_data(film.path[:k + 1, 0], film.path[:k + 1, 1])
        dot.set_data(film.path[k:k + 1, 0], film.path[k:k + 1, 1])
        # both arrows scaled alike, the longer to a fifth of the box: the steps shrink a thousandfold
        moves = [m[k] if k < len(m) else np.zeros(2) for m in (film.full_step, film.batch_step)]
        longest = max(float(np.hypot(*m)) for m in moves)
        zoom = 0.2 * float(np.max(hi - lo)) / longest if longest > 0 else 1.0
        for arrow, d in zip((full, mini), moves, strict=True):
            arrow.set_offsets(film.path[k:k + 1])
            arrow.set_UVC([zoom * d[0]], [zoom * d[1]])
        epoch = 1 + sum(1 for e in film.epoch_ends if e < k) if k else 0
        title.set_text(f"step {k} · epoch {epoch} · loss {film.loss[k]:.3g} · arrows ×{zoom:.3g}\n{settings}")
        return batch, line, trail, dot, full, mini, title

    anim = FuncAnimation(fig, draw, frames=steps, blit=False)
    with atomic_path(path) as tmp:
        gif = tmp.with_name(tmp.name + ".gif")  # Pillow picks the format by the name's ending
        try:
            anim.save(gif, writer=PillowWriter(fps=FPS))
            os.replace(gif, tmp)
        finally:
            gif.unlink(missing_ok=True)


def film(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, batches: list[np.ndarray], lr: float,
         idx: list[int], column: int, loss: np.ndarray, epoch_ends: list[int]) -> Film:
    """The arrays of :class:`Film` from a run recorded at every step: W (m, d), b (m,), the batches' rows.

    The gradients are those of the mean ½-squared loss at the point each step started from:
    ∇_w = X_𝓑ᵀ r / |𝓑|, ∇_b = mean(r), r = X_𝓑 w + b − y_𝓑.
    """
    X64, y64 = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    theta = np.column_stack([W, b])
    width = max((len(r) for r in batches), default=1)
    padded = np.full((len(batches), width), -1)
    moves = np.zeros((2, len(batches), 2))
    for k, rows in enumerate(batches):
        padded[k, :len(rows)] = rows
        for j, (A, t) in enumerate(((X64[rows], y64[rows]), (X64, y64))):
            r = A @ W[k] + b[k] - t
            grad = np.append(A.T @ r, r.sum()) / len(t)
            moves[j, k] = -lr * grad[idx]
    return Film(x=X64[:, column], y=y64, column=column, batches=padded, slope=W[:, column], intercept=b,
                path=theta[:, idx], batch_step=moves[0], full_step=moves[1], loss=loss, epoch_ends=epoch_ends)
