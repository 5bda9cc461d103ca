"""Validated rows held in memory, or spilled to a temporary binary file when they exceed a budget.

:func:`load_rows` makes the one pass over a source: it validates every row (in the source), splits
train/validation rows by seed, accumulates the train features' float64 moments (for ``--standardize``)
and a fingerprint of the data, and stores the rows. Rows that fit ``max_memory`` stay in numpy arrays;
otherwise they go to a raw ``(n, d+1)`` file in ``tmp_dir`` that epochs read back range by range, so
memory stays one window however large the data (see :mod:`linsgd.data.views`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from linsgd.config import DataConfig, default_max_memory
from linsgd.errors import DataError, StorageError
from linsgd.standardize import Moments, Standardizer

_SPLIT_KEY = np.uint64(0x9E3779B97F4A7C15)


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


@dataclass
class Loaded:
    """The result of the pass over a source (see :func:`load_rows`)."""

    train: RowStore
    val: RowStore | None
    standardizer: Standardizer | None
    fingerprint: str
    skipped: int


def load_rows(source, cfg: DataConfig, *, seed: int, standardize: bool | None = None, progress: bool = False,
              combine=None, sum_over_ranks=None) -> Loaded:
    """Read every chunk of ``source`` once into a train and (optionally) a validation table.

    Args:
        source: an :class:`~linsgd.data.first_pass.Encoded` table with a target (anything with ``chunks()``,
            ``features``, ``dtype``, ``num_rows``, ``skipped``, ``path`` and ``weight``).
        cfg: the split (``val_fraction`` in [0, 1)), the memory budget (``max_memory``: bytes the rows may
            take in memory, None: :func:`~linsgd.config.default_max_memory`; beyond it both tables spill to
            ``tmp_dir``) and ``standardize``.
        seed: decides the split: row i (0-based among the rows kept) is a validation row when a hash of
            (seed, i) falls below ``val_fraction`` — the same rows however the file is chunked.
        standardize: fit a Standardizer on the train rows' features (None: ``cfg.standardize``).
        progress: show a tqdm bar of the rows read.
        combine: None, or a function from this source's train-feature :class:`Moments` to the moments the
            standardisation uses (under torchrun with shards: every rank's, merged; see ``Plan.combine``).
        sum_over_ranks: None, or a function adding a list of floats over the ranks (under torchrun with
            shards): the sample weights are then normalised over the rows of every rank, not of each shard.

    Returns:
        :class:`Loaded`.

    Raises:
        DataError: from the source (bad rows, no rows); also when no train or no validation row is left.
    """
    val_fraction, tmp_dir = cfg.val_fraction, cfg.tmp_dir
    max_memory = cfg.max_memory or default_max_memory()
    standardize = cfg.standardize if standardize is None else standardize
    d, dtype, weighted = len(source.features), source.dtype, getattr(source, "weight", None) is not None
    train = RowStore(d, dtype, tmp_dir, weighted)
    val = RowStore(d, dtype, tmp_dir, weighted) if val_fraction > 0 else None
    digest = hashlib.blake2b(digest_size=16)
    if source.num_rows is not None and source.num_rows * (d + 1 + weighted) * train.dtype.itemsize > max_memory:
        for table in (train, val):  # known not to fit: never hold a budget's worth of rows first
            if table is not None:
                table.spill()
    try:
        moments = _read_rows(source, train, val, seed, val_fraction, standardize, max_memory, progress, digest)
    except BaseException:  # a bad row, Ctrl-C, out of memory: give the spill files back at once
        for table in (train, val):
            if table is not None:
                table.close()
        raise
    if train.n == 0 or (val is not None and val.n == 0):
        which = "training" if train.n == 0 else "validation"
        raise DataError(f"{source.path}: no {which} rows left after the split: change --val-fraction")
    totals = _weight_totals(train, val, sum_over_ranks)
    for table, (_, total) in zip((train, val), totals, strict=True) if train.weighted else ():
        if table is not None and total <= 0:
            raise DataError(f"{source.path}: column '{source.weight}': every weight of the "
                            f"{'training' if table is train else 'validation'} rows is 0 (nothing to fit)")
    std = Standardizer.from_moments(combine(moments) if combine else moments) if standardize else None
    return Loaded(train.finish(std, totals[0]), val.finish(std, totals[1]) if val else None, std,
                  digest.hexdigest(), source.skipped)


def _weight_totals(train: RowStore, val: RowStore | None, sum_over_ranks) -> list[tuple[float, float]]:
    """(rows, Σ weights) of the train and validation tables (val absent: (0, 0)), summed over the ranks by
    ``sum_over_ranks`` when given (one all-reduce: every rank then normalises its weights alike)."""
    local = [float(train.n), train.weight_sum, float(val.n) if val else 0.0, val.weight_sum if val else 0.0]
    if train.weighted and sum_over_ranks is not None:
        local = sum_over_ranks(local)
    return [(local[0], local[1]), (local[2], local[3])]


def _read_rows(source, train: RowStore, val: RowStore | None, seed: int, val_fraction: float, standardize: bool,
               max_memory: int, progress: bool, digest) -> Moments:
    """The loop of :func:`load_rows`: append each chunk's rows to its table; the train features' moments."""
    moments, first = Moments.empty(train.d), 0
    bar = _bar(progress, source.num_rows)
    for chunk in source.chunks():
        bar.update(len(chunk.X))
        rows = np.column_stack([chunk.X, chunk.y, *([chunk.s] if train.weighted else [])])
        digest.update(rows)  # C-contiguous: hashed without a copy
        is_val = split_mask(seed, first, len(rows), val_fraction)
        first += len(rows)
        train.append(rows[~is_val])
        if val is not None:
            val.append(rows[is_val])
        if standardize:
            moments = moments.update(chunk.X[~is_val])
        if train.nbytes + (val.nbytes if val else 0) > max_memory:
            for table in (train, val):
                if table is not None:
                    table.spill()
    bar.close()
    return moments


def _bar(progress: bool, total: int | None):
    if not progress:  # no bar, and no import of tqdm (~0.05 s of a small run)
        return SimpleNamespace(update=lambda n: None, close=lambda: None)
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="reading", leave=False)


def split_mask(seed: int, first: int, m: int, fraction: float) -> np.ndarray:
    """Boolean (m,): which of rows first … first+m−1 are validation rows (splitmix64 of seed and row)."""
    if fraction <= 0:
        return np.zeros(m, dtype=bool)
    with np.errstate(over="ignore"):
        z = np.arange(first, first + m, dtype=np.uint64) + np.uint64(seed % 2**64) * _SPLIT_KEY
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53 < fraction
