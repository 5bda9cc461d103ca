"""The rows of one pass held in memory, or spilled to raw binary files when they exceed a budget.

:class:`RowStore` keeps n rows of d features, a target and (optionally) a weight: numpy arrays while they fit
``max_memory``, else ``(n, d)`` feature, target and weight files in ``tmp_dir`` that epochs read back range by
range (:mod:`linsgd.data.views`), so memory stays one window however large the data. Filled by
:func:`linsgd.data.rows.load_rows`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from linsgd.errors import StorageError
from linsgd.standardize import Standardizer


class RowStore:
    """n rows of d features and a target, in memory (``X``, ``y``) or in two spill files; read by range.

    ``weighted``: rows carry a sample weight after the target (a third spill file); weights are handed out
    normalised to mean 1 (``v = s · n/Σs``, see :func:`linsgd.data.views.normalized_weights`), n and Σs those
    of the whole data: of every rank's table when the ranks hold shards (:meth:`finish`).
    """

    def __init__(self, d: int, dtype: str, spill_dir: str | None, weighted: bool = False) -> None:
        self.d, self.dtype, self.n = d, np.dtype(dtype), 0
        self.parts: list[np.ndarray] = []
        self.X = self.y = self.v = None
        self.files = None  # (features file: rows of d values, target file: one value per row[, weights])
        self.spill_dir = spill_dir
        self.standardizer: Standardizer | None = None
        self.weighted, self.weight_sum, self.weight_scale = weighted, 0.0, 1.0

    @property
    def in_memory(self) -> bool:
        return self.files is None

    @property
    def nbytes(self) -> int:
        return self.n * (self.d + 1 + self.weighted) * self.dtype.itemsize

    def append(self, rows: np.ndarray) -> None:
        """Add rows (m, d+1) = [X | y] (weighted: (m, d+2) = [X | y | s])."""
        if self.weighted:
            self.weight_sum += float(rows[:, self.d + 1].sum(dtype=np.float64))
        if self.files is not None:
            self._write(rows)
        else:
            self.parts.append(rows)
        self.n += len(rows)

    def spill(self) -> None:
        """Move the rows held so far to temporary files; later rows go there too.

        The files are unlinked as soon as they are open (``tempfile.TemporaryFile``): nothing is left
        behind however the process ends (SIGTERM, SIGKILL, out of memory).

        Raises:
            StorageError: the spill folder is not writable, or is full.
        """
        if self.files is None:
            where = self.spill_dir or tempfile.gettempdir()
            try:
                self.files = tuple(tempfile.TemporaryFile(prefix="linsgd-", suffix=f".{kind}", dir=self.spill_dir,
                                                          buffering=0) for kind in ("X", "y", "w")[:2 + self.weighted])
            except OSError as e:
                raise StorageError(f"cannot write the spill files in {where} ({e.strerror or e}): "
                                   f"choose another --tmp-dir") from e
            for part in self.parts:
                self._write(part)
            self.parts = []

    def _write(self, rows: np.ndarray) -> None:
        try:
            blocks = (rows[:, :self.d], rows[:, self.d], *((rows[:, self.d + 1],) if self.weighted else ()))
            for f, block in zip(self.files, blocks, strict=True):
                _write_all(f.fileno(), memoryview(np.ascontiguousarray(block)).cast("B"))
        except OSError as e:
            where = self.spill_dir or tempfile.gettempdir()
            raise StorageError(f"cannot write the spill files in {where} ({e.strerror or e}): free some space "
                               f"there, choose another --tmp-dir, or raise --max-memory") from e

    def finish(self, standardizer: Standardizer | None,
               weight_totals: tuple[float, float] | None = None) -> RowStore:
        """Close the writing phase: in memory, build X (n, d) and y (n,); standardise X if asked.

        ``weight_totals``: (rows, Σ weights) of the whole data when this store holds one shard of it (None:
        this store's own), so that every shard's weights are scaled by the same n/Σs.
        """
        self.standardizer = standardizer
        rows, total = weight_totals or (self.n, self.weight_sum)
        self.weight_scale = rows / total if self.weighted and total > 0 else 1.0
        if self.files is not None:
            return self
        rows = np.concatenate(self.parts) if self.parts else np.empty((0, self.d + 1 + self.weighted), self.dtype)
        self.parts = []
        X = np.ascontiguousarray(rows[:, :self.d])
        self.X = X if standardizer is None else standardizer.transform(X)
        self.y = np.ascontiguousarray(rows[:, self.d])
        if self.weighted:
            self.v = np.ascontiguousarray(rows[:, self.d + 1] * self.dtype.type(self.weight_scale))
        return self

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows [start, stop) as X (m, d) and y (m,), standardised when the table is."""
        if self.files is None:
            return self.X[start:stop], self.y[start:stop]
        X, y, _ = self.read_raw([(start, stop)])
        return self.transform(X), y

    def read_weight(self, start: int, stop: int) -> np.ndarray | None:
        """The normalised weights v of rows [start, stop) (None: unweighted)."""
        if not self.weighted:
            return None
        return self.v[start:stop] if self.files is None else self.read_raw([(start, stop)])[2]

    def read_raw(self, ranges: list[tuple[int, int]], head: int = 0):
        """Raw X (head + m, d), y (head + m,) and the normalised weights (head + m,) or None of the row
        ranges, after ``head`` rows left to the caller.

        In memory the rows are already standardised (tables in memory are transformed once, in finish).
        """
        m = head + sum(b - a for a, b in ranges)
        X, y = np.empty((m, self.d), dtype=self.dtype), np.empty(m, dtype=self.dtype)
        v = np.empty(m, dtype=self.dtype) if self.weighted else None
        at = head
        if self.files is None:
            for a, b in ranges:
                X[at:at + b - a], y[at:at + b - a] = self.X[a:b], self.y[a:b]
                if v is not None:
                    v[at:at + b - a] = self.v[a:b]
                at += b - a
            return X, y, v
        outs = ((X, self.d), (y, 1), *(((v, 1),) if v is not None else ()))
        for a, b in ranges:  # straight into the window's buffers: no per-piece copies; pread: no shared offset
            for f, (out, width) in zip(self.files, outs, strict=True):
                _read_all(f.fileno(), memoryview(out[at:at + b - a]).cast("B"), a * width * self.dtype.itemsize)
            at += b - a
        if v is not None:
            v *= self.dtype.type(self.weight_scale)
        return X, y, v

    def transform(self, X: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Raw rows X as the model sees them: standardised when the table is spilled and standardised
        (``inplace``: X itself, overwritten block by block, without a float64 copy of it).

        (A table in memory was standardised once in :meth:`finish`, so its rows pass unchanged.)
        """
        if self.standardizer is None or self.files is None:
            return X
        return self.standardizer.transform_inplace(X) if inplace else self.standardizer.transform(X)

    def close(self) -> None:
        """Delete the spill files, if any."""
        for f in self.files or ():
            f.close()


def _write_all(fd: int, data: memoryview) -> None:
    """os.write until every byte is written (a short write is retried; disk full raises OSError)."""
    while len(data):
        data = data[os.write(fd, data):]


def _read_all(fd: int, out: memoryview, offset: int) -> None:
    """Fill ``out`` from ``fd`` at ``offset`` (os.preadv, retried after a short read)."""
    while len(out):
        n = os.preadv(fd, [out], offset)
        if n == 0:
            raise StorageError("a spill file ended early (was the temporary folder cleaned up meanwhile?)")
        out, offset = out[n:], offset + n
