"""The exact least-squares answer in one streamed, mergeable float64 pass (and the lr rules, re-exported).

The exact answer comes from one streamed pass that accumulates the triangular factor R of the centred
augmented matrix A = [X y] − mean (a tall-skinny QR). A chunk with m rows, mean μ_c and centred rows A_c
is folded in, and two partial results merge, by the pairwise (Chan et al.) formula for the centred Gram
matrix G = AᵀA written in factored form::

    G_a∪b = G_a + G_b + (n_a n_b / n) δδᵀ,  δ = μ_b − μ_a   ⇒   R_a∪b = qr([R_a; R_b; √(n_a n_b/n) δᵀ]).R

Householder QR is backward stable column by column, so the accuracy of the solution depends on the
condition number of the centred, column-equilibrated design, never on κ(XᵀX) = κ(X)² as the normal
equations do. Partial results from chunks, files or ranks merge exactly (:meth:`LeastSquares.merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from linsgd.errors import DataError
from linsgd.exact.design import check_design, warn_about
from linsgd.exact.solution import Solution, solve_upper

CHUNK_ROWS = 65_536


@dataclass
class LeastSquares:
    """Streamed, mergeable state of the least-squares problem y ≈ Xw + b (or y ≈ Xw), in float64.

    Attributes:
        fit_intercept: with an intercept, R is the factor of the centred [X y]; without, of the raw one.
        count: rows seen. mean: column means of [X y], shape (d+1,).
        R: upper-triangular (k, d+1), k = min(count, d+1), with RᵀR = the (centred) Gram matrix of [X y].
        lo, hi: column minimum and maximum of X (finds constant columns exactly).
    """

    fit_intercept: bool
    count: int
    mean: np.ndarray
    R: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def empty(cls, d: int, *, fit_intercept: bool = True) -> LeastSquares:
        """The state of no rows for d features."""
        return cls(fit_intercept, 0, np.zeros(d + 1), np.zeros((0, d + 1)), np.full(d, np.inf),
                   np.full(d, -np.inf))

    @property
    def n_features(self) -> int:
        return self.R.shape[1] - 1

    def update(self, X, y) -> LeastSquares:
        """The state after adding the rows of X (m, d) and y (m,); ``self`` is left unchanged.

        Raises:
            DataError: shapes that do not match, or a value that is not finite (named by row and column).
        """
        A = _augmented(X, y, self.n_features, self.count)
        if len(A) == 0:
            return self
        mean = A.mean(axis=0)
        part = LeastSquares(self.fit_intercept, len(A), mean,
                            _r_factor(A - mean if self.fit_intercept else A), A[:, :-1].min(axis=0),
                            A[:, :-1].max(axis=0))
        return self.merge(part)

    def merge(self, other: LeastSquares) -> LeastSquares:
        """The state of the union of both row sets (the module docstring gives the formula)."""
        if other.fit_intercept != self.fit_intercept or other.n_features != self.n_features:
            raise ValueError("cannot merge least-squares states of different shapes or intercept settings")
        n = self.count + other.count
        if self.count == 0 or other.count == 0:
            return other if self.count == 0 else self
        delta = other.mean - self.mean
        blocks = [self.R, other.R]
        if self.fit_intercept:
            blocks.append(np.sqrt(self.count * other.count / n) * delta[None, :])
        return LeastSquares(self.fit_intercept, n, self.mean + delta * (other.count / n),
                            _r_factor(np.vstack(blocks)), np.minimum(self.lo, other.lo),
                            np.maximum(self.hi, other.hi))

    def solution(self, feature_names: Sequence[str] | None = None) -> Solution:
        """The least-squares coefficients and what is known about them (see :class:`Solution`).

        Raises:
            DataError: no unique solution — fewer rows than coefficients, a constant or all-zero column,
                or a column that is a linear combination of others (the message names it and the fix).
        """
        names = list(feature_names) if feature_names is not None else default_names(self.n_features)
        if len(names) != self.n_features:
            raise DataError(f"{len(names)} feature names for {self.n_features} columns: give one name per column")
        check_design(self, names)
        d = self.n_features
        Rxx, rxy = self.R[:d, :d], self.R[:d, d]
        rss = float(self.R[d, d] ** 2) if self.R.shape[0] > d else 0.0
        w = solve_upper(Rxx, rxy)
        b = float(self.mean[d] - self.mean[:d] @ w) if self.fit_intercept else 0.0
        tss = float(self.R[:, d] @ self.R[:, d])  # centred Σ(y−ȳ)², or Σy² without an intercept
        solution = Solution(w=w, b=b, n=self.count, rss=rss, tss=tss, fit_intercept=self.fit_intercept,
                            feature_names=names, mean=self.mean[:d].copy(), y_mean=float(self.mean[d]),
                            Rxx=Rxx.copy())
        warn_about(solution)
        return solution


def exact(X, y=None, *, fit_intercept: bool = True, feature_names: Sequence[str] | None = None,
          chunk_rows: int = CHUNK_ROWS, refine: bool = True) -> Solution:
    """The least-squares solution of y ≈ Xw + b in one streamed float64 pass (QR, see module docstring).

    Args:
        X: features (n, d) with ``y`` (n,) or (n, 1); or, with ``y=None``, an iterable of ``(X, y)``
            chunks (for data larger than memory).
        fit_intercept: fit b (default) or force b = 0.
        feature_names: d column names used in messages and summaries (default: a DataFrame's columns,
            else x1 … xd).
        chunk_rows: rows converted to float64 at a time when X is one array.
        refine: when X is one array (so a second pass is possible), follow the QR pass by one step of
            iterative refinement with extended-precision residuals (:func:`refined`).

    Returns:
        :class:`Solution`.

    Raises:
        DataError: bad shapes, non-finite values, or no unique solution (the message says which column).

    Example:
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> s = exact(X, 1.0 + 2.0 * X[:, 0])
        >>> np.round(s.w, 12).tolist(), round(s.b, 12)
        ([2.0], 1.0)
    """
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    chunks: Iterable = _chunks(X, y, chunk_rows) if y is not None else X
    state: LeastSquares | None = None
    for Xc, yc in chunks:
        Xc = np.asarray(Xc)
        if state is None:
            state = LeastSquares.empty(Xc.shape[1] if Xc.ndim == 2 else 0, fit_intercept=fit_intercept)
        state = state.update(Xc, yc)
    if state is None or state.count == 0:
        raise DataError("no rows to fit: the data is empty")
    solution = state.solution(feature_names)
    return refined(solution, _chunks(X, y, chunk_rows)) if refine and y is not None else solution


def refined(solution: Solution, chunks: Iterable) -> Solution:
    """One step of iterative refinement of ``solution`` over the same data (a second pass).

    With the residual r = y − Xw − b accumulated in long double (64-bit mantissa on x86), the
    corrected semi-normal equations (Björck) give δw = (RxxᵀRxx)⁻¹ Σ(x_i − x̄) r_i and
    δb = r̄ − x̄·δw (without an intercept: δw = (RxxᵀRxx)⁻¹ Σ x_i r_i, δb = 0). This removes the
    κ²‖r‖ε term of the QR error for large residuals and the cancellation in b = ȳ − x̄·w; and
    RSS = Σr² − gᵀδ (g the gradient sums, δ the correction) is exact to long-double rounding. Where long
    double is plain double (e.g. arm64 macOS, Windows) the step is fixed-precision refinement: harmless.
    """
    from scipy.linalg import solve_triangular

    ld = np.longdouble
    w, b = solution.w.astype(ld), ld(solution.b)
    g, rsum, rss = np.zeros(len(w), dtype=ld), ld(0), ld(0)
    for Xc, yc in chunks:
        Xl = np.asarray(Xc, dtype=ld)
        r = np.asarray(yc, dtype=ld).reshape(-1) - (Xl @ w + b)
        g, rsum, rss = g + Xl.T @ r, rsum + r.sum(), rss + r @ r
    if solution.fit_intercept:
        g = g - solution.mean.astype(ld) * rsum
    dw = solve_upper(solution.Rxx, solve_triangular(solution.Rxx.T, g.astype(np.float64), lower=True))
    if solution.fit_intercept:
        db = float(rsum / solution.n) - float(solution.mean @ dw)
        rss = rss - (g @ dw.astype(ld) + rsum * rsum / solution.n)
    else:
        db, rss = 0.0, rss - g @ dw.astype(ld)
    return replace(solution, w=(w + dw.astype(ld)).astype(np.float64), b=float(b + ld(db)),
                   rss=max(float(rss), 0.0))


def default_names(d: int) -> list[str]:
    """Column names x1 … xd (1-based, as in statistical tables)."""
    return [f"x{j + 1}" for j in range(d)]


def _chunks(X, y, rows: int):
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"X must have shape (n, d), got {X.shape}")
    for start in range(0, max(len(X), 1), rows):
        yield X[start:start + rows], y[start:start + rows]


def _augmented(X, y, d: int, first_row: int) -> np.ndarray:
    """[X y] as float64 (m, d+1); DataError on bad shapes or non-finite values (global row number)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1:] == (1,):
        y = y.reshape(-1)
    if X.ndim != 2 or X.shape[1] != d or y.shape != (len(X),):
        raise DataError(f"expected X of shape (m, {d}) and y of shape (m,), got {X.shape} and {y.shape}")
    A = np.column_stack([X, y])
    bad = np.argwhere(~np.isfinite(A))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        what = "y" if j == d else f"X[:, {j}]"
        raise DataError(f"{what} at row {first_row + i} is {A[i, j]}, not a finite number: remove or impute it")
    return A


def _r_factor(A: np.ndarray) -> np.ndarray:
    """R of the Householder QR of A (LAPACK dgeqrf via numpy), rows = min(m, columns)."""
    return np.linalg.qr(A, mode="r")
