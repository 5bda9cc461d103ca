"""What the exact solution says about a fit: the statistical table, honest warnings, the optimality gap.

Everything here is computed from a :class:`~linsgd.lstsq.solution.Solution`, i.e. from one streamed pass, with the
classical OLS formulas (Gaussian errors, n − p residual degrees of freedom)::

    s² = RSS / (n − p),  se = √diag(s² (X̃ᵀX̃)⁻¹),  t = coef / se,  p = 2·P(T_{n−p} > |t|),
    CI = coef ± t_{1−α/2, n−p} · se,  R² = 1 − RSS/TSS,  R̄² = 1 − (1 − R²)(n − k)/(n − p)

with k = 1 with an intercept (centred TSS) and 0 without (uncentred TSS). With sample weights these are
weighted least squares' formulas (RSS, TSS and X̃ᵀX̃ weighted; n − p counts rows, as statsmodels ``WLS``).
A penalised fit (α > 0) is biased and its coefficients are not t-distributed: standard errors, t, p and the
intervals are not available (nan in the table, None in JSON, with the reason), never printed wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linsgd.lstsq.design import condition_number, diagnose


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
    objective: str = "mean ½(ŷ−y)²"
    unavailable: str | None = None

    def __str__(self) -> str:
        pct = f"{100 * self.confidence:g}%"
        width = max([14, *(len(n) + 2 for n in self.names)])  # every name in full: the table widens
        head = f"{'':<{width}}{'coef':>14}{'std err':>12}{'t':>10}{'P>|t|':>10}{pct + ' CI low':>14}{'high':>14}"
        rows = [f"{name:<{width}}{c:>14.6g}{s:>12.4g}{t:>10.3f}{p:>10.3g}{lo:>14.6g}{hi:>14.6g}"
                for name, c, s, t, p, lo, hi in zip(self.names, self.coef, self.se, self.t, self.p,
                                                    self.ci_low, self.ci_high, strict=True)]
        stats = (f"n = {self.n}, residual df = {self.df_resid}, R² = {self.r2:.6g}, adjusted R² = "
                 f"{self.adj_r2:.6g}, residual SD = {self.residual_sd:.6g}, condition number = "
                 f"{self.condition_number:.3g}")
        notes = [f"objective: {self.objective}"] + ([f"not available: {self.unavailable}"] if self.unavailable else [])
        return "\n".join([head, *rows, stats, *notes, *(f"warning: {w}" for w in self.warnings)])

    def to_dict(self) -> dict:
        """Plain JSON values (for model metadata and ``--json`` output); undefined (nan) values are None."""
        table = {name: {"coef": _num(c), "se": _num(s), "t": _num(t), "p": _num(p), "ci": [_num(lo), _num(hi)]}
                 for name, c, s, t, p, lo, hi in zip(self.names, self.coef, self.se, self.t, self.p,
                                                     self.ci_low, self.ci_high, strict=True)}
        return {"coefficients": table, "confidence": self.confidence, "n": self.n, "df_resid": self.df_resid,
                "r2": _num(self.r2), "adj_r2": _num(self.adj_r2), "residual_sd": _num(self.residual_sd),
                "condition_number": _num(self.condition_number), "warnings": list(self.warnings),
                "objective": self.objective, **({"unavailable": self.unavailable} if self.unavailable else {})}


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def summarize(solution, *, confidence: float = 0.95) -> Summary:
    """The statistical table of ``solution`` (formulas in the module docstring).

    Args:
        solution: a :class:`~linsgd.lstsq.solution.Solution`. confidence: level of the intervals, in (0, 1).

    Returns:
        :class:`Summary`; quantities that need residual degrees of freedom are nan when n = p.

    Raises:
        ValueError: ``confidence`` outside (0, 1).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not allowed: a number in (0, 1), e.g. 0.95")
    from scipy import special  # the t distribution only: scipy.stats costs ~1 s of import, special a third

    if solution.penalized:
        return _penalized_summary(solution, confidence)
    se_w, se_b = solution.standard_errors()
    names = list(solution.feature_names)
    coef, se = solution.w, se_w
    if solution.fit_intercept:
        names, coef, se = names + ["intercept"], np.append(coef, solution.b), np.append(se, se_b)
    df = solution.df_resid
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    p = 2 * special.stdtr(df, -np.abs(t)) if df > 0 else np.full_like(t, np.nan)  # 2·P(T > |t|)
    half = special.stdtrit(df, 0.5 + confidence / 2) * se if df > 0 else np.full_like(t, np.nan)
    k = int(solution.fit_intercept)
    adj = 1 - (1 - solution.r2) * (solution.n - k) / df if df > 0 else float("nan")
    return Summary(names, coef, se, t, p, coef - half, coef + half, confidence, solution.n, df,
                   solution.r2, adj, solution.residual_sd, condition_number(solution), diagnose(solution),
                   solution.objective_text)


