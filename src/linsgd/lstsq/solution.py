"""The exact least-squares solution and what follows from it without another pass over the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linsgd.lstsq.linalg import solve_triangular
from linsgd.lstsq.penalized import describe, penalty


@dataclass(frozen=True)
class Solution:
    """The exact minimiser (w, b) of the objective (see :mod:`linsgd.lstsq.penalized`)::

        F(w, b) = 1/(2W) Σ w_i (x_i·w + b − y_i)² + α (ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²),  W = Σ w_i

    (without weights and penalty: ordinary least squares, ŷ = Xw + b minimises Σ(ŷ − y)²).

    Attributes:
        w: coefficients (d,). b: intercept (0.0 without one). n: rows (with weights: rows of weight > 0).
        rss: residual sum of squares Σ w_i (y − ŷ)² at (w, b). tss: total sum of squares Σ w_i (y − ȳ)²
            (Σ w_i y² without an intercept, the convention of NIST StRD and statsmodels).
        fit_intercept, feature_names: as fitted. mean: (weighted) column means of X; y_mean: of y.
        Rxx: the (centred) triangular factor of X, RxxᵀRxx = XcᵀW Xc (d, d).
        rxy: Rxx's column of y, Rxxᵀrxy = XcᵀW yc (None: the unpenalised optimum, where its gradient is 0).
        weight_sum: W = Σ w_i (None: unweighted, W = n). alpha, l1_ratio: the penalty α, ρ (0: none).
    """

    w: np.ndarray
    b: float
    n: int
    rss: float
    tss: float
    fit_intercept: bool
    feature_names: list[str]
    mean: np.ndarray
    y_mean: float
    Rxx: np.ndarray
    rxy: np.ndarray | None = None
    weight_sum: float | None = None
    alpha: float = 0.0
    l1_ratio: float = 0.0

    @property
    def weights(self) -> float:
        """W = Σ w_i, the normaliser of the objective (n without weights)."""
        return float(self.n) if self.weight_sum is None else self.weight_sum

    @property
    def penalized(self) -> bool:
        """Whether a penalty was optimised (then the OLS statistics do not apply)."""
        return self.alpha > 0

    @property
    def objective_text(self) -> str:
        """The objective in words (for reports), e.g. ``mean ½(ŷ−y)² + 0.1·(1‖w‖₁)``."""
        return describe(self.alpha, self.l1_ratio, self.weight_sum is not None)

    @property
    def n_params(self) -> int:
        """Number of fitted coefficients p (features, plus one for the intercept)."""
        return len(self.w) + int(self.fit_intercept)

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom n − p."""
        return self.n - self.n_params

    @property
    def loss(self) -> float:
        """The data term at the solution, the (weighted) mean of ½(ŷ − y)²: RSS / (2W)."""
        return self.rss / (2 * self.weights)

    @property
    def optimum(self) -> float:
        """The objective F at the solution: RSS/(2W) + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²)."""
        return self.loss + penalty(self.w, self.alpha, self.l1_ratio)

    def objective(self, w, b: float = 0.0) -> float:
        """F(w, b) without a pass over the data: (RSS + :meth:`excess_rss`)/(2W) + the penalty of w."""
        return self.optimum + self.excess(w, b)

    def excess(self, w, b: float = 0.0) -> float:
        """F(w, b) − F(w*, b*) = excess_rss/(2W) + penalty(w) − penalty(w*), without cancellation against F*."""
        pen = penalty(w, self.alpha, self.l1_ratio) - penalty(self.w, self.alpha, self.l1_ratio)
        return self.excess_rss(w, b) / (2 * self.weights) + pen

    @property
    def residual_sd(self) -> float:
        """s = √(RSS / (n − p)); nan when n = p (no residual degrees of freedom)."""
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else float("nan")

    @property
    def r2(self) -> float:
        """R² = 1 − RSS/TSS; nan when the target has no variance (TSS = 0)."""
        return 1.0 - self.rss / self.tss if self.tss > 0 else float("nan")

    def standard_errors(self) -> tuple[np.ndarray, float]:
        """Standard errors of w and of b: √diag(s² (XcᵀWXc)⁻¹) and s√(1/W + x̄ᵀ(XcᵀWXc)⁻¹x̄).

        With Rxx⁻¹ = Q: Cov(w) = s² Q Qᵀ, so se(w_j) = s‖Q_j,:‖, and x̄ᵀ(XcᵀWXc)⁻¹x̄ = ‖Qᵀx̄‖². With
        weights these are weighted least squares' (statsmodels ``WLS``: Var ε_i = σ²/w_i, s² = Σw r²/(n − p)).
        Without an intercept, se(b) is nan. Meaningless for a penalised fit (:func:`~linsgd.lstsq.summary.
        summarize` reports them as unavailable).
        """
        Q = solve_triangular(self.Rxx, np.eye(len(self.w)))
        s = self.residual_sd
        se_w = s * np.sqrt(np.einsum("ij,ij->i", Q, Q))
        se_b = s * float(np.sqrt(1.0 / self.weights + np.sum((Q.T @ self.mean) ** 2))) if self.fit_intercept \
            else float("nan")
        return se_w, se_b

    def excess_rss(self, w, b: float = 0.0) -> float:
        """Σ w_i (x_i·w + b − y_i)² − RSS, without a pass over the data and without cancellation.

        With Δw = w − w*, δ = x̄·Δw + (b − b*): the residuals of (w, b) are r* − Xc Δw − δ. The weighted
        residuals at the optimum sum to 0 (b is not penalised) and their products with the centred
        columns are g* = Σ w_i xc_i r*_i = Rxxᵀ(rxy − Rxx w*): 0 for least squares, α·W·(ρ s + (1 − ρ) w*)
        under a penalty. So the excess is ‖Rxx Δw‖² + W δ² − 2 g*·Δw. Without an intercept (R of the
        raw X, b* = 0), Σ w_i r*_i = W(ȳ − x̄·w*) need not vanish: the excess is
        ‖Rxx Δw‖² + 2Wb x̄·Δw + Wb² − 2Wb(ȳ − x̄·w*) − 2 g*·Δw.
        """
        dw = np.asarray(w, dtype=np.float64).reshape(-1) - self.w
        quad = float(np.sum((self.Rxx @ dw) ** 2)) - 2 * float(self.gradient() @ dw)
        W = self.weights
        if self.fit_intercept:
            return quad + W * float(self.mean @ dw + (b - self.b)) ** 2
        mean_resid = self.y_mean - float(self.mean @ self.w)
        return quad + W * b * (2 * float(self.mean @ dw) + b - 2 * mean_resid)

    def gradient(self) -> np.ndarray:
        """g* = Σ w_i xc_i r*_i = Rxxᵀ(rxy − Rxx w*): the data term's (negative, unnormalised) gradient at w*."""
        if self.rxy is None:
            return np.zeros(len(self.w))
        return self.Rxx.T @ (self.rxy - self.Rxx @ self.w)
