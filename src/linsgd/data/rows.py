"""The one pass over a source into train and validation rows (:class:`~linsgd.data.row_store.RowStore`).

:func:`load_rows` makes the one pass over a source: it validates every row (in the source), splits
train/validation rows by seed, accumulates the train features' float64 moments (for ``--standardize``)
and a fingerprint of the data, and stores the rows. Rows that fit ``max_memory`` stay in numpy arrays;
otherwise they go to a raw ``(n, d+1)`` file in ``tmp_dir`` that epochs read back range by range, so
memory stays one window however large the data (see :mod:`linsgd.data.views`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from linsgd.config import DataConfig, default_max_memory
from linsgd.data.row_store import RowStore
from linsgd.errors import DataError
from linsgd.standardize import Moments, Standardizer

_SPLIT_KEY = np.uint64(0x9E3779B97F4A7C15)


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
