"""What a learner is told about a run: where the optimum is, which coordinates to draw, whether it converged.

``linsgd demo`` compares every run with the exact least-squares answer on the same examples (that of
:func:`linsgd.lstsq.qr.exact`): the loss SGD can at best reach, and the point its path heads to. For a
learner's own loop: :func:`draw` (the demo's pictures from a recorded (w, b) history), :func:`explore` and
:func:`sliders` (linsgd's run for chosen settings, and notebook sliders that redraw it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from linsgd.errors import DataError, LinsgdWarning
from linsgd.lstsq.qr import exact
from linsgd.plots.demo import Bowl

# A run has converged when its final loss is at most 1.5 × the optimum's, plus a millionth of mean(y²)/2
# (the loss of the model ŷ = 0: the scale of the labels), for noiseless data whose optimum is ~0. The
# chapter's 3 epochs end at ~1.02 × the optimum (SGD's own noise at lr 0.03, batch 10); lr 0.001 keeps
# (1 − 0.001)^600 ≈ 0.55 of the starting loss after its 300 steps, ~10⁵ × the optimum.
CONVERGED_RATIO = 1.5
CONVERGED_SLACK = 1e-6

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Optimum:
    """The least-squares answer on the training examples: w* (d,), b*, and its loss L* (mean ½ r²)."""

    w: np.ndarray
    b: float
    loss: float


def optimum(X: np.ndarray, y: np.ndarray) -> Optimum | None:
    """The least-squares solution on (X, y) (:func:`linsgd.lstsq.qr.exact`, in float64), or None when it is
    not unique (fewer rows than parameters, a constant or duplicated column): the demo then draws around the
    true parameters and skips the check.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinsgdWarning)  # a nearly collinear design still has its optimum
        try:
            s = exact(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64))
        except DataError:
            return None
    return Optimum(s.w, float(s.b), float(s.loss))


def least_loss(X: np.ndarray, y: np.ndarray) -> float:
    """The smallest training loss any (w, b) reaches on (X, y), unique optimum or not (0 when n <= d with
    distinct rows: infinitely many (w, b) then fit every example exactly)."""
    A = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, np.asarray(y, dtype=np.float64), rcond=None)[0]
    r = A @ theta - y
    return float(0.5 * np.mean(r * r))


def coordinates(true_w: list[float]) -> tuple[list[int], str]:
    """The two parameters whose path is drawn, as indices into θ = (w₁ … w_d, b), and why these.

    d = 2: (w₁, w₂); d = 1: (w, b); otherwise the two weights with the largest |true w|.
    """
    d = len(true_w)
    if d == 1:
        return [0, 1], "path of (w, b) over the loss"
    if d == 2:
        return [0, 1], "path of (w₁, w₂) over the loss (b at its optimum)"
    idx = sorted(np.argsort(-np.abs(np.asarray(true_w)), kind="stable")[:2].tolist())
    a, c = (names(d)[i] for i in idx)
    return idx, f"path of ({a}, {c}), the largest |true w| (the rest at the optimum)"


def names(d: int) -> list[str]:
    """The names of θ = (w, b) in the pictures: w₁ … w_d and b (just w for one feature)."""
    return (["w"] if d == 1 else [f"w{str(j + 1).translate(_SUB)}" for j in range(d)]) + ["b"]


def bowl(X: np.ndarray, center: Optimum, idx: list[int], label: str = "least-squares optimum") -> Bowl:
    """The loss over the coordinates ``idx`` of θ, the others at ``center``: its 2 × 2 Hessian block.

    The Hessian of the mean ½-squared loss is H = X̃ᵀX̃/n with X̃ = [X 1] (whatever the targets). ``label``
    names the centre's ★ (the true parameters when the optimum is not unique).
    """
    A = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    H = A.T @ A / len(A)
    theta = np.append(center.w, center.b)
    return Bowl(names=tuple(names(X.shape[1])[i] for i in idx), optimum=theta[idx], loss=center.loss,
                H=H[np.ix_(idx, idx)], label=label)


