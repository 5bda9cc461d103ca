"""A data source: the base class every reader (CSV, Parquet, .npy) extends, and the chunks it yields.

A source knows its columns, its row count when the format records it, and yields validated chunks
``(X, y)`` of the selected columns in the training dtype. Every value is checked where it is read
(:mod:`linsgd.data.checks`): a bad cell or row is a :class:`~linsgd.errors.DataError`
``FILE:LINE: column 'c': problem (value='…')`` — or, with ``on_bad_rows="skip"``, the row is dropped and
counted in ``skipped``. pyarrow does the parsing; the readers only translate its findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from linsgd.config import ON_BAD_ROWS
from linsgd.data.checks import bad_rows, data_error, first_problem
from linsgd.errors import ConfigError

DEFAULT_CHUNK_BYTES = 4 << 20  # bigger chunks read a little faster but hold more temporaries


@dataclass
class Chunk:
    """Validated rows: X (m, d) and y (m,) (None when no target was asked for), in the training dtype;
    ``s`` (m,) the sample weights when a weight column was asked for (else None)."""

    X: np.ndarray
    y: np.ndarray | None
    s: np.ndarray | None = None


class Source:
    """Columns and chunks of one data set; subclasses read a format and yield raw float64 cells.

    Args:
        path: the file, folder or glob. columns: every column name, in file order.
        target: the target column (None: features only, for predict). features: the feature columns
            (None: every other numeric column). dtype: "float32" or "float64".
        on_bad_rows: "error" (stop at the first bad row) or "skip" (drop and count it).
        chunk_bytes: rough size of one chunk of raw values. weight: a column of sample weights >= 0 (None:
            none); read after the target, never a feature by default. A negative weight is a bad row.

    Raises:
        DataError: missing or duplicate columns, a non-numeric feature column.
    """

    num_rows: int | None = None  # known from the file's metadata (Parquet, .npy), else None
    header_line: int | None = None  # the line of the column names (CSV: 1)

    types: list | None = None  # the pyarrow type of each column (typed reading, see linsgd.data.tabular)
    index_columns: tuple[str, ...] = ()  # columns that hold a pandas index (never features)

    def __init__(self, path, columns: list[str], numeric: list[bool], *, target: str | None,
                 features: list[str] | None, dtype: str, on_bad_rows: str, chunk_bytes: int,
                 weight: str | None = None, typed: bool = False) -> None:
        if on_bad_rows not in ON_BAD_ROWS:
            raise ConfigError("on_bad_rows", on_bad_rows, f"one of {', '.join(ON_BAD_ROWS)}")
        self.path, self.columns, self.dtype, self.typed = path, columns, dtype, typed
        self.skip, self.chunk_bytes, self.skipped = on_bad_rows == "skip", chunk_bytes, 0
        _check_names(path, columns, self.header_line)
        kinds = dict(zip(columns, numeric, strict=True))
        self.weight = weight
        if features is None:  # typed: every column, until linsgd.data.roles decides
            features = [c for c in columns if c not in (target, weight) and (typed or kinds[c])]
        self.select(features, target)

    def select(self, features: list[str], target: str | None, extra: list[str] = ()) -> None:
        """Read ``features`` (then ``target``, the weight column and the pass-through columns ``extra``) from
        now on.

        Raises:
            DataError: a column is missing, the target or the weight column is also a feature, no feature.
        """
        path, columns, kinds, weight = self.path, self.columns, set(self.columns), self.weight
        missing = [c for c in [*features, *([target] if target else []), *([weight] if weight else [])]
                   if c not in kinds]
        if missing:
            raise data_error(path, None, f"column{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(repr(c) for c in missing)} not found "
                             f"(columns: {', '.join(columns)})")
        if target in features:
            raise data_error(path, None, "is both the target and a feature", column=target)
        if not features:
            kind = "" if self.typed else "numeric "
            raise data_error(path, None, f"no {kind}feature columns besides the target")
        if weight is not None and (weight == target or weight in features):
            raise data_error(path, None, "is the weight column and the target or a feature", column=weight)
        self.features, self.target = list(features), target
        self.selected = self.features + ([target] if target else []) + ([weight] if weight else [])
        self.extra = list(extra)  # may be features too: read once, passed through as well
        if any(c not in kinds for c in self.extra):
            raise data_error(path, None, f"not found (columns: {', '.join(columns)})",
                             column=next(c for c in self.extra if c not in kinds))
        self.selected += [c for c in self.extra if c not in self.selected]

    def chunks(self) -> Iterator[Chunk]:
        """Yield validated chunks in file order; DataError on the first bad row (unless skipping)."""
        kept = 0
        for values, valid, lines, where in self._raw():
            bad = bad_rows(values, valid, self.dtype)
            if bad.any() and not self.skip:
                raise first_problem(where, values, valid, self.dtype, self.selected, lines)
            if self.weight is not None:  # a weight must be >= 0 (NaN and inf are bad rows above)
                k = self.selected.index(self.weight)
                negative = ~bad & (values[:, k] < 0)
                if negative.any() and not self.skip:
                    i = int(np.argmax(negative))
                    raise data_error(where, int(lines[i]), "negative sample weight (weights must be >= 0)",
                                     column=self.weight, value=repr(float(values[i, k])))
                bad |= negative
            if bad.any():
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
        s = (np.ascontiguousarray(values[:, self.selected.index(self.weight)], dtype=self.dtype)
             if self.weight else None)
        return Chunk(X, y, s)

    def _raw(self) -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray, object]]:
        """Yield (float64 values (m, k), valid mask or None, line numbers (m,), file) per chunk."""
        raise NotImplementedError

    def batches(self, types: dict) -> Iterator[tuple[object, np.ndarray | None, np.ndarray, object]]:
        """Typed reading: yield (pyarrow RecordBatch of ``selected``, bad-row mask or None, lines, file).

        ``types`` maps a selected column to the pyarrow type to read it as (formats with typed storage,
        Parquet, ignore it). The bad-row mask (``on_bad_rows="skip"`` only) flags rows with a cell that
        could not be parsed; every other problem is a DataError with file and line, as in :meth:`chunks`.
        """
        raise NotImplementedError


def _check_names(path, columns: list[str], line: int | None) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(columns, start=1):
        if c in seen:
            raise data_error(path, line, f"duplicate column name (columns {seen[c]} and {i})", column=c)
        seen[c] = i
