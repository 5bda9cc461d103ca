"""Everything that knows about ranks: torchrun's environment, the process group, sharding, averaging.

The train loop stays rank-agnostic: it calls ``average_params`` at sync points (a no-op on one process)
and asks ``Topology.is_main`` before writing. Launch with the standard torchrun::

    torchrun --nproc-per-node 2 -m linsgd train DATA_DIR --target y --sync-every 1

Data parallelism with ``--sync-every K``: every rank starts from the same parameters, runs K minibatch
steps on its own examples, then all ranks replace their parameters by the average over ranks. With K = 1
and rank r taking the r-th slice of B examples of each global batch of N·B examples, one averaged step is
``w − lr/(N·B) · Σ_r X_rᵀ r_r``: exactly one step of a single process with batch N·B.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Topology:
    """This process's place in the job: rank in [0, world_size), and the rank within its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls, env: dict | None = None) -> Topology:
        """Read torchrun's RANK, WORLD_SIZE and LOCAL_RANK; a plain process is rank 0 of 1."""
        env = os.environ if env is None else env
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


@contextlib.contextmanager
def process_group(topology: Topology, *, backend: str = "gloo", timeout_s: float = 300.0) -> Iterator[None]:
    """Join the job's process group (when there is more than one process) and always leave it.

    ``timeout_s`` bounds every collective: a rank that hangs or dies makes the others fail after it
    instead of waiting forever.
    """
    if not topology.distributed:
        yield
        return
    import torch.distributed as dist

    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    try:
        yield
    finally:
        dist.destroy_process_group()  # on every exit path, errors included


def average_params(w: np.ndarray, b: float, examples: int, topology: Topology) -> tuple[np.ndarray, float]:
    """The example-weighted mean of (w, b) over ranks, by one all-reduce of d + 2 numbers.

    Rank r ran its steps on ``examples`` = m_r examples since the last sync. From common parameters θ,
    one step each gives θ_r = θ − lr/m_r · g_r, and Σ m_r θ_r / Σ m_r = θ − lr/Σm_r · Σ g_r: exactly the
    single-process step on the union, also when a short last batch is split unevenly. Unchanged on one
    process, or when no rank saw an example.
    """
    if not topology.distributed:
        return w, b
    import torch
    import torch.distributed as dist

    flat = torch.from_numpy(np.concatenate([w.astype(np.float64) * examples, [b * examples, examples]]))
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    total = float(flat[-1])
    if total == 0:
        return w, b
    out = (flat[:-1] / total).numpy()
    return out[:-1].astype(w.dtype), float(out[-1])


def rank_slice(order: np.ndarray, batch_size: int, topology: Topology) -> np.ndarray:
    """This rank's part of a global order cut into global batches of world_size·B examples.

    Global batch k is ``order[k·N·B : (k+1)·N·B]``; rank r takes its r-th slice of B examples. With
    ``--sync-every 1`` the averaged step then equals one single-process step with batch N·B. A short
    last global batch is split as evenly as possible (a rank may get fewer, even zero, examples).
    """
    n, world, r = len(order), topology.world_size, topology.rank
    if world == 1:
        return order
    global_b = world * batch_size
    parts = []
    for start in range(0, n, global_b):
        chunk = order[start:start + global_b]
        parts.append(np.array_split(chunk, world)[r] if len(chunk) < global_b else
                     chunk[r * batch_size:(r + 1) * batch_size])
    return np.concatenate(parts) if parts else order[:0]


def shard(items: list, topology: Topology) -> list:
    """Every world_size-th item starting at this rank (files or row groups of a Parquet data set)."""
    return items[topology.rank::topology.world_size]
