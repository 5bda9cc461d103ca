"""The exact least-squares solution and what follows from it without another pass over the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Solution:
    """The exact least-squares solution: ŷ = Xw + b minimises Σ(ŷ − y)².

    Attributes:
        w: coefficients (d,). b: intercept (0.0 without one). n: rows.
        rss: residual sum of squares Σ(y − ŷ)². tss: total sum of squares Σ(y − ȳ)² (Σy² without an
            intercept, the convention of NIST StRD and statsmodels).
        fit_intercept, feature_names: as fitted. mean: column means of X; y_mean: mean of y.
        Rxx: the (centred) triangular factor of X, RxxᵀRxx = XcᵀXc.
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
        """The optimum of linsgd's training loss, the mean of ½(ŷ − y)²: RSS / (2n)."""
        return self.rss / (2 * self.n)

    @property
    def residual_sd(self) -> float:
        """s = √(RSS / (n − p)); nan when n = p (no residual degrees of freedom)."""
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else float("nan")

    @property
    def r2(self) -> float:
        """R² = 1 − RSS/TSS; nan when the target has no variance (TSS = 0)."""
        return 1.0 - self.rss / self.tss if self.tss > 0 else float("nan")

    def standard_errors(self) -> tuple[np.ndarray, float]:
        """Standard errors of w and of b: √diag(s² (XcᵀXc)⁻¹) and s√(1/n + x̄ᵀ(XcᵀXc)⁻¹x̄).

        With Rxx⁻¹ = Q: Cov(w) = s² Q Qᵀ, so se(w_j) = s‖Q_j,:‖, and x̄ᵀ(XcᵀXc)⁻¹x̄ = ‖Qᵀx̄‖².
        Without an intercept, se(b) is nan.
        """
        Q = solve_upper(self.Rxx, np.eye(len(self.w)))
        s = self.residual_sd
        se_w = s * np.sqrt(np.einsum("ij,ij->i", Q, Q))
        se_b = s * float(np.sqrt(1.0 / self.n + np.sum((Q.T @ self.mean) ** 2))) if self.fit_intercept \
            else float("nan")
        return se_w, se_b

    def excess_rss(self, w, b: float = 0.0) -> float:
        """Σ(x·w + b − y)² − RSS, without a pass over the data and without cancellation.

        With Δw = w − w*, δ = x̄·Δw + (b − b*): the residuals of (w, b) are r* − Xc Δw − δ, and r* is
        orthogonal to the centred columns and to 1, so the excess is ‖Rxx Δw‖² + n δ². Without an
        intercept (R of the raw X, b* = 0) r* is orthogonal to X but not to 1 (Σr* = n(ȳ − x̄·w*)):
        the excess is ‖Rxx Δw‖² + 2nb x̄·Δw + nb² − 2nb(ȳ − x̄·w*).
        """
        dw = np.asarray(w, dtype=np.float64).reshape(-1) - self.w
        quad = float(np.sum((self.Rxx @ dw) ** 2))
        if self.fit_intercept:
            return quad + self.n * float(self.mean @ dw + (b - self.b)) ** 2
        mean_resid = self.y_mean - float(self.mean @ self.w)
        return quad + self.n * b * (2 * float(self.mean @ dw) + b - 2 * mean_resid)


def solve_upper(R: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve R x = b for upper-triangular R by back substitution (LAPACK dtrtrs)."""
    from scipy.linalg import solve_triangular

    return solve_triangular(R, b, lower=False)
