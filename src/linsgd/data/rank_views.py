"""Rank views: one rank's share of a data view (:mod:`linsgd.data.views`) in a data-parallel run.

:class:`RankSlice` — every rank holds all rows and visits its slice of each global batch of the epoch's order
(order-exact with one process when the ranks average every step); :class:`Sharded` — every rank holds its own
shard and shuffles it with its own seed (statistically equivalent only). Ranks are plain ints and the
all-reduce a function, so the views run without a process group (tests simulate ranks in one process).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from linsgd.data.batching import rank_slice
from linsgd.data.views import DataView


class RankSlice:
    """Data every rank holds whole, visited as this rank's :func:`~linsgd.data.batching.rank_slice` of each
    epoch's order.

    With ``--sync-every 1`` the averaged steps equal one process's steps with batch N·B (order-exact).
    """

    def __init__(self, data: DataView, rank: int, world_size: int, batch_size: int) -> None:
        self.data, self.rank, self.world_size, self.batch_size = data, rank, world_size, batch_size

    @property
    def n(self) -> int:
        return self.data.n

    def epoch_orders(self, seed: int, epochs: int, start: int = 0):
        """This rank's slice of every epoch's global order."""
        return (rank_slice(o, self.batch_size, self.rank, self.world_size)
                for o in self.data.epoch_orders(seed, epochs, start))

    def epoch_runs(self, order, batch_size: int):
        return self.data.epoch_runs(order, batch_size)

    def loss(self, engine, w, b) -> float:
        """The full-data loss (every rank holds all rows and the same parameters)."""
        return self.data.loss(engine, w, b)

    def steps_per_epoch(self, batch_size: int) -> int:
        """The steps of one process with the global batch N·B (a rank runs one per global batch)."""
        return -(-self.n // (self.world_size * batch_size))

    def sample(self) -> np.ndarray:
        return self.data.sample()

    def rows(self):
        """This rank's block of rows, [r·n/N, (r+1)·n/N): the ranks' blocks cover every row once."""
        n, N = self.data.n, self.world_size
        return self.data.rows(self.rank * n // N, (self.rank + 1) * n // N)


class Sharded:
    """This rank's shard of the data (its own Parquet files), visited in the shard's own order.

    Not order-equivalent to one process (each rank shuffles its shard), only statistically: every row
    is still visited once per epoch. The loss is the mean over all shards: ``sum_over_ranks`` adds a list
    of floats over the ranks (one all-reduce, :func:`linsgd.runs.distributed.sum_floats`).
    """

    def __init__(self, data: DataView, rank: int, sum_over_ranks: Callable[[list[float]], list[float]]) -> None:
        self.data, self.rank, self.sum_over_ranks = data, rank, sum_over_ranks

    @property
    def n(self) -> int:
        return self.data.n

    def epoch_orders(self, seed: int, epochs: int, start: int = 0):
        """The shard's epoch orders (the seed is offset by the rank, so shards shuffle independently)."""
        return self.data.epoch_orders(seed + self.rank, epochs, start)

    def epoch_runs(self, order, batch_size: int):
        return self.data.epoch_runs(order, batch_size)

    def loss(self, engine, w, b) -> float:
        """Mean ½ v(Xw + b − y)² over the rows of every shard."""
        total, n = self.sum_over_ranks([self.data.loss(engine, w, b) * self.data.n, float(self.data.n)])
        return total / n

    def steps_per_epoch(self, batch_size: int) -> int:
        return self.data.steps_per_epoch(batch_size)

    def sample(self) -> np.ndarray:
        return self.data.sample()

    def rows(self):
        """The rows of this rank's shard (the other ranks hold the others)."""
        return self.data.rows()
