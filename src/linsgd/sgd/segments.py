"""Where an epoch is cut: segments of whole minibatches that end at sync points and checkpoints.

The data hands out an epoch as *runs*, ``(X, y, idx, v)`` (v: the rows' sample weights, or None) visited in
consecutive batches of ``idx``; every
run but the last holds a whole number of batches (a streamed epoch is one run per window). :func:`cut`
splits the runs into pieces that end at every multiple of ``every`` steps counted from the epoch's start,
and skips the first ``start`` steps (resume). Running the pieces one after another is the same arithmetic
as running the runs whole: a piece boundary is a multiple of the batch size, so the batches are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Piece:
    """Rows ``X``/``y`` (weights ``v`` or None) and the indices ``idx`` of steps [first, end) of the epoch.

    ``boundary``: ``end`` is a multiple of ``every`` (a sync or checkpoint point); the epoch's last piece
    need not be one.
    """

    X: np.ndarray
    y: np.ndarray
    idx: np.ndarray
    first: int
    end: int
    boundary: bool
    v: np.ndarray | None = None


def cut(runs: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]], batch_size: int,
        every: int | None,
        start: int = 0) -> Iterator[Piece]:
    """Pieces of the runs ending at multiples of ``every`` steps (None: one piece per run), from ``start``.

    Args:
        runs: ``(X, y, idx, v)``; every run but the last has ``len(idx)`` a multiple of ``batch_size``.
        batch_size: B >= 1. every: steps per segment >= 1, or None. start: steps of the epoch to skip
            (already done before a resume).

    Returns:
        An iterator of :class:`Piece`.

    Example: an epoch of 10 examples in batches of 3 (4 steps), cut every 2 steps, resumed after step 1:

        >>> import numpy as np
        >>> X, y, idx = np.zeros((10, 1)), np.zeros(10), np.arange(10)
        >>> [(p.first, p.end, p.boundary, p.idx.tolist()) for p in cut([(X, y, idx, None)], 3, 2, start=1)]
        [(1, 2, True, [3, 4, 5]), (2, 4, True, [6, 7, 8, 9])]
    """
    B, step = batch_size, 0
    for X, y, idx, v in runs:
        steps = -(-len(idx) // B)
        s = max(step, start)
        while s < step + steps:
            e = step + steps if every is None else min(step + steps, (s // every + 1) * every)
            yield Piece(X, y, idx[(s - step) * B:(e - step) * B], s, e, every is not None and e % every == 0, v)
            s = e
        step += steps
