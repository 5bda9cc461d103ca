"""The trusted optimum of the robust and quantile losses (:mod:`linsgd.lstsq.losses`), to report SGD's gap
against and to answer ``solver="exact"``.

* **huber**: iteratively reweighted least squares, a majorise–minimise scheme. At the residuals r⁰ of the
  current (w, b), Huber's loss is majorised by the parabola ½ v r² + const with v = min(1, ε/|r⁰|) (equal at
  r⁰, above it elsewhere), so each step solves a weighted least-squares problem with weights s_i v_i —
  exactly, from the streamed factor, with the penalty (ridge, lasso, elastic net) by
  :mod:`linsgd.lstsq.penalized` at α·Σs/Σ(s·v) (its data term is normalised by Σ(s·v), the objective's by
  Σs) — and the objective never rises. One pass over the rows per step, so it runs out of core. It stops
  when the objective falls by less than ``tol`` (relative) and no coefficient moves by more than √tol.
* **quantile** and **epsilon_insensitive**: a linear program solved by HiGHS (``scipy.optimize.linprog``,
  as scikit-learn's ``QuantileRegressor``), with the lasso penalty as ‖w‖₁ = Σ(w⁺ + w⁻); the rows are held in
  memory. A ridge part (ρ < 1) makes the problem quadratic: no linear program, no trusted optimum here.

Mappings to scikit-learn (the tests hold them): ``QuantileRegressor(quantile=q, alpha=a)`` minimises
(1/n)Σ pinball + a‖w‖₁: ours with ``alpha=a, l1_ratio=1``. ``HuberRegressor(epsilon=e, alpha=a)``
minimises Σ(σ + H_e(r/σ)σ) + a‖w‖² over w, b and a scale σ; at its fitted σ* that is (2/σ*)·Σ L_{eσ*}(r) +
a‖w‖², so its w is ours with ``epsilon=e·σ*`` and a ridge ``alpha=a·σ*/n`` (``l1_ratio=0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.losses import loss_values
from linsgd.lstsq.penalized import penalty
from linsgd.lstsq.qr import LeastSquares
from linsgd.lstsq.rows import augmented, weights

MAX_STEPS = 1_000
TOL = 1e-12


@dataclass(frozen=True)
class RobustSolution:
    """The trusted optimum of a non-squared loss.

    Attributes:
        w (d,), b: the minimiser. optimum: F(w, b) (:mod:`linsgd.lstsq.losses`). loss, epsilon, quantile,
        alpha, l1_ratio: the objective. method: how it was found, in words. steps: IRLS passes (0 for the
        linear program). converged: whether the stopping rule held (False: ``optimum`` is an upper bound).
    """

    w: np.ndarray
    b: float
    optimum: float
    loss: str
    epsilon: float
    quantile: float
    alpha: float
    l1_ratio: float
    method: str
    steps: int = 0
    converged: bool = True


def trusted_optimum(passes: Callable[[], Iterable], d: int, *, loss: str, epsilon: float, quantile: float,
                    alpha: float = 0.0, l1_ratio: float = 0.0, fit_intercept: bool = True,
                    tol: float = TOL) -> RobustSolution:
    """The optimum of F for a non-squared ``loss`` over the rows that ``passes()`` yields (a fresh iterable of
    ``(X, y, s)`` chunks each call; s None without weights).

    Raises:
        ConfigError: quantile or epsilon_insensitive with a ridge part (ρ < 1 with α > 0): no linear program.
        DataError: no rows, or bad values.
    """
    if loss == "huber":
        return _irls(passes, d, epsilon, alpha, l1_ratio, fit_intercept, tol)
    if alpha > 0 and l1_ratio < 1:
        raise ConfigError("penalty", "l2" if l1_ratio == 0 else "elasticnet",
                          f"none or l1 for loss={loss!r} (its trusted optimum is a linear program); "
                          "or train it by SGD (solver='sgd')")
    return _linear_program(passes, d, loss, epsilon, quantile, alpha * l1_ratio, fit_intercept)


def _irls(passes, d: int, epsilon: float, alpha: float, l1_ratio: float, fit_intercept: bool,
          tol: float) -> RobustSolution:
    w, b = None, 0.0
    previous = moved = np.inf
    for step in range(1, MAX_STEPS + 1):
        state, value, total = LeastSquares.empty(d, fit_intercept=fit_intercept), 0.0, 0.0
        for X, y, s in passes():
            A = augmented(X, y, d, state.count)
            s = np.ones(len(A)) if s is None else weights(s, len(A))
            r = A[:, d] - (A[:, :d] @ w + b) if w is not None else None
            if r is not None:
                value += float(s @ loss_values(r, "huber", epsilon))
            v = np.ones(len(A)) if r is None else np.minimum(1.0, epsilon / np.maximum(np.abs(r), 1e-300))
            state, total = state.update(A[:, :d], A[:, d], s * v), total + float(s.sum())
        if total <= 0:
            raise DataError("no rows of positive weight to fit")
        if w is not None:
            value = value / total + penalty(w, alpha, l1_ratio)
            if previous - value <= tol * abs(value) and moved <= np.sqrt(tol) * (1 + np.abs(w).max(initial=0)):
                return RobustSolution(w, b, value, "huber", epsilon, 0.0, alpha, l1_ratio,
                                      f"iteratively reweighted least squares, {step} passes", step, True)
            previous = value
        scale = total / state.weight  # the state's data term is normalised by Σ s·v, the objective's by Σ s
        solution = state.solution(alpha=alpha * scale, l1_ratio=l1_ratio)
        moved = 0.0 if w is None else float(np.abs(solution.w - w).max(initial=0) + abs(solution.b - b))
        w, b = solution.w, solution.b
    return RobustSolution(w, b, previous, "huber", epsilon, 0.0, alpha, l1_ratio,
                          f"iteratively reweighted least squares, stopped after {MAX_STEPS} passes", MAX_STEPS,
                          False)


def _linear_program(passes, d: int, loss: str, epsilon: float, quantile: float, l1: float,
                    fit_intercept: bool) -> RobustSolution:
    """min c·z over z = [w⁺, w⁻, b⁺, b⁻, t…] ≥ 0 (see the module docstring), by HiGHS."""
    from scipy import sparse
    from scipy.optimize import linprog

    parts, first = [], 0
    for X, y, s in passes():  # each chunk's rows numbered from the first of the data (a bad value's row)
        parts.append((augmented(X, y, d, first), s))
        first += len(parts[-1][0])
    A = np.vstack([p[0] for p in parts]) if parts else np.zeros((0, d + 1))
    if len(A) == 0:
        raise DataError("no rows to fit: the data is empty")
    s = np.concatenate([np.ones(len(p[0])) if p[1] is None else weights(p[1], len(p[0])) for p in parts])
    keep = s > 0
    A, s = A[keep], s[keep] / s[keep].sum()
    X, y, n = A[:, :d], A[:, d], int(keep.sum())
    one = np.ones((n, 1)) if fit_intercept else np.zeros((n, 1))
    fitted = sparse.hstack([sparse.csr_matrix(X), sparse.csr_matrix(-X), one, -one])  # x·w + b
    head = np.concatenate([np.full(2 * d, l1), [0.0, 0.0]])
    eye = sparse.eye(n, format="csr")
    if loss == "quantile":  # ŷ + u⁺ − u⁻ = y, pinball = q u⁺ + (1 − q) u⁻
        c = np.concatenate([head, quantile * s, (1 - quantile) * s])
        res = linprog(c, A_eq=sparse.hstack([fitted, eye, -eye]).tocsc(), b_eq=y, bounds=(0, None),
                      method="highs")
    else:  # t ≥ |y − ŷ| − ε, t ≥ 0:  −ŷ − t ≤ ε − y  and  ŷ − t ≤ y + ε
        c = np.concatenate([head, s])
        A_ub = sparse.vstack([sparse.hstack([-fitted, -eye]), sparse.hstack([fitted, -eye])]).tocsc()
        res = linprog(c, A_ub=A_ub, b_ub=np.concatenate([epsilon - y, y + epsilon]), bounds=(0, None),
                      method="highs")
    if res.status != 0:
        raise DataError(f"the linear program of loss={loss!r} found no optimum ({res.message}); check the data")
    z = res.x
    w, b = z[:d] - z[d:2 * d], float(z[2 * d] - z[2 * d + 1])
    optimum = float(s @ loss_values(y - X @ w - b, loss, epsilon, quantile)) + l1 * float(np.abs(w).sum())
    return RobustSolution(w, b, optimum, loss, epsilon, quantile, l1, 1.0 if l1 > 0 else 0.0,
                          "linear program (HiGHS)", 0, True)
