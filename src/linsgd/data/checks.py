"""Value checks of data read from files, and the one-line error that names file, line and column.

Every problem found in a file is reported as ``FILE:LINE: column 'c': problem (value='…')``: LINE is the
file's own line number for CSV (the header is line 1) and the 1-based row number for Parquet and NumPy
files. Checks run once, where rows are read (``linsgd.data.source``), and are vectorised per chunk. The arrays
handed to ``linsgd.fit`` are checked by :func:`as_training_arrays`.
"""

from __future__ import annotations

import numpy as np

from linsgd._parallel import in_halves
from linsgd.errors import DataError

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def data_error(path, line: int | None, problem: str, *, column: str | None = None,
               value: object = None) -> DataError:
    """The DataError ``FILE:LINE: column 'c': problem (value='v')`` (parts left out when unknown).

    Args:
        path: the file. line: 1-based line (CSV) or row (Parquet, .npy), or None for the whole file.
        problem: what is wrong, in a few words. column: the column name. value: the offending value.

    Returns:
        The DataError, to be raised by the caller.
    """
    where = f"{path}:{line}" if line is not None else f"{path}"
    col = f" column '{column}':" if column is not None else ""
    val = f" (value='{value}')" if value is not None else ""
    return DataError(f"{where}:{col} {problem}{val}")


def bad_cells(values: np.ndarray, valid: np.ndarray | None, dtype: str) -> np.ndarray:
    """Boolean mask of cells that are null, NaN, ±inf or (for float32) out of range.

    Args:
        values: float64 (m, k). valid: bool (m, k), False where the cell was empty (None: no nulls).
        dtype: the training dtype; "float32" also rejects |x| > float32 max.

    Returns:
        bool (m, k).
    """
    bad = ~np.isfinite(values)
    if dtype == "float32":
        bad |= np.abs(values) > _FLOAT32_MAX
    if valid is not None:
        bad |= ~valid
    return bad


def bad_rows(values: np.ndarray, valid: np.ndarray | None, dtype: str) -> np.ndarray:
    """Boolean mask (m,) of rows with a bad cell (see :func:`bad_cells`)."""
    return bad_cells(values, valid, dtype).any(axis=1)


def first_problem(path, values: np.ndarray, valid: np.ndarray | None, dtype: str, names: list[str],
                  lines: np.ndarray) -> DataError:
    """The DataError of the first bad cell (row-major) of a chunk that :func:`bad_rows` flagged.

    Args:
        path: the file. values, valid, dtype: as for :func:`bad_rows`. names: the k column names.
        lines: the line (or row) number of each of the m rows.

    Returns:
        The DataError naming line, column, problem and value.
    """
    i, j = (int(k) for k in np.argwhere(bad_cells(values, valid, dtype))[0])
    v = float(values[i, j])
    if valid is not None and not valid[i, j]:
        problem, shown = "empty cell", ""
    elif np.isnan(v):
        problem, shown = "NaN is not a usable value", "nan"
    elif np.isinf(v):
        problem, shown = "infinite value (or too large for float64)", repr(v)
    else:
        problem, shown = "too large for float32 (use --dtype float64 or rescale the column)", repr(v)
    return data_error(path, int(lines[i]), problem, column=names[j], value=shown)


def first_unparsable(column, value_text: str | None):
    """Index of the first cell of a string/binary pyarrow array that is not a number, or None.

    ``value_text`` (pyarrow's report of the bad value) is looked up first; otherwise the prefix of the
    array that casts cleanly is found by bisection, so the answer is exactly pyarrow's own verdict.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if value_text is not None:
        hit = pc.index(column, pa.scalar(value_text, type=column.type)).as_py()
        if hit >= 0:
            return hit
    lo, hi = 0, len(column)  # column[:lo] casts; the first bad cell is in [lo, hi)
    if _casts(column):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _casts(column.slice(lo, mid - lo)):
            lo = mid
        else:
            hi = mid
    return lo


def _casts(column) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.cast(pc.utf8_trim_whitespace(column.cast(pa.string())), pa.float64())
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def show_value(raw) -> str:
    """A cell's text for an error message: invalid UTF-8 bytes as \\x escapes, at most 40 characters."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="backslashreplace")
    text = str(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def is_utf8(raw) -> bool:
    """Whether a cell's bytes are valid UTF-8."""
    if not isinstance(raw, bytes):
        return True
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def as_training_arrays(X, y, dtype: str, *, check_values: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """X as C-contiguous (n, d) and y as (n,) of ``dtype``; DataError on bad shapes or (``check_values``)
    non-finite values."""
    with np.errstate(over="ignore"):  # a value too large for dtype becomes inf and is reported below
        X = np.ascontiguousarray(X, dtype=dtype)
        y = np.ascontiguousarray(y, dtype=dtype)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"X must have shape (n, d) with n, d >= 1, got {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.shape != (X.shape[0],):
        raise DataError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, 1) to match X, got {y.shape}")
    if check_values:
        check_values_of(X, "X", dtype)
        check_values_of(y, "y", dtype)
    return X, y


def check_values_of(a: np.ndarray, name: str, dtype: str) -> None:
    """DataError naming the first non-finite value of ``a`` (values overflowing ``dtype`` count too)."""
    if _sum_is_finite(a):  # one fast pass; inf/nan (or an overflowing sum) take the exact one
        return
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        at = ", ".join(str(int(i)) for i in bad[0])
        raise DataError(f"{name}[{at}] = {float(a[tuple(bad[0])])} is not finite (values overflowing "
                        f"{dtype} count too): remove or impute it")


def _sum_is_finite(a: np.ndarray) -> bool:
    """Whether the sum of ``a`` is finite (then every value is), its rows summed on two cores."""
    return bool(np.isfinite(sum(in_halves(lambda i0, i1: float(a[i0:i1].sum()), len(a)))))
