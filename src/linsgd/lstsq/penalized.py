"""Ridge, lasso and elastic net solved exactly from the streamed factor, with no further pass over the data.

The objective is scikit-learn's ElasticNet objective with sample weights normalised by their sum W = Σw::

    F(w, b) = 1/(2W) Σ w_i (x_i·w + b − y_i)²  +  α (ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²),   α ≥ 0, ρ ∈ [0, 1]

with the intercept not penalised. Minimising over b first gives b = ȳ − x̄·w (weighted means), and with the
streamed factor R = [[Rxx, r], [0, ρ_yy]] of the weighted, centred [X y] (RᵀR = Σ w_i ã_i ã_iᵀ) the data
term is (‖Rxx w − r‖² + ρ_yy²)/(2W). So every penalised problem is a d-dimensional problem in (Rxx, r):

* ridge (ρ = 0): minimise ‖[Rxx; √(αW) I] w − [r; 0]‖², one Householder QR of the stacked matrix —
  the same as scikit-learn's ``Ridge(alpha=α·W)`` on the weighted rows (``alpha=n·α`` without weights);
* lasso and elastic net (ρ > 0): cyclic coordinate descent on the Gram matrix G = RxxᵀRxx/W and
  c = Rxxᵀr/W (the soft-threshold update below), then a *polish*: on the active set A with signs s the
  optimum solves (G_AA + α(1−ρ)I) w_A = c_A − αρ s_A exactly, which is solved through a QR of
  [Rxx_A; √(α(1−ρ)W) I] (never through G); it is kept when its signs agree with s and every inactive
  coordinate satisfies the optimality condition |c_j − (Gw)_j| ≤ αρ, else the descent's answer is kept.

Coordinate update (j-th of each sweep), with S(z, t) = sign(z)·max(|z| − t, 0)::

    w_j ← S(c_j − Σ_{k≠j} G_jk w_k, αρ) / (G_jj + α(1 − ρ))
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from linsgd.errors import ConfigError, LinsgdWarning
from linsgd.lstsq.linalg import solve_triangular

MAX_SWEEPS = 100_000
TOL = 1e-13  # sweeps stop when no coordinate moves more than TOL·max|w| (the polish then makes it exact)


def check_penalty(alpha, l1_ratio) -> tuple[float, float]:
    """``(alpha, l1_ratio)`` as floats when α ≥ 0 is finite and ρ ∈ [0, 1].

    Raises:
        ConfigError: either is out of range.
    """
    if not (isinstance(alpha, numbers.Real) and math.isfinite(alpha) and alpha >= 0):
        raise ConfigError("alpha", alpha, "a finite number >= 0 (0: no penalty)")
    if not (isinstance(l1_ratio, numbers.Real) and 0 <= l1_ratio <= 1):
        raise ConfigError("l1_ratio", l1_ratio, "a number in [0, 1] (0: ridge, 1: lasso)")
    return float(alpha), float(l1_ratio)


def penalty_of(config, alpha=None, l1_ratio=None) -> tuple[float, float]:
    """The (α, ρ) a training config optimises: its ``penalty`` (None | "l2" | "l1" | "elasticnet"),
    ``alpha`` and ``l1_ratio`` fields when it has them, overridden by explicit ``alpha``/``l1_ratio``.

    "l2" is ρ = 0, "l1" is ρ = 1, "elasticnet" takes ``config.l1_ratio``; no penalty is α = 0.
    """
    kind = getattr(config, "penalty", None)
    a = getattr(config, "alpha", 0.0) if kind is not None else 0.0
    rho = {"l2": 0.0, "l1": 1.0}.get(kind, getattr(config, "l1_ratio", 0.0) if kind else 0.0)
    return check_penalty(a if alpha is None else alpha, rho if l1_ratio is None else l1_ratio)


def penalty(w: np.ndarray, alpha: float, l1_ratio: float) -> float:
    """α (ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²)."""
    w = np.asarray(w, dtype=np.float64)
    return alpha * (l1_ratio * float(np.abs(w).sum()) + 0.5 * (1 - l1_ratio) * float(w @ w))


def describe(alpha: float, l1_ratio: float, weighted: bool) -> str:
    """The objective in words and symbols, for reports: e.g. ``mean ½(ŷ−y)² + 0.1·(0.5‖w‖₁ + 0.25‖w‖²)``."""
    data = "weighted mean ½(ŷ−y)² (weights / Σw)" if weighted else "mean ½(ŷ−y)²"
    if alpha == 0:
        return data
    terms = [f"{l1_ratio:g}‖w‖₁"] if l1_ratio > 0 else []
    terms += [f"{(1 - l1_ratio) / 2:g}‖w‖²"] if l1_ratio < 1 else []
    return f"{data} + {alpha:g}·({' + '.join(terms)})"


def solve_penalized(Rxx: np.ndarray, rxy: np.ndarray, weight: float, alpha: float, l1_ratio: float,
                    start: np.ndarray | None = None, gram: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The minimiser w of ‖Rxx w − rxy‖²/(2W) + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²) (module docstring), α > 0.

    Args:
        Rxx: (d, d) upper-triangular factor, rxy: (d,), weight: W = Σw > 0.
        start: where coordinate descent starts (None: w = 0); a path passes the previous α's answer.
        gram: (G, c) = (RxxᵀRxx/W, Rxxᵀrxy/W) when the caller holds them (a path solves many α).

    Returns:
        w (d,), float64.

    After every sweep whose active set or signs differ from the last ones tried, the exact solve on the
    active set (the polish) is tried; the first that passes the optimality check is the answer. When none
    does, the descent runs to ``TOL`` and its answer is kept.
    """
    d = len(rxy)
    if l1_ratio == 0:
        return _active_solve(Rxx, rxy, weight, alpha, 0.0, np.arange(d), np.zeros(d))
    G, c = gram if gram is not None else (Rxx.T @ Rxx / weight, Rxx.T @ rxy / weight)
    w = np.zeros(d) if start is None else np.array(start, dtype=np.float64)
    tried = None
    for _ in range(MAX_SWEEPS):
        w, converged = _sweep(G, c, alpha, l1_ratio, w, TOL)
        active = np.flatnonzero(w)
        signs = np.sign(w[active])
        if len(active) and (active.tobytes(), signs.tobytes()) != tried:
            tried = (active.tobytes(), signs.tobytes())
            polished = _polish(Rxx, rxy, weight, alpha, l1_ratio, active, signs, G, c)
            if polished is not None:
                return polished
        if converged:
            return w
    warnings.warn(f"coordinate descent did not converge in {MAX_SWEEPS} sweeps (elastic net, alpha={alpha:g}, "
                  f"l1_ratio={l1_ratio:g}): the answer may be inexact; standardise the features", LinsgdWarning,
                  stacklevel=2)
    return w


