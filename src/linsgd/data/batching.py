"""The order in which examples are visited: one function owns "the permutation of epoch e for seed s".

Every engine visits examples in this order, so engines are comparable step for step. Batch ``k`` of an
epoch is ``order[k·B : min((k+1)·B, n)]``: consecutive slices, the last one possibly shorter.
"""

from __future__ import annotations

import numpy as np

INIT_STREAM = 1  # seed-sequence branch of the initial parameters (linsgd.train)
_ORDER_STREAM = 2


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """A uniformly random permutation of ``range(n)`` (int64) for 0-based ``epoch`` under ``seed``.

    Example:
        >>> sorted(epoch_order(0, 0, 5).tolist())
        [0, 1, 2, 3, 4]
    """
    return np.random.default_rng([seed, _ORDER_STREAM, epoch]).permutation(n)


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of every batch of an epoch over n examples."""
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]

