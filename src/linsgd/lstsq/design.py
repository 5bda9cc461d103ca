"""Is the design well posed? Columns that make least squares singular, and warnings for nearly singular ones.

``check_design`` raises a DataError naming a constant, all-zero or duplicated column (or a linear
combination) and the fix; ``diagnose``/``warn_about`` flag a nearly collinear design, a target without
variance, or no residual degrees of freedom.
"""

from __future__ import annotations

import warnings

import numpy as np

from linsgd.errors import DataError, LinsgdWarning

_EPS = np.finfo(np.float64).eps
SHOWN_TERMS = 5  # terms of a linear combination named in a message; the rest are counted, not listed


def check_numeric_columns(X) -> None:
    """Raise DataError naming the first column of a table (pandas, polars, pyarrow: anything with ``columns``)
    that is not numbers — text, dates — with the fix; arrays and numeric tables pass untouched."""
    if not hasattr(X, "columns"):
        return
    for name in X.columns:
        column = X[name]
        kind = getattr(getattr(column, "dtype", None), "kind", None)
        if kind in ("b", "i", "u", "f"):
            continue
        try:
            values = np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError):
            first = next((v for v in np.asarray(column, dtype=object) if isinstance(v, str)), None)
            found = f"text (e.g. {first!r})" if first is not None else "not numbers"
            raise DataError(f"column {str(name)!r} is {found}: linsgd.exact takes numeric columns; encode it (one "
                            f"indicator per level) or use linsgd.fit_file, which does, or drop the column") from None
        if kind == "M" or values.dtype.kind == "M":
            raise DataError(f"column {str(name)!r} holds dates or other non-numbers: linsgd.exact takes numeric "
                            f"columns; convert it (linsgd.fit_file turns dates into days since 1970-01-01)")


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
            raise constant_column(names, int(j), value, state.fit_intercept)
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


def constant_column(names: list[str], j: int, value: float, fit_intercept: bool) -> DataError:
    """The DataError of column ``j`` constant at ``value``; it keeps ``column``, ``value`` and
    ``fit_intercept`` so that a caller that centred or scaled the column can say the user's value instead."""
    why = "it repeats the intercept" if fit_intercept else "it is all zeros"
    e = DataError(f"column {names[j]!r} is constant (every value is {value:g}): {why} and has no unique "
                  f"coefficient; drop the column")
    e.names, e.column, e.value, e.fit_intercept = names, j, value, fit_intercept
    return e


def _combination(R: np.ndarray, independent: list[int], j: int, names: list[str]) -> str:
    """``c1·a + c2·b`` for the least-squares fit of column j on the independent columns (R's columns).

    Terms whose contribution ‖c_i R_:,i‖ is below √ε·‖R_:,j‖ are rounding noise and are left out; beyond the
    first :data:`SHOWN_TERMS` the others are counted (a 301-level column would otherwise fill a screen).
    """
    if not independent:
        return "0"
    coef = np.linalg.lstsq(R[:, independent], R[:, j], rcond=None)[0]
    size = np.abs(coef) * np.linalg.norm(R[:, independent], axis=0)
    floor = np.sqrt(_EPS) * np.linalg.norm(R[:, j])
    keep = [(c, names[i]) for c, i, s in zip(coef, independent, size, strict=True) if s > floor]
    shown = " ".join(f"{'-' if c < 0 else '+'} {abs(c):.6g}·{name}" for c, name in keep[:SHOWN_TERMS])
    more = f" … and {len(keep) - SHOWN_TERMS} more columns" if len(keep) > SHOWN_TERMS else ""
    return shown.lstrip("+ ") + more or "0"


def condition_number(solution) -> float:
    """κ₂ of the design as the solver sees it: centred (with an intercept), columns scaled to unit norm.

    This is the condition number that bounds the loss of accuracy of the QR solution (van der Sluis:
    column scaling does not change the Householder solution, so the scaled κ is the relevant one).
    """
    norms = np.linalg.norm(solution.Rxx, axis=0)
    return float(np.linalg.cond(solution.Rxx / np.where(norms > 0, norms, 1.0))) if norms.size else 1.0


def diagnose(solution) -> list[str]:
    """Warnings about a solution that exists but should not be trusted blindly (empty when all is well).

    Near-singular: κ > 1/√ε ≈ 6.7e7, i.e. more than half of float64's 16 digits may be lost (not said of a
    penalised fit: its penalty makes the problem well posed, and the statistics it affects are not reported).
    """
    out = []
    penalized = solution.penalized
    kappa = condition_number(solution)
    if kappa > 1.0 / np.sqrt(_EPS) and not penalized:
        out.append(f"the design is nearly collinear (condition number {kappa:.3g}): up to "
                   f"{np.log10(kappa):.0f} of 16 significant digits of the coefficients may be lost and SGD "
                   f"converges slowly; drop or combine nearly collinear columns, or centre polynomial terms")
    if solution.tss == 0:
        out.append("the target has no variance (every value is the same): R² is undefined (nan) and there "
                   "is nothing to learn beyond the mean; check that the right column is the target")
    if solution.df_resid == 0 and not penalized:
        out.append(f"{solution.n} rows for {solution.n_params} coefficients leave no residual degrees of "
                   f"freedom: the fit is exact and standard errors, t and p are undefined (nan); add rows")
    return out


def warn_about(solution) -> None:
    """Issue each message of :func:`diagnose` as a LinsgdWarning."""
    for message in diagnose(solution):
        warnings.warn(message, LinsgdWarning, stacklevel=3)