def _polish(Rxx, rxy, weight: float, alpha: float, l1_ratio: float, active, signs, G, c) -> np.ndarray | None:
    """The exact optimum on the active set with these signs, or None when it fails the optimality check."""
    polished = np.zeros(len(rxy))
    try:
        with np.errstate(all="ignore"):
            polished[active] = _active_solve(Rxx, rxy, weight, alpha, l1_ratio, active, signs)
    except np.linalg.LinAlgError:  # the active columns are collinear (pure lasso): no unique polish
        return None
    return polished if _optimal(G, c, polished, active, signs, alpha, l1_ratio) else None


def _sweep(G: np.ndarray, c: np.ndarray, alpha: float, l1_ratio: float, w: np.ndarray,
           tol: float) -> tuple[np.ndarray, bool]:
    """One sweep of cyclic coordinate descent (the update in the module docstring) from ``w`` (a copy), and
    whether no coordinate moved more than ``tol``·max|w|."""
    w = w.copy()
    q = G @ w
    threshold, denom = alpha * l1_ratio, np.diag(G) + alpha * (1 - l1_ratio)
    biggest = 0.0
    for j in range(len(c)):
        if denom[j] == 0:  # a column without spread (and no ridge part): its coefficient stays 0
            continue
        z = c[j] - q[j] + G[j, j] * w[j]
        new = math.copysign(max(abs(z) - threshold, 0.0), z) / denom[j]
        step = new - w[j]
        if step != 0.0:
            q += G[:, j] * step
            w[j] = new
            biggest = max(biggest, abs(step))
    return w, biggest <= tol * max(float(np.abs(w).max()), np.finfo(float).tiny)


def _active_solve(Rxx, rxy, weight: float, alpha: float, l1_ratio: float, active, signs) -> np.ndarray:
    """w_A minimising ‖Rxx_A w − rxy‖² + αW(1−ρ)‖w‖² + 2αρW sᵀw, through QR of M = [Rxx_A; √(αW(1−ρ)) I].

    With M = QT the optimum satisfies TᵀT w = TᵀQᵀt − αρW s (t = [rxy; 0]), so w = T⁻¹(Qᵀt − αρW T⁻ᵀs).
    """
    k = len(active)
    M = np.vstack([Rxx[:, active], math.sqrt(alpha * weight * (1 - l1_ratio)) * np.eye(k)])
    Q, T = np.linalg.qr(M)
    rhs = Q[:len(rxy)].T @ rxy
    if l1_ratio > 0:
        rhs = rhs - alpha * l1_ratio * weight * solve_triangular(T.T, signs)
    return solve_triangular(T, rhs)


def _optimal(G, c, w, active, signs, alpha: float, l1_ratio: float) -> bool:
    """The optimality conditions of the elastic net at w, to a relative 1e-9 (see the module docstring)."""
    if not np.all(np.isfinite(w)) or np.any(np.sign(w[active]) != signs):
        return False
    grad = c - G @ w  # at the optimum: αρ·s_j + α(1−ρ)w_j on A, inside [−αρ, αρ] elsewhere
    inactive = np.setdiff1d(np.arange(len(w)), active)
    slack = 1e-9 * (alpha * l1_ratio + float(np.abs(c).max()))
    return bool(np.all(np.abs(grad[inactive]) <= alpha * l1_ratio + slack))
