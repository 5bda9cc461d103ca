"""The rows the exact solver reads: one array cut into chunks, float64 [X y] checked, weights checked."""

from __future__ import annotations

import numpy as np

from linsgd.errors import DataError


def array_chunks(X, y, sample_weight, rows: int):
    """``(X, y, w)`` slices of ``rows`` rows of one array (w None without weights); DataError on bad shapes."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"X must have shape (n, d), got {X.shape}")
    wts = None if sample_weight is None else np.asarray(sample_weight)
    if wts is not None and wts.shape != (len(X),):
        raise DataError(f"sample_weight must have shape ({len(X)},) to match X, got {wts.shape}")
    for start in range(0, max(len(X), 1), rows):
        stop = start + rows
        yield X[start:stop], y[start:stop], None if wts is None else wts[start:stop]


def weights(sample_weight, m: int) -> np.ndarray | None:
    """Weights as float64 (m,), or None; DataError when one is negative or not finite."""
    if sample_weight is None:
        return None
    wts = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if wts.shape != (m,):
        raise DataError(f"sample_weight must have shape ({m},) to match the rows, got {wts.shape}")
    bad = np.flatnonzero(~np.isfinite(wts) | (wts < 0))
    if len(bad):
        raise DataError(f"sample_weight[{bad[0]}] = {wts[bad[0]]} is not a finite number >= 0: fix or drop the row")
    return wts


def augmented(X, y, d: int, first_row: int) -> np.ndarray:
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
