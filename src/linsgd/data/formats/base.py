"""A data source: the base class every reader (CSV, Parquet, .npy, Arrow IPC, JSON lines, a table in memory)
extends.

A source knows its columns and their pyarrow types, its row count when the format records it, and yields
typed record batches of the selected columns (:meth:`Source.batches`), each with the line (or row) number of
its rows. What the values mean is decided above it (:mod:`linsgd.data.roles`, :mod:`linsgd.data.cells`);
a problem the format itself reports (a ragged row, an unparsable cell, a truncated file) is a
:class:`~linsgd.errors.DataError` ``FILE:LINE: column 'c': problem (value='…')`` — or, with
``on_bad_rows="skip"``, the row is flagged (or dropped and counted in ``skipped``). pyarrow does the parsing;
the readers only translate its findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

from linsgd.config import ON_BAD_ROWS
from linsgd.data.checks import data_error
from linsgd.errors import ConfigError

DEFAULT_CHUNK_BYTES = 4 << 20  # bigger chunks read a little faster but hold more temporaries


class Source:
    """Columns and typed batches of one data set; subclasses read a format.

    Args:
        path: the file, folder or glob (a label for a table in memory). columns: every column name, in order.
        target: the target column (None: features only, for predict). features: the columns read besides
            the target (None: every other column; :func:`linsgd.data.first_pass.open_table` narrows them to
            the feature roles). dtype: the training dtype, "float32" or "float64".
        on_bad_rows: "error" (stop at the first bad row) or "skip" (drop and count it).
        chunk_bytes: rough size of one batch of values. weight: a column of sample weights (None: none);
            read after the target, never a feature by default.

    Raises:
        DataError: missing or duplicate columns.
    """

    num_rows: int | None = None  # known from the file's metadata (Parquet, .npy), else None
    header_line: int | None = None  # the line of the column names (CSV: 1)

    types: list | None = None  # the pyarrow type of each column
    index_columns: tuple[str, ...] = ()  # columns that hold a pandas index (never features)

    def __init__(self, path, columns: list[str], *, target: str | None, features: list[str] | None = None,
                 dtype: str = "float64", on_bad_rows: str = "error", chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 weight: str | None = None) -> None:
        if on_bad_rows not in ON_BAD_ROWS:
            raise ConfigError("on_bad_rows", on_bad_rows, f"one of {', '.join(ON_BAD_ROWS)}")
        self.path, self.columns, self.dtype = path, columns, dtype
        self.skip, self.chunk_bytes, self.skipped = on_bad_rows == "skip", chunk_bytes, 0
        _check_names(path, columns, self.header_line)
        self.weight = weight
        if features is None:  # every column, until linsgd.data.roles decides
            features = [c for c in columns if c not in (target, weight)]
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
            raise data_error(path, None, "no feature columns besides the target")
        if weight is not None and (weight == target or weight in features):
            raise data_error(path, None, "is the weight column and the target or a feature", column=weight)
        self.features, self.target = list(features), target
        self.selected = self.features + ([target] if target else []) + ([weight] if weight else [])
        self.extra = list(extra)  # may be features too: read once, passed through as well
        if any(c not in kinds for c in self.extra):
            raise data_error(path, None, f"not found (columns: {', '.join(columns)})",
                             column=next(c for c in self.extra if c not in kinds))
        self.selected += [c for c in self.extra if c not in self.selected]

    def batches(self, types: dict) -> Iterator[tuple[object, np.ndarray | None, np.ndarray, object]]:
        """Yield (pyarrow RecordBatch of ``selected``, bad-row mask or None, lines, file) in order.

        ``types`` maps a selected column to the pyarrow type to read it as (formats with typed storage,
        Parquet, ignore it). The bad-row mask (``on_bad_rows="skip"`` only) flags rows with a cell that
        could not be parsed; every other problem the format reports is a DataError with file and line.
        """
        raise NotImplementedError


def pandas_index_columns(metadata) -> tuple[str, ...]:
    """Columns that hold a pandas index, from the ``pandas`` entry of a pyarrow schema's metadata."""
    raw = (metadata or {}).get(b"pandas")
    if not raw:
        return ()
    try:
        index = json.loads(raw).get("index_columns", [])
    except (ValueError, AttributeError):
        return ()
    return tuple(c for c in index if isinstance(c, str))  # a RangeIndex is stored as a dict: no column


def _check_names(path, columns: list[str], line: int | None) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(columns, start=1):
        if c in seen:
            raise data_error(path, line, f"duplicate column name (columns {seen[c]} and {i})", column=c)
        seen[c] = i