def gap(loss: float, y: np.ndarray, w: np.ndarray, b: float, best: Optimum) -> str | None:
    """None when the final ``loss`` of (w, b) is within the converged bound of the optimum, else the gap
    in words (``y``: the labels, their scale; ``best.w`` None: only the least loss is known)."""
    scale = 0.5 * float(np.mean(np.square(y, dtype=np.float64)))
    if loss <= CONVERGED_RATIO * best.loss + CONVERGED_SLACK * scale:
        return None
    ratio = f" ({loss / best.loss:.3g}× the optimum)" if best.loss > 0 else ""
    if best.w is None:  # no unique optimum: only its loss is known
        return f"final loss {loss:.3g} vs {best.loss:.3g}, the least training loss (no unique optimum){ratio}"
    return (f"final loss {loss:.3g} vs the least-squares optimum {best.loss:.3g}{ratio}; "
            f"max |w − w*| = {float(np.max(np.abs(np.asarray(w) - best.w))):.3g}, |b − b*| = {abs(b - best.b):.3g}")


def advice(lr: float, limit: float, epochs, batch_size: int) -> str:
    """What to change when a run has not converged: more epochs, and a larger lr when it is below half
    the mean-square stability limit ``limit`` for this batch size (:mod:`linsgd.sgd.stability`)."""
    more = f"train longer (--epochs {max(10, 10 * epochs)})" if isinstance(epochs, int) else "train longer"
    if lr < 0.5 * limit:
        return (f"{more} or use a larger --lr (batch {batch_size} is mean-square stable below about "
                f"{limit:.2g}, so {0.5 * limit:.2g} is a safe step; or --lr auto)")
    return more


def settings(lr, batch_size: int, epochs, seed: int, solver: str = "sgd", n: int | None = None) -> str:
    """The line every title carries: ``lr 0.03 · batch 10 · 3 epochs · seed 1`` (a batch above the ``n``
    examples: ``batch 1000 (all; asked 5000)``; the exact solver: no lr, batch or epochs)."""
    if solver == "exact":
        return f"exact least squares (no lr, batches or epochs) · seed {seed}"
    lr_text = f"{lr:g}" if isinstance(lr, float) else str(lr)
    batch = f"{n} (all; asked {batch_size})" if n is not None and isinstance(batch_size, int) and batch_size > n \
        else str(batch_size)
    count = f"{epochs} epoch{'s' if epochs != 1 else ''}"
    return f"lr {lr_text} · batch {batch} · {count} · seed {seed}"


def draw(features, labels, w_history, b_history, out, *, noise: float = 0.0, settings: str = "",
         epoch_ends: list[int] | None = None) -> list:
    """Draw the demo's three pictures from your own SGD loop's recorded parameters.

    Record ``w`` and ``b`` before the first step and after every step (``w.detach().clone()`` in torch),
    then::

        lesson.draw(features, labels, ws, bs, "pictures", noise=0.01, settings="lr 0.03 · batch 10")

    Args:
        features: (n, d) array or tensor. labels: (n,) or (n, 1). w_history: the m recorded weights, each
            (d,) or (d, 1). b_history: the m recorded biases. out: the folder for the PNGs (created).
        noise: σ of the data's noise; σ²/2 (the expected loss of the true (w, b) on fresh data) is drawn
            when > 0. settings: a line for the titles. epoch_ends: the step numbers where epochs ended.

    Returns:
        The paths of ``scatter.png``, ``loss.png`` and ``trajectory.png``: the data with the last
        recorded line, the full-data loss ½ mean (ŷ − y)² at every recorded step (log scale, with the
        least-squares optimum's training loss), and the path of two coordinates over the loss's contours.
    """
    from pathlib import Path

    from linsgd.plots import demo as plots_demo
    from linsgd.storage import ensure_writable_dir

    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    W = np.array([np.asarray(w, dtype=np.float64).reshape(-1) for w in w_history])
    b = np.array([float(np.asarray(v, dtype=np.float64).reshape(-1)[0]) for v in b_history])
    if W.ndim != 2 or W.shape[1] != X.shape[1] or len(b) != len(W) or len(W) == 0:
        raise ValueError(f"w_history must hold m >= 1 weights of {X.shape[1]} values and b_history m biases; "
                         f"got {W.shape} and {b.shape}")
    folder = Path(ensure_writable_dir(out, "out"))
    best = optimum(X, y)
    d = X.shape[1]
    idx, which = coordinates([1.0] * d if d <= 2 else list(np.abs(W[-1])))
    r = X @ W.T + b - y[:, None]
    loss = 0.5 * np.mean(r * r, axis=0)
    steps = np.arange(len(W))
    center = best or Optimum(W[-1], float(b[-1]), float(loss[-1]))
    star = "least-squares optimum" if best else "your last (w, b) (the optimum is not unique)"
    theta = np.column_stack([W, b])
    run = plots_demo.Run("your SGD's path", steps, loss, steps, theta[:, idx])
    j = min(1, d - 1)
    paths = [folder / "scatter.png", folder / "loss.png", folder / "trajectory.png"]
    plots_demo.data_scatter(X[:, j], y, paths[0], column=j, true_line=None,
                            fitted_line=(float(W[-1, j]), float(b[-1])), settings=settings, weight=names(d)[j])
    plots_demo.loss_steps(run, paths[1], epoch_ends=epoch_ends or [], floor=noise**2 / 2,
                          optimum=best.loss if best else 0.0, settings=settings)
    plots_demo.trajectory(run, paths[2], bowl=bowl(X, center, idx, star), which=which, settings=settings)
    return paths


