"""Several targets at once: the exact solution for Y (n, k) from one streamed pass over [X Y].

The triangular factor of the centred [X Y] holds every target's problem: with RᵀR the (weighted, centred)
Gram matrix of [X Y], the columns of X and target j pick the Gram matrix of [X y_j], whose factor is the QR
of R's columns (x₁ … x_d, y_j) — a (d+k) × (d+1) triangle and one column, so nothing is read twice. Each
target then gets the single-target :class:`~linsgd.lstsq.qr.LeastSquares` state and its
:class:`~linsgd.lstsq.solution.Solution` (design checks, penalties, summaries, the optimality gap) as if it
had been fitted alone; the merge of chunks, files and ranks is :mod:`linsgd.lstsq.qr`'s formula on d + k
columns. With squared loss the k problems share X and nothing else, so W = [w₁ … w_k] is the least-squares
solution of the matrix problem, as scikit-learn's ``LinearRegression`` on a 2-D y.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from linsgd.errors import DataError
from linsgd.lstsq.factor import chunk_state, merged_state
from linsgd.lstsq.qr import CHUNK_ROWS, LeastSquares, refined
from linsgd.lstsq.qr import exact as exact_one
from linsgd.lstsq.rows import array_chunks, weights
from linsgd.lstsq.solution import Solution
from linsgd.lstsq.summary import Summary, summarize


@dataclass
class MultiLeastSquares:
    """Streamed, mergeable state of k least-squares problems sharing X: the factor R of the centred
    [X Y] (d + k columns), the column means, the rows and weights seen, X's column range."""

    d: int
    k: int
    count: int
    mean: np.ndarray
    R: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    weight: float = 0.0
    weighted: bool = False

    @classmethod
    def empty(cls, d: int, k: int) -> MultiLeastSquares:
        return cls(d, k, 0, np.zeros(d + k), np.zeros((0, d + k)), np.full(d, np.inf), np.full(d, -np.inf))

    def update(self, X, Y, sample_weight=None) -> MultiLeastSquares:
        """The state after adding rows X (m, d), Y (m, k) with weights (m,) ≥ 0 (None: 1 each).

        Raises:
            DataError: shapes that do not match, or a value or weight that is not finite (named by row, column).
        """
        A = _augmented(X, Y, self.d, self.k, self.count)
        wts = weights(sample_weight, len(A))
        part = chunk_state(A, wts, self.d, centred=True)
        if part is None:
            return replace(self, weighted=self.weighted or wts is not None)
        return self.merge(MultiLeastSquares(self.d, self.k, *part, wts is not None))

    def merge(self, other: MultiLeastSquares) -> MultiLeastSquares:
        """The state of both row sets (:mod:`linsgd.lstsq.qr`'s pairwise formula)."""
        if (other.d, other.k) != (self.d, self.k):
            raise ValueError("cannot merge least-squares states of different shapes")
        weighted = self.weighted or other.weighted
        if self.count == 0 or other.count == 0:
            return replace(other if self.count == 0 else self, weighted=weighted)
        return MultiLeastSquares(self.d, self.k, *merged_state(self, other, centred=True), weighted)

    def target(self, j: int) -> LeastSquares:
        """The single-target state of y_j: the factor of R's columns (x₁ … x_d, y_j)."""
        cols = [*range(self.d), self.d + j]
        R = np.linalg.qr(self.R[:, cols], mode="r") if len(self.R) else np.zeros((0, self.d + 1))
        return LeastSquares(True, self.count, self.mean[cols].copy(), R, self.lo.copy(), self.hi.copy(),
                            self.weight, self.weighted)

    def solutions(self, feature_names: Sequence[str] | None = None, *, alpha: float = 0.0,
                  l1_ratio: float = 0.0) -> list[Solution]:
        """Each target's :class:`Solution` (:meth:`LeastSquares.solution`, same errors)."""
        return [self.target(j).solution(feature_names, alpha=alpha, l1_ratio=l1_ratio) for j in range(self.k)]


