"""The chapter's synthetic data, y = Xw + b + ε, generated in fixed blocks so any size streams.

Block ``k`` (rows ``k·BLOCK_ROWS …``) is drawn from its own generator seeded by ``(seed, STREAM, k)``, so
the whole array equals the concatenation of its blocks: writing a file larger than memory block by block
gives the same rows as generating it at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

BLOCK_ROWS = 65_536
_STREAM = 0  # seed-sequence branch of the data; training uses others (see linsgd.data.batching)


def make_regression(
    num_examples: int,
    true_w: Sequence[float],
    true_b: float,
    *,
    noise: float = 0.01,
    seed: int = 0,
    dtype: str = "float32",
) -> tuple[np.ndarray, np.ndarray]:
    """Features X ~ N(0, 1) of shape (n, d) and labels y = Xw + b + ε, ε ~ N(0, noise²), shape (n,).

    Example:
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=0)
        >>> X.shape, y.shape, X.dtype
        ((1000, 2), (1000,), dtype('float32'))
    """
    w = np.asarray(true_w, dtype=np.float64)
    X = np.empty((num_examples, w.size), dtype=dtype)
    y = np.empty(num_examples, dtype=dtype)
    for start, Xb, yb in iter_blocks(num_examples, w, true_b, noise=noise, seed=seed, dtype=dtype):
        X[start:start + len(yb)] = Xb
        y[start:start + len(yb)] = yb
    return X, y


def iter_blocks(
    num_examples: int,
    true_w: Sequence[float] | np.ndarray,
    true_b: float,
    *,
    noise: float = 0.01,
    seed: int = 0,
    dtype: str = "float32",
    block_rows: int = BLOCK_ROWS,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(first_row, X_block, y_block)`` for consecutive blocks; memory stays one block.

    ``block_rows`` groups the yielded rows (a multiple of BLOCK_ROWS keeps the values unchanged).
    """
    w = np.asarray(true_w, dtype=np.float64)
    for start in range(0, num_examples, block_rows):
        stop = min(start + block_rows, num_examples)
        parts = [_block(k, seed, w, true_b, noise, dtype)
                 for k in range(start // BLOCK_ROWS, -(-stop // BLOCK_ROWS))]
        X = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        off = start - (start // BLOCK_ROWS) * BLOCK_ROWS
        yield start, X[off:off + stop - start], y[off:off + stop - start]


def _block(k: int, seed: int, w: np.ndarray, b: float, noise: float, dtype: str):
    """Block k of the data set: BLOCK_ROWS rows (the caller trims the last one)."""
    rng = np.random.default_rng([seed, _STREAM, k])
    X = rng.standard_normal((BLOCK_ROWS, w.size))
    y = X @ w + b + rng.normal(0.0, noise, BLOCK_ROWS)
    return X.astype(dtype), y.astype(dtype)
