"""What the exact solution says about a fit: the statistical table, honest warnings, the optimality gap.

Everything here is computed from a :class:`~linsgd.solve.Solution`, i.e. from one streamed pass, with the
classical OLS formulas (Gaussian errors, n − p residual degrees of freedom)::

    s² = RSS / (n − p),  se = √diag(s² (X̃ᵀX̃)⁻¹),  t = coef / se,  p = 2·P(T_{n−p} > |t|),
    CI = coef ± t_{1−α/2, n−p} · se,  R² = 1 − RSS/TSS,  R̄² = 1 − (1 − R²)(n − k)/(n − p)

with k = 1 with an intercept (centred TSS) and 0 without (uncentred TSS).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from linsgd.errors import DataError, LinsgdWarning

_EPS = np.finfo(np.float64).eps


def check_design(state, names: list[str]) -> None:
    """Raise DataError when ``state`` (a LeastSquares) has no unique solution, naming the column.

    A column j is a linear combination of the earlier ones when |R_jj| ≤ ε·max(n, d+1)·‖R_:,j‖ (the
    sine of its angle to their span is at rounding level: numpy's matrix_rank tolerance).
    """
    d, n, p = state.n_features, state.count, state.n_features + int(state.fit_intercept)
    if n < p:
        extra = " plus the intercept" if state.fit_intercept else ""
        raise DataError(f"n_samples = {n} rows cannot determine {p} coefficients ({d} features{extra}): there are more "
                        f"features than rows; add rows or drop at least {p - n} feature column(s)")
    for j in np.flatnonzero(state.hi == state.lo):
        value = float(state.lo[j])
        if state.fit_intercept or value == 0.0:
            why = "it repeats the intercept" if state.fit_intercept else "it is all zeros"
            raise DataError(f"column {names[j]!r} is constant (every value is {value:g}): {why} and has no "
                            f"unique coefficient; drop the column")
    R, tol = state.R, _EPS * max(n, d + 1)
    independent: list[int] = []
    for j in range(d):
        diag = abs(R[j, j]) if j < R.shape[0] else 0.0
        if diag > tol * np.linalg.norm(R[:, j]):
            independent.append(j)
        else:
            const = " + const" if state.fit_intercept else ""
            raise DataError(f"column {names[j]!r} is a linear combination of other columns ({names[j]} ≈ "
                            f"{_combination(R, independent, j, names)}{const}): a duplicated or derived "
                            f"column has no unique coefficient; drop {names[j]!r}")


def _combination(R: np.ndarray, independent: list[int], j: int, names: list[str]) -> str:
    """``c1·a + c2·b`` for the least-squares fit of column j on the independent columns (R's columns).

    Terms whose contribution ‖c_i R_:,i‖ is below √ε·‖R_:,j‖ are rounding noise and are left out.
    """
    if not independent:
        return "0"
    coef = np.linalg.lstsq(R[:, independent], R[:, j], rcond=None)[0]
    size = np.abs(coef) * np.linalg.norm(R[:, independent], axis=0)
    floor = np.sqrt(_EPS) * np.linalg.norm(R[:, j])
    keep = [(c, names[i]) for c, i, s in zip(coef, independent, size, strict=True) if s > floor]
    return " ".join(f"{'-' if c < 0 else '+'} {abs(c):.6g}·{name}" for c, name in keep).lstrip("+ ") or "0"


def condition_number(solution) -> float:
    """κ₂ of the design as the solver sees it: centred (with an intercept), columns scaled to unit norm.

    This is the condition number that bounds the loss of accuracy of the QR solution (van der Sluis:
    column scaling does not change the Householder solution, so the scaled κ is the relevant one).
    """
    norms = np.linalg.norm(solution.Rxx, axis=0)
    return float(np.linalg.cond(solution.Rxx / np.where(norms > 0, norms, 1.0))) if norms.size else 1.0


def diagnose(solution) -> list[str]:
    """Warnings about a solution that exists but should not be trusted blindly (empty when all is well).

    Near-singular: κ > 1/√ε ≈ 6.7e7, i.e. more than half of float64's 16 digits may be lost.
    """
    out = []
    kappa = condition_number(solution)
    if kappa > 1.0 / np.sqrt(_EPS):
        out.append(f"the design is nearly collinear (condition number {kappa:.3g}): up to "
                   f"{np.log10(kappa):.0f} of 16 significant digits of the coefficients may be lost and SGD "
                   f"converges slowly; drop or combine nearly collinear columns, or centre polynomial terms")
    if solution.tss == 0:
        out.append("the target has no variance (every value is the same): R² is undefined (nan) and there "
                   "is nothing to learn beyond the mean; check that the right column is the target")
    if solution.df_resid == 0:
        out.append(f"{solution.n} rows for {solution.n_params} coefficients leave no residual degrees of "
                   f"freedom: the fit is exact and standard errors, t and p are undefined (nan); add rows")
    return out


def warn_about(solution) -> None:
    """Issue each message of :func:`diagnose` as a LinsgdWarning."""
    for message in diagnose(solution):
        warnings.warn(message, LinsgdWarning, stacklevel=3)


@dataclass(frozen=True)
class Summary:
    """The statistical table of a least-squares fit (rows: features, then the intercept if fitted)."""

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float
    n: int
    df_resid: int
    r2: float
    adj_r2: float
    residual_sd: float
    condition_number: float
    warnings: list[str]

    def __str__(self) -> str:
        pct = f"{100 * self.confidence:g}%"
        head = f"{'':<14}{'coef':>14}{'std err':>12}{'t':>10}{'P>|t|':>10}{pct + ' CI low':>14}{'high':>14}"
        rows = [f"{name[:14]:<14}{c:>14.6g}{s:>12.4g}{t:>10.3f}{p:>10.3g}{lo:>14.6g}{hi:>14.6g}"
                for name, c, s, t, p, lo, hi in zip(self.names, self.coef, self.se, self.t, self.p,
                                                    self.ci_low, self.ci_high, strict=True)]
        stats = (f"n = {self.n}, residual df = {self.df_resid}, R² = {self.r2:.6g}, adjusted R² = "
                 f"{self.adj_r2:.6g}, residual SD = {self.residual_sd:.6g}, condition number = "
                 f"{self.condition_number:.3g}")
        return "\n".join([head, *rows, stats, *(f"warning: {w}" for w in self.warnings)])

    def to_dict(self) -> dict:
        """Plain JSON values (for model metadata and ``--json`` output); undefined (nan) values are None."""
        table = {name: {"coef": _num(c), "se": _num(s), "t": _num(t), "p": _num(p), "ci": [_num(lo), _num(hi)]}
                 for name, c, s, t, p, lo, hi in zip(self.names, self.coef, self.se, self.t, self.p,
                                                     self.ci_low, self.ci_high, strict=True)}
        return {"coefficients": table, "confidence": self.confidence, "n": self.n, "df_resid": self.df_resid,
                "r2": _num(self.r2), "adj_r2": _num(self.adj_r2), "residual_sd": _num(self.residual_sd),
                "condition_number": _num(self.condition_number), "warnings": list(self.warnings)}


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def summarize(solution, *, confidence: float = 0.95) -> Summary:
    """The statistical table of ``solution`` (formulas in the module docstring).

    Args:
        solution: a :class:`~linsgd.solve.Solution`. confidence: level of the intervals, in (0, 1).

    Returns:
        :class:`Summary`; quantities that need residual degrees of freedom are nan when n = p.

    Raises:
        ValueError: ``confidence`` outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not allowed: a number in (0, 1), e.g. 0.95")
    from scipy import stats

    se_w, se_b = solution.standard_errors()
    names = list(solution.feature_names)
    coef, se = solution.w, se_w
    if solution.fit_intercept:
        names, coef, se = names + ["intercept"], np.append(coef, solution.b), np.append(se, se_b)
    df = solution.df_resid
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    p = 2 * stats.t.sf(np.abs(t), df) if df > 0 else np.full_like(t, np.nan)
    half = stats.t.ppf(0.5 + confidence / 2, df) * se if df > 0 else np.full_like(t, np.nan)
    k = int(solution.fit_intercept)
    adj = 1 - (1 - solution.r2) * (solution.n - k) / df if df > 0 else float("nan")
    return Summary(names, coef, se, t, p, coef - half, coef + half, confidence, solution.n, df,
                   solution.r2, adj, solution.residual_sd, condition_number(solution), diagnose(solution))


@dataclass(frozen=True)
class OptimalityGap:
    """How far an (SGD) answer (w, b) is from the exact least-squares solution.

    Attributes:
        loss: mean ½(x·w + b − y)² of the answer; optimum: the same at the exact solution, RSS/(2n).
        relative: (loss − optimum) / optimum (0 when both are 0, inf when only the optimum is 0).
        se_units: (w − w*)/se(w), then (b − b*)/se(b) when an intercept is fitted.
        mahalanobis: √((θ − θ*)ᵀ X̃ᵀX̃ (θ − θ*)) / s, the distance in the estimate's own covariance;
            values well below 1 mean the answer is statistically indistinguishable from the optimum.
    """

    loss: float
    optimum: float
    relative: float
    se_units: np.ndarray
    mahalanobis: float

    def __str__(self) -> str:
        return (f"loss {self.loss:.8g} vs optimum {self.optimum:.8g} (relative gap {self.relative:.3g}); "
                f"distance from the exact solution: {self.mahalanobis:.3g} (Mahalanobis), "
                f"max {np.nanmax(np.abs(self.se_units)):.3g} standard errors per coefficient")


def optimality_gap(solution, w, b: float = 0.0) -> OptimalityGap:
    """The optimality gap of (w, b) from the exact ``solution``, with no further pass over the data.

    excess = Σ(x·w + b − y)² − RSS is exact (:meth:`Solution.excess_rss`), so
    loss = (RSS + excess)/(2n), relative = excess/RSS, and mahalanobis = √excess / s.
    """
    excess = solution.excess_rss(w, b)
    optimum = solution.loss
    gap = excess / (2 * solution.n)
    relative = gap / optimum if optimum > 0 else (0.0 if gap == 0 else float("inf"))
    se_w, se_b = solution.standard_errors()
    with np.errstate(divide="ignore", invalid="ignore"):
        units = (np.asarray(w, dtype=np.float64).reshape(-1) - solution.w) / se_w
        if solution.fit_intercept:
            units = np.append(units, (b - solution.b) / se_b)
        mahal = float(np.sqrt(excess) / solution.residual_sd)
    return OptimalityGap(optimum + gap, optimum, relative, units, mahal)
