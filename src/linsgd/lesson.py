"""What a learner is told about a run: where the optimum is, which coordinates to draw, whether it converged.

``linsgd demo`` compares every run with the exact least-squares answer on the same examples (that of
:func:`linsgd.lstsq.qr.exact`): the loss SGD can at best reach, and the point its path heads to.
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


def bowl(X: np.ndarray, center: Optimum, idx: list[int]) -> Bowl:
    """The loss over the coordinates ``idx`` of θ, the others at ``center``: its 2 × 2 Hessian block.

    The Hessian of the mean ½-squared loss is H = X̃ᵀX̃/n with X̃ = [X 1] (whatever the targets).
    """
    A = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    H = A.T @ A / len(A)
    theta = np.append(center.w, center.b)
    return Bowl(names=tuple(names(X.shape[1])[i] for i in idx), optimum=theta[idx], loss=center.loss,
                H=H[np.ix_(idx, idx)])


def gap(loss: float, y: np.ndarray, w: np.ndarray, b: float, best: Optimum) -> str | None:
    """None when the final ``loss`` of (w, b) is within the converged bound of the optimum, else the gap
    in words (``y``: the labels, their scale)."""
    scale = 0.5 * float(np.mean(np.square(y, dtype=np.float64)))
    if loss <= CONVERGED_RATIO * best.loss + CONVERGED_SLACK * scale:
        return None
    ratio = f" ({loss / best.loss:.3g}× the optimum)" if best.loss > 0 else ""
    return (f"final loss {loss:.3g} vs the least-squares optimum {best.loss:.3g}{ratio}; "
            f"max |w − w*| = {float(np.max(np.abs(np.asarray(w) - best.w))):.3g}, |b − b*| = {abs(b - best.b):.3g}")


def advice(lr: float, stable: float, epochs: int) -> str:
    """What to change when a run has not converged: more epochs, and a larger lr when it is well below
    the stable one (:func:`linsgd.sgd.lr.stable_lr`)."""
    more = f"train longer (--epochs {max(10, 10 * epochs)})"
    if lr < 0.5 * stable:
        return f"{more} or use a larger --lr (stable up to about {stable:.2g}; or --lr auto)"
    return more


def settings(lr, batch_size: int, epochs: int, seed: int, solver: str = "sgd") -> str:
    """The line every title carries: ``lr 0.03 · batch 10 · 3 epochs · seed 1``."""
    lr_text = f"{lr:g}" if isinstance(lr, float) else str(lr)
    line = f"lr {lr_text} · batch {batch_size} · {epochs} epoch{'s' if epochs != 1 else ''} · seed {seed}"
    return f"exact solver · {line}" if solver == "exact" else line