def _penalized_summary(solution, confidence: float) -> Summary:
    """The table of a penalised fit: coefficients, R² and the condition number; the rest nan, with the reason."""
    names, coef = list(solution.feature_names), solution.w
    if solution.fit_intercept:
        names, coef = names + ["intercept"], np.append(coef, solution.b)
    nan = np.full(len(coef), np.nan)
    return Summary(names, coef, nan, nan, nan, nan, nan, confidence, solution.n, solution.df_resid, solution.r2,
                   float("nan"), float("nan"), condition_number(solution), diagnose(solution),
                   solution.objective_text, _NO_STATISTICS.format(alpha=solution.alpha))


_NO_STATISTICS = ("standard errors, t, p, confidence intervals, adjusted R² and the residual SD: the fit is "
                  "penalised (alpha={alpha:g}), so its coefficients are biased and the least-squares formulas "
                  "do not hold (fit with alpha=0 for them)")


@dataclass(frozen=True)
class OptimalityGap:
    """How far an (SGD) answer (w, b) is from the exact minimiser of the same objective.

    Attributes:
        loss: the objective F(w, b) of the answer (:class:`~linsgd.lstsq.solution.Solution`: the (weighted)
            mean ½(x·w + b − y)², plus the penalty when one was optimised); optimum: F at the exact solution.
        relative: (loss − optimum) / optimum (0 when both are 0, inf when only the optimum is 0).
        se_units: (w − w*)/se(w), then (b − b*)/se(b) when an intercept is fitted.
        mahalanobis: √((θ − θ*)ᵀ X̃ᵀWX̃ (θ − θ*)) / s, the distance in the estimate's own covariance;
            values well below 1 mean the answer is statistically indistinguishable from the optimum.
        objective: F in words. unavailable: why se_units and mahalanobis are nan (a penalised objective), or None.
        null: ½·TSS/W, the loss of predicting the (weighted) mean: the floor the convergence verdict measures a
            perfect fit's gap against (:mod:`linsgd.sgd.convergence`).
    """

    loss: float
    optimum: float
    relative: float
    se_units: np.ndarray
    mahalanobis: float
    objective: str = "mean ½(ŷ−y)²"
    unavailable: str | None = None
    null: float = float("nan")

    def to_dict(self) -> dict:
        """JSON values (non-finite numbers as None): the scalars, ``max_se_units``, ``se_units``, ``objective``,
        ``null`` and, for a penalised objective, ``unavailable``."""
        units = [_num(v) for v in self.se_units]
        finite = np.abs(self.se_units[np.isfinite(self.se_units)])
        biggest = float(finite.max()) if len(finite) else float("nan")
        out = {"loss": _num(self.loss), "optimum": _num(self.optimum), "relative": _num(self.relative),
               "mahalanobis": _num(self.mahalanobis), "max_se_units": _num(biggest), "se_units": units,
               "objective": self.objective, "null": _num(self.null)}
        return out | ({"unavailable": self.unavailable} if self.unavailable else {})

    def __str__(self) -> str:
        head = (f"objective {self.objective}: {self.loss:.8g} vs optimum {self.optimum:.8g} (relative gap "
                f"{self.relative:.3g})")
        if self.unavailable:
            return head
        return (f"{head}; distance from the exact solution: {self.mahalanobis:.3g} (Mahalanobis), "
                f"max {np.nanmax(np.abs(self.se_units)):.3g} standard errors per coefficient")


def optimality_gap(solution, w, b: float = 0.0) -> OptimalityGap:
    """The optimality gap of (w, b) against the objective ``solution`` minimised, with no further pass.

    excess = Σw_i(x_i·w + b − y_i)² − RSS is exact (:meth:`Solution.excess_rss`), so F(w, b) =
    (RSS + excess)/(2W) + penalty(w) and relative = (F(w, b) − F*)/F*. Without a penalty,
    mahalanobis = √excess / s and se_units use the standard errors; with one they are nan (``unavailable``).
    """
    optimum, gap = solution.optimum, solution.excess(w, b)
    null = 0.5 * solution.tss / solution.weights if solution.weights > 0 else float("nan")
    loss = optimum + gap
    relative = gap / optimum if optimum > 0 else (0.0 if gap <= 0 else float("inf"))
    dw = np.asarray(w, dtype=np.float64).reshape(-1) - solution.w
    if solution.penalized:
        units = np.full(len(dw) + int(solution.fit_intercept), np.nan)
        return OptimalityGap(loss, optimum, relative, units, float("nan"), solution.objective_text,
                             "standard errors and the Mahalanobis distance: " + _NO_STATISTICS.split(": ", 1)[1]
                             .format(alpha=solution.alpha), null)
    se_w, se_b = solution.standard_errors()
    with np.errstate(divide="ignore", invalid="ignore"):
        units = dw / se_w
        if solution.fit_intercept:
            units = np.append(units, np.float64(b - solution.b) / se_b)  # se 0 (a perfect fit): inf or nan
        mahal = float(np.sqrt(max(solution.excess_rss(w, b), 0.0)) / solution.residual_sd)
    return OptimalityGap(loss, optimum, relative, units, mahal, solution.objective_text, null=null)
