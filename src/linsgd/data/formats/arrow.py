"""The one conversion of an Arrow column to float64: every value rule in one place.

Every reader hands typed pyarrow columns to :func:`floats`, which turns numbers, decimals, dates, timestamps
and text columns of ISO dates into float64 (dates: days since 1970-01-01; a timestamp keeps its time of day
as a fraction, UTC for zoned timestamps), empty cells 0.0 (:func:`valid_mask` says which). Two things cannot
become a float and raise instead: an integer above 2**53 in size (:class:`TooBig`: float64 would round it,
``2**53 + 1`` reads as ``2**53``), and a text cell of a date column that is not a date (:class:`NotDate`).

pyarrow's ``to_numpy`` converts through its pandas bridge, which imports pandas (~0.2–0.5 s) on first use even
for a plain float64 array; a command that reads a small CSV would spend more time on that import than on
training. A numeric array's values are one fixed-width data buffer, which NumPy reads through the buffer
protocol (``np.frombuffer``), and its validity bits become bytes by a cast to int8. The other way,
``pa.array`` of a Python list or a NumPy array imports pandas too; :func:`bool_array` and :func:`string_array`
build a mask or a set of levels from their buffers instead, and :func:`numeric_array` a column to write.
"""

from __future__ import annotations

import numpy as np

# the unit text dates are read in (roles.DATE_TEXT allows fractions of a second: microseconds keep them)
TEXT_DATE_UNIT = "us"

EXACT = 2**53  # above it not every integer is a float64
_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


class TooBig(ValueError):
    """An integer cell that float64 cannot hold exactly (``row``: 0-based in the column)."""

    def __init__(self, row: int, value: int) -> None:
        super().__init__(row, value)
        self.row, self.value = row, value


class NotDate(ValueError):
    """Cells of a text date column that are not ISO dates: their rows (0-based), values, the bad-row mask
    and the days of the others (bad cells 0)."""

    def __init__(self, bad: np.ndarray, values: list, days: np.ndarray) -> None:
        super().__init__(values[:1])
        self.bad, self.rows, self.values, self.days = bad, np.flatnonzero(bad), values, days


def valid_mask(col) -> np.ndarray:
    """Which cells of a pyarrow Array are not null, as a bool array (all True without nulls)."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not col.null_count:
        return np.ones(len(col), dtype=bool)
    return bools(col.is_valid())


def bool_array(mask: np.ndarray):
    """A pyarrow boolean Array of a NumPy bool array, made from its bits (``pa.array`` would import pandas)."""
    import pyarrow as pa

    mask = np.asarray(mask, dtype=bool)
    bits = np.packbits(mask, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def numeric_array(values):
    """A pyarrow Array of a 1-D NumPy array of numbers (its dtype kept), read from its buffer; anything else
    (a pyarrow array, an id column of text) is returned as it is."""
    import pyarrow as pa

    if not isinstance(values, np.ndarray) or values.dtype.kind not in "fiu":
        return values
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def string_array(texts: list[str]):
    """A pyarrow string Array of Python strings (no nulls), made from its offsets and UTF-8 bytes."""
    import pyarrow as pa

    data = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def bools(col) -> np.ndarray:
    """A boolean pyarrow Array (or ChunkedArray) as a NumPy bool array, nulls False."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return _filled(col.cast(pa.int8()), np.int8).astype(bool)


def floats(col) -> np.ndarray:
    """A numeric, decimal, date, timestamp, null or ISO-date text column as float64 (a new array), nulls 0.0.

    Raises:
        TooBig: an integer above 2**53 in size. NotDate: a text cell that is not an ISO date.
    """
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_dictionary(t):
        col, t = col.dictionary_decode(), t.value_type
    if pa.types.is_date32(t):
        return _filled(col.cast(pa.int32()), np.int32).astype(np.float64)
    if pa.types.is_date64(t):
        col, t = col.cast(pa.timestamp("ms")), pa.timestamp("ms")
    if pa.types.is_timestamp(t):
        ticks = _filled(col.cast(pa.int64()), np.int64)
        per_day = _PER_DAY[t.unit]
        whole, rest = np.divmod(ticks, per_day)  # exact whole days, then the fraction
        return whole.astype(np.float64) + rest.astype(np.float64) / per_day
    if pa.types.is_null(t):
        return np.zeros(len(col))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _text_days(col)
    if pa.types.is_integer(t):
        _check_exact(col)
    return _filled(col.cast(pa.float64()), np.float64)


def _check_exact(col) -> None:
    """Raise :class:`TooBig` at the first integer above 2**53 in size (float64 would round it)."""
    import pyarrow.compute as pc

    lo, hi = pc.min_max(col).values()
    if lo.as_py() is None or -EXACT <= lo.as_py() and hi.as_py() <= EXACT:
        return
    ints = _filled(col, col.type.to_pandas_dtype())
    big = (ints > EXACT) | (ints < -EXACT) if ints.dtype.kind == "i" else ints > EXACT
    i = int(np.argmax(big))
    raise TooBig(i, int(ints[i]))


def _filled(col, dtype) -> np.ndarray:
    """The values of a fixed-width Array of NumPy type ``dtype`` as a new array, null cells 0."""
    values = _data(col, dtype).copy()
    if col.null_count:
        values[~valid_mask(col)] = 0
    return values


def _text_days(col) -> np.ndarray:
    """A text column of ISO dates (``YYYY-MM-DD[THH:MM[:SS]]``, as a CSV reader parses them) as days since
    1970-01-01, nulls as 0; :class:`NotDate` names the cells that are not dates."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(col.cast(pa.string()))
    try:
        return floats(text.cast(pa.timestamp(TEXT_DATE_UNIT)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    stamps, bad = [], np.zeros(len(text), dtype=bool)
    for i, cell in enumerate(text.to_pylist()):  # only a column with a bad cell gets here: find them all
        try:
            stamps.append(None if cell is None else pa.scalar(cell).cast(pa.timestamp(TEXT_DATE_UNIT)).value)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            stamps.append(None)
            bad[i] = True
    days = floats(pa.array(stamps, pa.int64()).cast(pa.timestamp(TEXT_DATE_UNIT)))
    raise NotDate(bad, [c for c, b in zip(text.to_pylist(), bad, strict=True) if b], days)


def _data(col, dtype) -> np.ndarray:
    """The values of a fixed-width Array of NumPy type ``dtype``, read in place from its data buffer."""
    dtype = np.dtype(dtype)
    return np.frombuffer(col.buffers()[1], dtype=dtype, count=len(col), offset=col.offset * dtype.itemsize)
