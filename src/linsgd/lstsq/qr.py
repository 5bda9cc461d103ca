"""The exact least-squares answer in one streamed, mergeable float64 pass (and the lr rules, re-exported).

The exact answer comes from one streamed pass that accumulates the triangular factor R of the centred
augmented matrix A = [X y] − mean (a tall-skinny QR). A chunk with m rows, mean μ_c and centred rows A_c
is folded in, and two partial results merge, by the pairwise (Chan et al.) formula for the centred Gram
matrix G = AᵀA written in factored form::

    G_a∪b = G_a + G_b + (n_a n_b / n) δδᵀ,  δ = μ_b − μ_a   ⇒   R_a∪b = qr([R_a; R_b; √(n_a n_b/n) δᵀ]).R

With sample weights w_i ≥ 0 the same holds with weighted counts W = Σw and weighted means
μ = Σ w_i a_i / W: a chunk's factor is that of the rows √w_i (a_i − μ_c), so RᵀR = Σ w_i (a_i − μ)(a_i − μ)ᵀ,
and for two parts (Σ_a w_i (a_i − μ)(a_i − μ)ᵀ = G_a + W_a (μ_a − μ)(μ_a − μ)ᵀ, μ_a − μ = −(W_b/W) δ)::

    G_a∪b = G_a + G_b + (W_a W_b / W) δδᵀ,  μ = μ_a + (W_b / W) δ,  W = W_a + W_b

which for unit weights is the formula above. An integer weight k is k copies of the row: both sides give
the same weighted mean and Gram matrix. Rows of weight 0 are left out (they count as absent rows).

Householder QR is backward stable column by column, so the accuracy of the solution depends on the
condition number of the centred, column-equilibrated design, never on κ(XᵀX) = κ(X)² as the normal
equations do. Partial results from chunks, files or ranks merge exactly (:meth:`LeastSquares.merge`);
penalised objectives (ridge, lasso, elastic net) are solved from the same factor
(:mod:`linsgd.lstsq.penalized`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from linsgd.errors import DataError
from linsgd.lstsq.design import check_design, check_numeric_columns, warn_about
from linsgd.lstsq.factor import chunk_state, merged_state
from linsgd.lstsq.gram import gram_factor, refine_centred
from linsgd.lstsq.linalg import solve_triangular
from linsgd.lstsq.penalized import check_penalty, solve_penalized
from linsgd.lstsq.rows import array_chunks, augmented, weights
from linsgd.lstsq.solution import Solution

CHUNK_ROWS = 65_536


@dataclass
class LeastSquares:
    """Streamed, mergeable state of the (weighted) least-squares problem y ≈ Xw + b (or y ≈ Xw), in float64.

    Attributes:
        fit_intercept: with an intercept, R is the factor of the centred [X y]; without, of the raw one.
        count: rows seen (of weight > 0). mean: (weighted) column means of [X y], shape (d+1,).
        R: upper-triangular (k, d+1), k = min(count, d+1), with RᵀR = the (centred) weighted Gram matrix.
        lo, hi: column minimum and maximum of X (finds constant columns exactly).
        weight: W = Σ w_i (= count without weights). weighted: whether sample weights were given.
    """

    fit_intercept: bool
    count: int
    mean: np.ndarray
    R: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    weight: float = 0.0
    weighted: bool = False

    @classmethod
    def empty(cls, d: int, *, fit_intercept: bool = True) -> LeastSquares:
        """The state of no rows for d features."""
        return cls(fit_intercept, 0, np.zeros(d + 1), np.zeros((0, d + 1)), np.full(d, np.inf),
                   np.full(d, -np.inf))

    @property
    def n_features(self) -> int:
        return self.R.shape[1] - 1

    def update(self, X, y, sample_weight=None) -> LeastSquares:
        """The state after adding the rows of X (m, d) and y (m,) with weights w (m,) ≥ 0 (None: 1 each).

        ``self`` is left unchanged. The chunk's factor is that of √w_i (a_i − μ_c) (module docstring).

        Raises:
            DataError: shapes that do not match, a value that is not finite (named by row and column), or a
                negative or non-finite weight.
        """
        A = augmented(X, y, self.n_features, self.count)
        wts = weights(sample_weight, len(A))
        part = chunk_state(A, wts, self.n_features, centred=self.fit_intercept)
        if part is None:
            return replace(self, weighted=self.weighted or wts is not None)
        return self.merge(LeastSquares(self.fit_intercept, *part, wts is not None))

    def merge(self, other: LeastSquares) -> LeastSquares:
        """The state of the union of both row sets (the module docstring gives the weighted formula)."""
        if other.fit_intercept != self.fit_intercept or other.n_features != self.n_features:
            raise ValueError("cannot merge least-squares states of different shapes or intercept settings")
        weighted = self.weighted or other.weighted
        if self.count == 0 or other.count == 0:
            return replace(other if self.count == 0 else self, weighted=weighted)
        return LeastSquares(self.fit_intercept, *merged_state(self, other, centred=self.fit_intercept), weighted)

    def to_floats(self) -> np.ndarray:
        """The state as one float64 vector of length (d+1)² + 3d + 5, to send between ranks.

        Layout: [fit_intercept, count, weight, weighted, mean (d+1), R padded with zero rows to (d+1, d+1),
        lo (d), hi (d)]; :meth:`from_floats` inverts it exactly (counts are exact below 2⁵³).
        """
        d = self.n_features
        R = np.zeros((d + 1, d + 1))
        R[:len(self.R)] = self.R
        head = [float(self.fit_intercept), float(self.count), self.weight, float(self.weighted)]
        return np.concatenate([head, self.mean, R.reshape(-1), self.lo, self.hi])

    @classmethod
    def from_floats(cls, vec, d: int) -> LeastSquares:
        """The state that :meth:`to_floats` wrote, for d features."""
        vec = np.asarray(vec, dtype=np.float64)
        count, k = int(vec[1]), (d + 1) ** 2
        R = vec[d + 5:d + 5 + k].reshape(d + 1, d + 1)[:min(count, d + 1)].copy()
        lo, hi = vec[d + 5 + k:2 * d + 5 + k].copy(), vec[2 * d + 5 + k:3 * d + 5 + k].copy()
        return cls(bool(vec[0]), count, vec[4:d + 5].copy(), R, lo, hi, float(vec[2]), bool(vec[3]))

    def solution(self, feature_names: Sequence[str] | None = None, *, alpha: float = 0.0,
                 l1_ratio: float = 0.0) -> Solution:
        """The minimiser of the objective of :class:`Solution` and what is known about it.

        Args:
            feature_names: d column names (default x1 … xd). alpha, l1_ratio: the penalty α ≥ 0, ρ ∈ [0, 1]
                (:mod:`linsgd.lstsq.penalized`; α = 0: least squares).

        Raises:
            DataError: no unique least-squares solution (α = 0) — fewer rows than coefficients, a constant or
                all-zero column, or a column that is a linear combination of others (the message names it
                and the fix); no rows at all (α > 0).
            ConfigError: α or ρ out of range.
        """
        names = list(feature_names) if feature_names is not None else default_names(self.n_features)
        if len(names) != self.n_features:
            raise DataError(f"{len(names)} feature names for {self.n_features} columns: give one name per column")
        alpha, l1_ratio = check_penalty(alpha, l1_ratio)
        d = self.n_features
        if alpha == 0:
            check_design(self, names)
        elif self.count == 0:
            raise DataError("no rows to fit: the data is empty")
        R = np.zeros((max(len(self.R), d + 1), d + 1))
        R[:len(self.R)] = self.R  # square when there are fewer rows than columns (penalised fits allow it)
        Rxx, rxy = R[:d, :d], R[:d, d]
        w = solve_triangular(Rxx, rxy) if alpha == 0 else solve_penalized(Rxx, rxy, self.weight, alpha, l1_ratio)
        rss = float(R[d, d] ** 2) if alpha == 0 else float(np.sum((rxy - Rxx @ w) ** 2) + R[d, d] ** 2)
        b = float(self.mean[d] - self.mean[:d] @ w) if self.fit_intercept else 0.0
        tss = float(R[:, d] @ R[:, d])  # centred Σw(y−ȳ)², or Σwy² without an intercept
        solution = Solution(w=w, b=b, n=self.count, rss=rss, tss=tss, fit_intercept=self.fit_intercept,
                            feature_names=names, mean=self.mean[:d].copy(), y_mean=float(self.mean[d]),
                            Rxx=Rxx.copy(), rxy=rxy.copy() if alpha > 0 else None,
                            weight_sum=self.weight if self.weighted else None, alpha=alpha, l1_ratio=l1_ratio)
        warn_about(solution)
        return solution


def merge_all(states: Sequence[LeastSquares]) -> LeastSquares:
    """The merge of every state, pairwise as a balanced tree in the given order (same order ⇒ same bits)."""
    states = list(states)
    while len(states) > 1:
        states = [states[i].merge(states[i + 1]) if i + 1 < len(states) else states[i]
                  for i in range(0, len(states), 2)]
    return states[0]


def exact(X, y=None, *, fit_intercept: bool = True, feature_names: Sequence[str] | None = None,
          chunk_rows: int = CHUNK_ROWS, refine: bool = True, alpha: float = 0.0, l1_ratio: float = 0.0,
          sample_weight=None) -> Solution:
    """The exact minimiser of (1/(2W)) Σ w_i (x_i·w + b − y_i)² + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²) in one streamed
    float64 pass (QR, see the module docstring; without weights and α = 0: least squares).

    Args:
        X: features (n, d) with ``y`` (n,) or (n, 1); or, with ``y=None``, an iterable of ``(X, y)`` or
            ``(X, y, sample_weight)`` chunks (for data larger than memory).
        fit_intercept: fit b (default) or force b = 0. The intercept is never penalised.
        feature_names: d column names used in messages and summaries (default: a DataFrame's columns,
            else x1 … xd).
        chunk_rows: rows converted to float64 at a time when X is one array.
        refine: when X is one array and α = 0 (so a second pass is possible and useful), follow the QR
            pass by one step of iterative refinement with extended-precision residuals (:func:`refined`).
        alpha: α ≥ 0, the strength of the penalty. l1_ratio: ρ ∈ [0, 1], its lasso share (0: ridge).
            The same objective as scikit-learn's ``ElasticNet(alpha, l1_ratio)``; ridge equals
            ``Ridge(alpha=α·Σw)``.
        sample_weight: (n,) weights ≥ 0 when X is one array (None: 1 each); integer weights equal
            repeated rows.

    Returns:
        :class:`Solution`.

    Raises:
        DataError: bad shapes, non-finite values or weights, or no unique solution (names the column).
        ConfigError: α or ρ out of range.

    Example:
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> s = exact(X, 1.0 + 2.0 * X[:, 0])
        >>> np.round(s.w, 12).tolist(), round(s.b, 12)
        ([2.0], 1.0)
    """
    check_numeric_columns(X)  # a text column: a DataError naming it, not numpy's "could not convert"
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    state = _gram_state(X, y, fit_intercept) if y is not None and sample_weight is None else None
    if state is not None:  # a large, well-conditioned array: BLAS-3, then refined in float64 (lstsq/gram.py)
        solution = state.solution(feature_names, alpha=alpha, l1_ratio=l1_ratio)
        if refine and solution.alpha == 0:
            return refine_centred(solution, *_arrays(X, y))
        return solution
    parts: Iterable = array_chunks(X, y, sample_weight, chunk_rows) if y is not None else X
    for chunk in parts:
        Xc = np.asarray(chunk[0])
        if state is None:
            state = LeastSquares.empty(Xc.shape[1] if Xc.ndim == 2 else 0, fit_intercept=fit_intercept)
        state = state.update(Xc, *chunk[1:])
    if state is None or state.count == 0:
        raise DataError("no rows to fit: the data is empty")
    solution = state.solution(feature_names, alpha=alpha, l1_ratio=l1_ratio)
    if refine and y is not None and solution.alpha == 0:
        return refined(solution, array_chunks(X, y, sample_weight, chunk_rows))
    return solution


def _gram_state(X, y, fit_intercept: bool) -> LeastSquares | None:
    """The state of one array of more than one chunk (:data:`CHUNK_ROWS`) rows from the BLAS-3 Gram pass, or
    None: a smaller array (QR and the long-double refinement cost it little), an unusual shape or dtype, or a
    design the Gram matrix would solve less accurately (:func:`~linsgd.lstsq.gram.gram_factor`)."""
    X, y = _arrays(X, y)
    if not (X.ndim == 2 and len(X) > CHUNK_ROWS and y.shape == (len(X),) and X.shape[1] > 0
            and X.dtype.kind in "fiu" and y.dtype.kind in "fiu"):
        return None
    found = gram_factor(X, y, fit_intercept=fit_intercept)
    if found is None:
        return None
    n, mean, R, lo, hi = found
    return LeastSquares(fit_intercept, n, mean, R, lo, hi, float(n))


def _arrays(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    return X, y.reshape(-1) if y.ndim == 2 and y.shape[1:] == (1,) else y


def refined(solution: Solution, chunks: Iterable) -> Solution:
    """One step of iterative refinement of the least-squares ``solution`` over the same data (a second pass).

    ``chunks``: ``(X, y)`` or ``(X, y, sample_weight)``. With the residual r = y − Xw − b accumulated in
    long double (64-bit mantissa on x86), the corrected semi-normal equations (Björck) give
    δw = (RxxᵀRxx)⁻¹ Σ w_i (x_i − x̄) r_i and δb = Σw_i r_i / W − x̄·δw (without an intercept:
    δw = (RxxᵀRxx)⁻¹ Σ w_i x_i r_i, δb = 0). This removes the κ²‖r‖ε term of the QR error for large
    residuals and the cancellation in b = ȳ − x̄·w; and RSS = Σw r² − gᵀδ (g the gradient sums, δ the
    correction) is exact to long-double rounding. Where long double is plain double (e.g. arm64 macOS,
    Windows) the step is fixed-precision refinement: harmless.
    """
    ld = np.longdouble
    w, b = solution.w.astype(ld), ld(solution.b)
    g, rsum, rss = np.zeros(len(w), dtype=ld), ld(0), ld(0)
    for Xc, yc, *wc in chunks:
        Xl = np.asarray(Xc, dtype=ld)
        r = np.asarray(yc, dtype=ld).reshape(-1) - (Xl @ w + b)
        wr = r if not wc or wc[0] is None else np.asarray(wc[0], dtype=ld) * r
        g, rsum, rss = g + Xl.T @ wr, rsum + wr.sum(), rss + r @ wr
    if solution.fit_intercept:
        g = g - solution.mean.astype(ld) * rsum
    dw = solve_triangular(solution.Rxx, solve_triangular(solution.Rxx.T, g.astype(np.float64)))
    W = solution.weights
    if solution.fit_intercept:
        db = float(rsum / W) - float(solution.mean @ dw)
        rss = rss - (g @ dw.astype(ld) + rsum * rsum / W)
    else:
        db, rss = 0.0, rss - g @ dw.astype(ld)
    return replace(solution, w=(w + dw.astype(ld)).astype(np.float64), b=float(b + ld(db)),
                   rss=max(float(rss), 0.0))


def default_names(d: int) -> list[str]:
    """Column names x1 … xd (1-based, as in statistical tables)."""
    return [f"x{j + 1}" for j in range(d)]
