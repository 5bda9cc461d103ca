"""Signed feature hashing of a categorical column's levels into 2^N columns (``--hash-bits N``).

A level (its text) goes to column ``h mod 2^N`` with sign ``+1`` or ``−1``, h the first 8 bytes (little
endian) of the level's BLAKE2b digest (``hashlib``, 8-byte digest: stable across processes and machines,
unlike Python's salted ``hash``); the column is the low N bits, the sign bit 63. This is Vowpal Wabbit's
scheme (VW uses MurmurHash3; the sign halves the bias collisions add to a coefficient, as in
Weinberger et al. 2009 and scikit-learn's ``FeatureHasher(alternate_sign=True)``). A level unseen in
training still gets its column — hashing needs no vocabulary — and a gap (no level) gets no column.

Two levels of the training rows that land on the same column *collide*: :func:`collisions` counts the
training levels that share a column with another, shown in the column listing.
"""

from __future__ import annotations

import hashlib

import numpy as np


def bucket_and_sign(level: str, bits: int) -> tuple[int, float]:
    """(column in [0, 2^bits), ±1.0) of one level.

    >>> bucket_and_sign("Paris", 4)
    (11, 1.0)
    """
    h = int.from_bytes(hashlib.blake2b(str(level).encode("utf-8"), digest_size=8).digest(), "little")
    return h & ((1 << bits) - 1), -1.0 if h >> 63 else 1.0


def hashed_names(name: str, bits: int) -> list[str]:
    """The feature names of a hashed column: ``NAME#0`` … ``NAME#(2^bits − 1)``."""
    return [f"{name}#{k}" for k in range(1 << bits)]


def collisions(levels, bits: int) -> int:
    """How many of ``levels`` share their column with another level (0: every level has its own)."""
    columns = np.array([bucket_and_sign(lv, bits)[0] for lv in levels], dtype=np.int64)
    _, counts = np.unique(columns, return_counts=True)
    return int(counts[counts > 1].sum())


def hashed_block(text, bits: int) -> np.ndarray:
    """(m, 2^bits) float64: row i has ±1 in the column of its level (a pyarrow string array; null: no column).

    Each distinct level of the chunk is hashed once (``dictionary_encode``), not once per row.
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(text)
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    table = [bucket_and_sign(v, bits) for v in encoded.dictionary.to_pylist()]
    out = np.zeros((len(text), 1 << bits))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    valid = ~encoded.indices.is_null().to_numpy(zero_copy_only=False)
    if table and valid.any():
        col = np.array([c for c, _ in table], dtype=np.int64)
        sign = np.array([s for _, s in table])
        rows = np.flatnonzero(valid)
        out[rows, col[codes[rows].astype(np.int64)]] = sign[codes[rows].astype(np.int64)]
    return out