@dataclass
class MultiSolution:
    """The exact solutions of k targets: ``solutions[j]`` is target j's :class:`Solution`; ``w`` (d, k) and
    ``b`` (k,) stack them (scikit-learn's ``coef_`` is ``w.T``)."""

    solutions: list[Solution]
    target_names: list[str]

    @property
    def w(self) -> np.ndarray:
        return np.column_stack([s.w for s in self.solutions])

    @property
    def b(self) -> np.ndarray:
        return np.array([s.b for s in self.solutions])

    def predict(self, X) -> np.ndarray:
        """Ŷ = X W + b, shape (n, k)."""
        return np.asarray(X, dtype=np.float64) @ self.w + self.b

    def summaries(self, confidence: float = 0.95) -> dict[str, Summary]:
        """Each target's statistical table (:func:`linsgd.lstsq.summary.summarize`), by target name."""
        return {name: summarize(s, confidence=confidence)
                for name, s in zip(self.target_names, self.solutions, strict=True)}


def exact(X, y=None, *, fit_intercept: bool = True, feature_names: Sequence[str] | None = None,
          chunk_rows: int = CHUNK_ROWS, refine: bool = True, alpha: float = 0.0, l1_ratio: float = 0.0,
          sample_weight=None, target_names: Sequence[str] | None = None):
    """:func:`linsgd.lstsq.qr.exact`, and for a 2-D ``y`` (n, k) with k > 1 every target from one pass over
    [X Y] (a :class:`MultiSolution`; the intercept is fitted: ``fit_intercept=False`` is refused there).

    ``target_names``: k names (default: a DataFrame's columns, else y1 … yk).

    Example:
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> s = exact(X, np.column_stack([1 + 2 * X[:, 0], 5 - X[:, 0]]))
        >>> np.round(s.w, 12).tolist(), np.round(s.b, 12).tolist()
        ([[2.0, -1.0]], [1.0, 5.0])
    """
    if y is None or np.ndim(y) != 2 or np.shape(y)[1] == 1:
        return exact_one(X, y, fit_intercept=fit_intercept, feature_names=feature_names, chunk_rows=chunk_rows,
                         refine=refine, alpha=alpha, l1_ratio=l1_ratio, sample_weight=sample_weight)
    if not fit_intercept:
        raise DataError("several targets are fitted with an intercept: fit each target alone for "
                        "fit_intercept=False")
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    names = list(target_names) if target_names is not None else (
        [str(c) for c in y.columns] if hasattr(y, "columns") else [f"y{j + 1}" for j in range(np.shape(y)[1])])
    X, Y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"X must have shape (n, d), got {X.shape}")
    state = MultiLeastSquares.empty(X.shape[1], Y.shape[1])
    for Xc, Yc, wc in array_chunks(X, Y, sample_weight, chunk_rows):
        state = state.update(Xc, Yc, wc)
    if state.count == 0:
        raise DataError("no rows to fit: the data is empty")
    solutions = state.solutions(feature_names, alpha=alpha, l1_ratio=l1_ratio)
    if refine and solutions[0].alpha == 0:
        solutions = [refined(s, array_chunks(X, Y[:, j], sample_weight, chunk_rows)) for j, s in enumerate(solutions)]
    return MultiSolution(solutions, names)


def _augmented(X, Y, d: int, k: int, first_row: int) -> np.ndarray:
    """[X Y] as float64 (m, d+k); DataError on bad shapes or non-finite values (global row number)."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != d or Y.shape != (len(X), k):
        raise DataError(f"expected X of shape (m, {d}) and y of shape (m, {k}), got {X.shape} and {Y.shape}")
    A = np.column_stack([X, Y])
    bad = np.argwhere(~np.isfinite(A))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        what = f"y[:, {j - d}]" if j >= d else f"X[:, {j}]"
        raise DataError(f"{what} at row {first_row + i} is {A[i, j]}, not a finite number: remove or impute it")
    return A
