"""The epoch order of a small n in pure Python/NumPy: the same permutation as the numba kernels.

For n <= SHUFFLE_ROWS the order of :mod:`linsgd.data.batching` is the Fisher–Yates pass of
``_shuffle_kernels.shuffle_buckets`` on ``range(n)`` over stream 0 of the swap key. This module
draws the same splitmix64 outputs (vectorised in NumPy's wrapping uint64 arithmetic) and the same
Lemire rejections (Python ints), so it returns exactly the kernels' array without importing numba;
~0.25 µs a row, for the few thousand rows where numba's start-up would dominate (:mod:`linsgd._small`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = 0xFFFFFFFF


def fisher_yates(swap_key: int, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """The one-bucket order: Fisher–Yates on ``range(n)`` with draws from stream 0 of ``swap_key``.

    For t = n − 1, …, 1: draw j uniform on [0, t] (Lemire's multiply-shift with rejection on the top
    32 bits of splitmix64) and swap positions t and j, as ``shuffle_buckets`` does.

    Args:
        swap_key: the second uint64 key of the epoch (stream 0 starts its counter there).
        n: rows, 0 <= n < 2³².
        out: optional (n,) integer array to write the order into (and return).

    Returns:
        The permutation, int32 (n,) (as ``epoch_order``'s for n < 2³¹).
    """
    order = list(range(n))
    draws = _top32_stream(int(swap_key), max(n, 1))
    for t in range(n - 1, 0, -1):
        s = t + 1
        threshold = ((1 << 32) - s) % s  # 2³² mod s: low words below it are rejected (rare: < s/2³²)
        m = next(draws) * s
        while m & _LOW32 < threshold:
            m = next(draws) * s
        j = m >> 32
        order[t], order[j] = order[j], order[t]
    if out is None:
        return np.array(order, dtype=np.int32)
    out[:] = order
    return out


def _top32_stream(key: int, chunk: int) -> Iterator[int]:
    """The top 32 bits of splitmix64 outputs 1, 2, … of the counter started at ``key``, as Python ints."""
    first = 1
    while True:
        yield from _top32(key, first, chunk).tolist()
        first += chunk


def _top32(key: int, first: int, count: int) -> np.ndarray:
    """Outputs ``first … first + count − 1`` (uint64 arithmetic wraps modulo 2⁶⁴, as in the kernel)."""
    z = np.arange(first, first + count, dtype=np.uint64) * _GOLDEN + np.uint64(key)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return (z ^ (z >> _S31)) >> _S32
