"""``linsgd.path``: the regularisation path, and α chosen by K-fold cross-validation, from one pass.

The rows are cut into K folds of consecutive rows, sized as scikit-learn's ``KFold(K)`` without shuffling
(the first n mod K folds hold one row more). One pass accumulates one streamed least-squares state per fold
(:class:`~linsgd.lstsq.qr.LeastSquares`); the state of all rows but fold k is the exact merge of the others,
and the state of all rows the merge of every fold. For each fold the path is solved on the other folds'
state and scored on fold k's own (:func:`~linsgd.lstsq.path.squared_errors`): no row is read twice. The α
chosen is the one of least mean validation error over the folds, and its coefficients are those of the path
on all rows (scikit-learn's ``ElasticNetCV``: ``alpha_``, ``mse_path_``, ``coef_``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.design import check_numeric_columns
from linsgd.lstsq.path import Path, alpha_grid, solve_path, squared_errors
from linsgd.lstsq.qr import CHUNK_ROWS, LeastSquares, default_names, merge_all
from linsgd.lstsq.rows import array_chunks


def fold_bounds(n: int, folds: int) -> np.ndarray:
    """The K + 1 row boundaries of K folds of consecutive rows, scikit-learn's ``KFold`` sizes.

    Raises:
        ConfigError: K < 2. DataError: fewer rows than folds.
    """
    if not (isinstance(folds, int) and not isinstance(folds, bool) and folds >= 2):
        raise ConfigError("cv", folds, "an integer number of folds >= 2 (e.g. 5)")
    if n < folds:
        raise DataError(f"{n} rows cannot be cut into {folds} folds: use fewer folds or more rows")
    sizes = np.full(folds, n // folds)
    sizes[:n % folds] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def fold_states(chunks: Iterable, bounds: np.ndarray, d: int, *, fit_intercept: bool = True) -> list[LeastSquares]:
    """One state per fold from ``(X, y)`` or ``(X, y, sample_weight)`` chunks in row order (one pass).

    Raises:
        DataError: the chunks hold another number of rows than ``bounds[-1]``, or a bad value.
    """
    states = [LeastSquares.empty(d, fit_intercept=fit_intercept) for _ in range(len(bounds) - 1)]
    row = 0
    for X, y, *rest in chunks:
        v = rest[0] if rest else None
        m = len(y)
        for k in range(len(states)):  # the part of this chunk inside fold k
            lo, hi = max(bounds[k], row) - row, min(bounds[k + 1], row + m) - row
            if lo < hi:
                states[k] = states[k].update(X[lo:hi], y[lo:hi], None if v is None else v[lo:hi])
        row += m
    if row != bounds[-1]:
        raise DataError(f"the data held {row} rows where {bounds[-1]} were expected: it changed while read")
    return states


def cross_validate(states: Sequence[LeastSquares], alphas, l1_ratio: float,
                   feature_names: Sequence[str]) -> Path:
    """The path on all folds' rows with the validation error of every α on every fold (``Path.mse``).

    Raises:
        DataError: a fold without rows of positive weight.
    """
    for k, s in enumerate(states):
        if s.weight <= 0:
            raise DataError(f"fold {k + 1} of {len(states)} has no rows of positive weight: use fewer folds")
    mse = np.zeros((len(alphas), len(states)))
    for k, held_out in enumerate(states):
        trained = solve_path(merge_all([s for j, s in enumerate(states) if j != k]), alphas, l1_ratio,
                             feature_names)
        mse[:, k] = squared_errors(held_out, trained.coefs, trained.intercepts) / held_out.weight
    full = solve_path(merge_all(states), alphas, l1_ratio, feature_names)
    return Path(full.alphas, full.l1_ratio, full.coefs, full.intercepts, full.feature_names, mse)


def path(X, y=None, *, alphas=None, l1_ratio: float = 1.0, n_alphas: int = 100, eps: float = 1e-3,
         cv: int | None = None, fit_intercept: bool = True, sample_weight=None,
         feature_names: Sequence[str] | None = None, chunk_rows: int = CHUNK_ROWS) -> Path:
    """The elastic-net optimum along a grid of α from one pass over the rows; with ``cv=K``, α chosen by
    K-fold cross-validation.

    The objective at each α is that of :func:`linsgd.exact` and scikit-learn's ``ElasticNet`` /
    ``enet_path``: 1/(2W) Σ w_i (x_i·w + b − y_i)² + α(ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²), intercept not penalised.

    Args:
        X: features (n, d) with ``y`` (n,); or, with ``y=None`` and no ``cv``, an iterable of ``(X, y)`` or
            ``(X, y, sample_weight)`` chunks (data larger than memory: one pass).
        alphas: the grid (None: scikit-learn's, ``n_alphas`` values from α_max down to ``eps``·α_max).
        l1_ratio: ρ in [0, 1] (default 1: the lasso). cv: K >= 2 folds of consecutive rows, or None.
        fit_intercept, sample_weight, feature_names, chunk_rows: as :func:`linsgd.exact`.

    Returns:
        :class:`~linsgd.lstsq.path.Path`: ``alphas`` (decreasing when generated), ``coefs`` (d, k),
        ``intercepts``; with ``cv``, ``mse`` (k, K) and the chosen ``alpha``, ``w``, ``b``.

    Raises:
        ConfigError: a setting out of range. DataError: bad values or shapes, an empty fold.

    Example:
        >>> import linsgd
        >>> X, y = linsgd.make_regression(500, [2.0, 0.0, -1.0], 0.5, seed=0)
        >>> p = linsgd.path(X, y, cv=5)
        >>> p.coefs.shape, p.mse.shape, bool(abs(p.w[0] - 2) < 0.05)
        ((3, 100), (100, 5), True)
    """
    check_numeric_columns(X)
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    if y is None and cv is not None:
        raise ConfigError("cv", cv, "arrays X and y (the folds need the row count); chunks: cv=None")
    chunks = array_chunks(X, y, sample_weight, chunk_rows) if y is not None else iter(X)
    first = next(chunks, None)
    if first is None or len(first[1]) == 0:
        raise DataError("no rows to fit: the data is empty")
    d = np.asarray(first[0]).shape[1] if np.ndim(first[0]) == 2 else 0
    names = list(feature_names) if feature_names is not None else default_names(d)
    if len(names) != d:
        raise DataError(f"{len(names)} feature names for {d} columns: give one name per column")
    rest = _chain(first, chunks)
    if cv is not None:
        states = fold_states(rest, fold_bounds(len(X), cv), d, fit_intercept=fit_intercept)
        grid = _grid(merge_all(states), alphas, l1_ratio, n_alphas, eps)
        return cross_validate(states, grid, l1_ratio, names)
    state = LeastSquares.empty(d, fit_intercept=fit_intercept)
    for Xc, *others in rest:
        state = state.update(Xc, *others)
    return solve_path(state, _grid(state, alphas, l1_ratio, n_alphas, eps), l1_ratio, names)


def _grid(state: LeastSquares, alphas, l1_ratio: float, n_alphas: int, eps: float) -> np.ndarray:
    if state.weight <= 0:
        raise DataError("no rows of positive weight to fit")
    if alphas is not None:
        return np.asarray(alphas, dtype=np.float64).reshape(-1)
    if not (isinstance(l1_ratio, float | int) and 0 <= l1_ratio <= 1):
        raise ConfigError("l1_ratio", l1_ratio, "a number in [0, 1] (0: ridge, 1: lasso)")
    return alpha_grid(state, float(l1_ratio), n_alphas, eps)


def _chain(first, rest):
    yield first
    yield from rest