def explore(features, labels, *, lr: float = 0.03, batch_size: int = 10, init_std: float = 0.01, seed: int = 0,
            epochs: int = 3):
    """One run of linsgd's SGD on (features, labels) as a figure: the loss after every step and the path
    of (w₁, w₂) (of w and b with one feature) — what :func:`sliders` redraws.

    Returns:
        A headless matplotlib ``Figure`` (a notebook shows it with ``display``).
    """
    from linsgd.config import TrainConfig
    from linsgd.plots import figure, lay_out
    from linsgd.sgd.trace import trace

    X = np.ascontiguousarray(features, dtype=np.float32)
    y = np.ascontiguousarray(np.asarray(labels).reshape(-1), dtype=np.float32)
    t = trace(X, y, TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, init_std=init_std, seed=seed,
                                solver="sgd", average=False))
    best = optimum(X, y)
    idx, _ = coordinates([1.0] * X.shape[1] if X.shape[1] <= 2 else list(np.abs(t.w[-1])))
    theta = np.column_stack([t.w, t.b])[:, idx]
    fig, (by_step, path) = figure((8, 3.5), ncols=2)
    by_step.semilogy(t.steps, t.loss, color="tab:blue")
    if best is not None and best.loss > 0:
        by_step.axhline(best.loss, color="tab:purple", ls="-.",
                        label=f"{best.loss:.3g}: the least-squares optimum's loss on these examples")
        fig.legend(fontsize=7, loc="outside lower center")  # under the panels, over no data
    end = f"diverged at step {t.blowup_step}" if t.diverged else f"final loss {t.loss[-1]:.3g}"
    by_step.set(xlabel="step", ylabel="loss on all examples", title=end)
    path.plot(theta[:, 0], theta[:, 1], ".-", ms=2, lw=1, color="tab:blue")
    path.plot(*theta[0], "o", mfc="white", color="tab:blue")
    if best is not None:
        path.plot(*np.append(best.w, best.b)[idx], "*", color="gold", mec="black", ms=12)
    names_ = names(X.shape[1])
    path.set(xlabel=names_[idx[0]], ylabel=names_[idx[1]], title=f"path of ({names_[idx[0]]}, {names_[idx[1]]})")
    lay_out(fig)
    return fig


def sliders(features, labels, *, epochs: int = 3):
    """Sliders for lr, batch size, init std and seed that redraw :func:`explore` (needs ipywidgets)."""
    import ipywidgets as widgets
    from IPython.display import display

    n = len(labels)
    return widgets.interactive(
        lambda lr, batch_size, init_std, seed: display(explore(features, labels, lr=lr, batch_size=batch_size,
                                                               init_std=init_std, seed=seed, epochs=epochs)),
        lr=widgets.SelectionSlider(options=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 1.5, 2, 3], value=0.03),
        batch_size=widgets.SelectionSlider(options=[b for b in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if b <= n]
                                           or [n], value=min(10, n)),
        init_std=widgets.SelectionSlider(options=[0.0, 0.01, 0.1, 1.0, 10.0], value=0.01),
        seed=widgets.IntSlider(value=0, min=0, max=20))
