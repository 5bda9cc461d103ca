"""Numeric Arrow arrays as NumPy arrays without pandas.

pyarrow's ``to_numpy`` converts through its pandas bridge, which imports pandas (~0.2–0.5 s) on first use even
for a plain float64 array; a command that reads a small CSV would spend more time on that import than on
training. A numeric array's values are one fixed-width data buffer, which NumPy reads through the buffer
protocol (``np.frombuffer``), and its validity bits become bytes by a cast to int8.
"""

from __future__ import annotations

import numpy as np


def valid_mask(col) -> np.ndarray:
    """Which cells of a pyarrow Array are not null, as a bool array (all True without nulls)."""
    if not col.null_count:
        return np.ones(len(col), dtype=bool)
    import pyarrow as pa

    flags = col.is_valid().cast(pa.int8())
    return _data(flags, np.int8).astype(bool)


def floats(col) -> np.ndarray:
    """A numeric pyarrow Array as float64 (a new array), null cells 0.0."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    values = _data(col.cast(pa.float64()), np.float64).copy()
    if col.null_count:
        values[~valid_mask(col)] = 0.0
    return values


def _data(col, dtype) -> np.ndarray:
    """The values of a fixed-width Array of NumPy type ``dtype``, read in place from its data buffer."""
    dtype = np.dtype(dtype)
    return np.frombuffer(col.buffers()[1], dtype=dtype, count=len(col), offset=col.offset * dtype.itemsize)
