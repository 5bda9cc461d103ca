"""Data sources: a CSV file, a Parquet file / folder / glob, or a NumPy ``.npy`` file, read in chunks.

A source knows its columns, its row count when the format records it, and yields validated chunks
``(X, y)`` of the selected columns in the training dtype. Every value is checked where it is read
(:mod:`linsgd.data.checks`): a bad cell or row is a :class:`~linsgd.errors.DataError`
``FILE:LINE: column 'c': problem (value='…')`` — or, with ``on_bad_rows="skip"``, the row is dropped and
counted in ``skipped``. pyarrow does the parsing; this module only translates its findings.
"""

from __future__ import annotations

import glob as globlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linsgd.config import ON_BAD_ROWS
from linsgd.data.checks import bad_rows, data_error, first_problem, not_a_file
from linsgd.errors import ConfigError

DEFAULT_CHUNK_BYTES = 4 << 20  # bigger chunks read a little faster but hold more temporaries


@dataclass
class Chunk:
    """Validated rows: X (m, d) and y (m,) (None when no target was asked for), in the training dtype."""

    X: np.ndarray
    y: np.ndarray | None


class Source:
    """Columns and chunks of one data set; subclasses read a format and yield raw float64 cells.

    Args:
        path: the file, folder or glob. columns: every column name, in file order.
        target: the target column (None: features only, for predict). features: the feature columns
            (None: every other numeric column). dtype: "float32" or "float64".
        on_bad_rows: "error" (stop at the first bad row) or "skip" (drop and count it).
        chunk_bytes: rough size of one chunk of raw values.

    Raises:
        DataError: missing or duplicate columns, a non-numeric feature column.
    """

    num_rows: int | None = None  # known from the file's metadata (Parquet, .npy), else None
    header_line: int | None = None  # the line of the column names (CSV: 1)

    def __init__(self, path, columns: list[str], numeric: list[bool], *, target: str | None,
                 features: list[str] | None, dtype: str, on_bad_rows: str, chunk_bytes: int) -> None:
        if on_bad_rows not in ON_BAD_ROWS:
            raise ConfigError("on_bad_rows", on_bad_rows, f"one of {', '.join(ON_BAD_ROWS)}")
        self.path, self.columns, self.dtype = path, columns, dtype
        self.skip, self.chunk_bytes, self.skipped = on_bad_rows == "skip", chunk_bytes, 0
        _check_names(path, columns, self.header_line)
        kinds = dict(zip(columns, numeric, strict=True))
        if features is None:
            features = [c for c in columns if c != target and kinds[c]]
        missing = [c for c in [*features, *([target] if target else [])] if c not in kinds]
        if missing:
            raise data_error(path, None, f"column{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(repr(c) for c in missing)} not found "
                             f"(columns: {', '.join(columns)})")
        if target in features:
            raise data_error(path, None, "is both the target and a feature", column=target)
        if not features:
            raise data_error(path, None, "no numeric feature columns besides the target")
        self.features, self.target = list(features), target
        self.selected = self.features + ([target] if target else [])

    def chunks(self) -> Iterator[Chunk]:
        """Yield validated chunks in file order; DataError on the first bad row (unless skipping)."""
        kept = 0
        for values, valid, lines, where in self._raw():
            bad = bad_rows(values, valid, self.dtype)
            if bad.any():
                if not self.skip:
                    raise first_problem(where, values, valid, self.dtype, self.selected, lines)
                self.skipped += int(bad.sum())
                values = values[~bad]
            if len(values):
                kept += len(values)
                yield self._split(values)
        if kept == 0:
            why = (f"all {self.skipped} data rows are bad (skipped)" if self.skipped
                   else "no data rows (header only?)")
            raise data_error(self.path, None, why)

    def _split(self, values: np.ndarray) -> Chunk:
        d = len(self.features)
        X = np.ascontiguousarray(values[:, :d], dtype=self.dtype)
        y = np.ascontiguousarray(values[:, d], dtype=self.dtype) if self.target else None
        return Chunk(X, y)

    def _raw(self) -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray, object]]:
        """Yield (float64 values (m, k), valid mask or None, line numbers (m,), file) per chunk."""
        raise NotImplementedError


def open_source(path, *, target: str | None = None, features: list[str] | None = None,
                dtype: str = "float32", on_bad_rows: str = "error",
                chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Source:
    """The source of ``path``: CSV, Parquet (file, folder of ``*.parquet``, or glob) or ``.npy``.

    The format comes from the suffix (``.csv``/``.txt``, ``.parquet``/``.pq``, ``.npy``), a folder or a
    glob pattern means Parquet, and any other file is recognised by its first bytes (else CSV).

    Returns:
        A :class:`Source` (see its Args).

    Raises:
        DataError: the file does not exist, cannot be opened, or its columns do not fit.
    """
    kw = dict(target=target, features=features, dtype=dtype, on_bad_rows=on_bad_rows,
              chunk_bytes=chunk_bytes)
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(globlib.glob(text, recursive=True))
        if not files:
            raise data_error(path, None, "no files match this pattern")
        return _parquet(files, path, kw)
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet"))
        if not files:
            raise data_error(path, None, "folder holds no *.parquet files")
        return _parquet(files, path, kw)
    if not p.is_file():
        raise not_a_file(path)
    kind = _kind(p)
    if kind == "parquet":
        return _parquet([str(p)], path, kw)
    if kind == "npy":
        from linsgd.data.numpy_file import NpySource
        return NpySource(p, **kw)
    from linsgd.data.csv_file import CsvSource
    return CsvSource(p, **kw)


def _parquet(files, path, kw) -> Source:
    from linsgd.data.parquet_file import ParquetSource
    return ParquetSource(files, path, **kw)


def _kind(p: Path) -> str:
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".npy":
        return "npy"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    with open(p, "rb") as f:
        head = f.read(6)
    return "parquet" if head[:4] == b"PAR1" else "npy" if head == b"\x93NUMPY" else "csv"


def _check_names(path, columns: list[str], line: int | None) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(columns, start=1):
        if c in seen:
            raise data_error(path, line, f"duplicate column name (columns {seen[c]} and {i})", column=c)
        seen[c] = i


def parse_features(text: str | None) -> list[str] | None:
    """``a,b,c`` → ``["a", "b", "c"]`` (None stays None: every other numeric column)."""
    if text is None:
        return None
    names = [n.strip() for n in re.split(r",", text) if n.strip()]
    if not names:
        raise ConfigError("features", text, "a comma-separated list of column names")
    return names
