"""Value checks of data read from files, and the one-line error that names file, line and column.

Every problem found in a file is reported as ``FILE:LINE: column 'c': problem (value='…')``: LINE is the
file's own line number for CSV (the header is line 1) and the 1-based row number for Parquet and NumPy
files. Checks run once, where rows are read (``linsgd.data.cells``), and are vectorised per chunk. The arrays
handed to ``linsgd.fit`` are checked by :func:`as_training_arrays`.
"""

from __future__ import annotations

import os

import numpy as np

from linsgd._parallel import in_halves
from linsgd.errors import DataError, LinsgdError, StorageError, first_line

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


def too_large(path, line: int | None, column: str, value) -> DataError:
    """The one error for an integer above 2**53 in size (float64 would round it), on every reading path."""
    return data_error(path, line, "integer too large to be exact as a float (above 2**53: an id or a hash?): "
                      "leave the column out with --exclude, or store it as float", column=column, value=value)


def check_names(path, names: list[str], line: int | None = None) -> None:
    """Refuse empty and duplicate column names, as one DataError naming the column by position or by name
    (every reader: a column named '' would become a feature nobody can name, and a repeated one is ambiguous).

    >>> check_names("d.parquet", ["x1", "", "y"])
    Traceback (most recent call last):
    linsgd.errors.DataError: d.parquet: column 2 has an empty name: name every column
    """
    for i, name in enumerate(names, start=1):
        if not str(name).strip():
            raise data_error(path, line, f"column {i} has an empty name: name every column")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise data_error(path, line, f"duplicate column name{'s' if len(repeated) > 1 else ''} "
                         f"{', '.join(repr(n) for n in repeated)}: give every column its own name")


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


def first_problem(path, values: np.ndarray, valid: np.ndarray | None, dtype: str, names: list[str],
                  lines: np.ndarray) -> DataError:
    """The DataError of the first bad cell (row-major) of a chunk that :func:`bad_cells` flagged.

    Args:
        path: the file. values, valid, dtype: as for :func:`bad_cells`. names: the k column names.
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
    """A cell's text for an error message: invalid UTF-8 bytes and control characters (a newline) as
    escapes, at most 40 characters."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="backslashreplace")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(raw))  # a newline stays one line
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
    X, y = check_array_input(X, "X"), check_array_input(y, "y")
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


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Sample weights as float64 (n,) (None stays None); DataError when one is negative or not finite,
    when all are 0, or when the shape does not fit."""
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight, dtype=np.float64)
    if s.shape not in ((n,), (n, 1)):
        raise DataError(f"sample_weight must have shape ({n},) to match X, got {s.shape}")
    s = s.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(s) | (s < 0))
    if len(bad):
        raise DataError(f"sample_weight[{bad[0]}] = {s[bad[0]]} is not allowed: weights must be finite and >= 0")
    if not s.any():
        raise DataError("sample_weight: every weight is zero (nothing to fit)")
    return s


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


def not_a_file(path) -> LinsgdError:
    """The error for a data path that is not a readable regular file: what it is, not just "no such file".

    Returns:
        DataError (exit 2) for a missing path, a broken symbolic link, a symlink loop, a FIFO, socket or
        device; StorageError (exit 4) when the file exists but cannot be read (permissions, I/O error).
    """
    import errno
    import stat

    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return data_error(path, None, "symbolic link loop (the link points, in the end, to itself)")
        if e.errno == errno.ENOENT and os.path.islink(path):
            return data_error(path, None, f"broken symbolic link (to {os.readlink(path)!r}, which does not exist)")
        if e.errno == errno.ENOENT:
            return data_error(path, None, "no such file")
        return StorageError(f"{path}: cannot read ({e.strerror})")
    kinds = {stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device"}
    kind = next((k for test, k in kinds.items() if test(st.st_mode)), "not a regular file")
    return data_error(path, None, f"is {kind}, not a file: linsgd reads its input more than once, so give it "
                                  f"a regular file (e.g. save the stream to one first)")


def io_error(path, e: OSError) -> StorageError:
    """An OS error while reading ``path`` as the StorageError (exit 4) naming the file and the OS's reason."""
    return StorageError(f"{path}: cannot read ({e.strerror or e})")


def check_array_input(a, name: str):
    """``a`` as a real numeric numpy array, or DataError saying what was given and the fix (Python API).

    Refused: scipy sparse matrices, complex values, missing values (pandas ``NA``/``None``), text. A real
    numpy array passes through unchanged (no copy).
    """
    if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
        return a
    kind = type(a).__module__.split(".")[0] + "." + type(a).__name__
    if kind.startswith("scipy.") and hasattr(a, "toarray"):
        raise DataError(f"{name} is a scipy sparse matrix ({type(a).__name__}): linsgd needs a dense array: "
                        f"pass {name}.toarray() (or write the rows to Parquet and use fit_file)")
    if hasattr(a, "to_numpy") and hasattr(a, "isna"):  # pandas: name the first missing cell
        missing = np.asarray(a.isna())
        if missing.any():
            at = ", ".join(str(int(i)) for i in np.argwhere(missing)[0])
            raise DataError(f"{name}[{at}] is missing (pandas NA/None/NaN): drop or impute the missing values "
                            f"first (e.g. {name}.dropna() or {name}.fillna(...))")
    try:
        out = np.asarray(a)
        if out.dtype.kind == "c" or (out.dtype.kind == "O" and any(isinstance(v, complex) for v in out.flat)):
            raise DataError(f"{name} is complex ({out.dtype}): linear regression here is real-valued: pass "
                            f"{name}.real if the imaginary parts are 0")
        if out.dtype.kind not in "biuf":
            out = out.astype(np.float64)
    except (TypeError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{name} holds values that are not numbers ({kind}: {first_line(e)}): "
                        f"convert it to a float array first") from e
    return out
