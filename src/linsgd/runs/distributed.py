"""Everything that knows about ranks: torchrun's environment, the process group, sharding, averaging.

The train loop stays rank-agnostic: it calls ``Sync.average`` at sync points (a no-op on one process)
and asks ``Topology.is_main`` before writing. Launch with the standard torchrun::

    torchrun --nproc-per-node 2 -m linsgd train DATA_DIR --target y --sync-every 1

Data parallelism with ``--sync-every K``: every rank starts from the same parameters, runs K minibatch
steps on its own examples, then all ranks replace their parameters by the average over ranks. With K = 1
and rank r taking the r-th slice of B examples of each global batch of N·B examples
(``linsgd.data.rank_views.RankSlice``), one averaged step is ``w − lr/(N·B) · Σ_r X_rᵀ r_r``: exactly one step of
a single process with batch N·B. The views of a rank's data live in :mod:`linsgd.data.rank_views`; this module
holds the collectives.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from linsgd import _faults
from linsgd.errors import CollectiveError, first_line
from linsgd.extras import require


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
        """Read torchrun's RANK, WORLD_SIZE and LOCAL_RANK; a plain process is rank 0 of 1.

        >>> Topology.from_env({"RANK": "1", "WORLD_SIZE": "2"})
        Topology(rank=1, world_size=2, local_rank=0)
        >>> Topology.from_env({}).is_main
        True
        """
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
    dist = require("torch.distributed", "training under torchrun")

    global _TIMEOUT_S
    _TIMEOUT_S = timeout_s
    timeout = datetime.timedelta(seconds=timeout_s)
    try:
        # torchrun's store outlives a restart (--max-restarts): the previous attempt's addresses are still
        # in it, and gloo would try to connect to dead processes. Each attempt gets its own key prefix.
        store, rank, world = next(dist.rendezvous("env://", timeout=timeout))
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        dist.init_process_group(backend=backend, store=dist.PrefixStore(f"linsgd/attempt-{attempt}", store),
                                rank=rank, world_size=world, timeout=timeout)
    except (RuntimeError, ValueError) as e:  # rendezvous failed or timed out
        raise collective_error(topology, "joining the process group", e) from e
    try:
        yield
    finally:
        dist.destroy_process_group()  # on every exit path, errors included


_TIMEOUT_S: float | None = None  # of the current process group, for messages


def collective_error(topology: Topology, what: str, e: Exception):
    """A one-line CollectiveError for a failed collective ``what``, naming this rank and the timeout."""
    first = first_line(e)[:200]
    limit = f"--dist-timeout={_TIMEOUT_S:g}s" if _TIMEOUT_S else "the timeout"
    return CollectiveError(f"rank {topology.rank}: {what} failed: another rank died or did not answer "
                           f"within {limit} ({first})")


@contextlib.contextmanager
def collective(topology: Topology, what: str) -> Iterator[None]:
    """Turn a failing torch.distributed call into :func:`collective_error`."""
    try:
        yield
    except RuntimeError as e:
        raise collective_error(topology, what, e) from e


def shard(items: list, topology: Topology) -> list:
    """Every world_size-th item starting at this rank (files or row groups of a Parquet data set)."""
    return items[topology.rank::topology.world_size]


class Sync:
    """The train loop's only contact with other ranks: parameter averaging every ``every`` steps.

    On one process (the default) every method returns its input and nothing is imported. Under torchrun,
    ``average`` is the example-weighted mean of :func:`_all_reduce_params`; a failed collective (a rank
    died, or hung longer than the process group's timeout) becomes :class:`~linsgd.errors.CollectiveError`
    naming this rank.

    Args:
        topology: this process's place in the job. every: steps between averages (K >= 1).
    """

    def __init__(self, topology: Topology = Topology(), every: int = 1) -> None:
        self.topology, self._every, self.calls = topology, every, 0
        self.seconds = 0.0  # wall time in all-reduces, waiting for slower ranks included

    @property
    def every(self) -> int | None:
        """Steps between averages, or None on one process (nothing to average)."""
        return self._every if self.topology.distributed else None

    def average(self, w: np.ndarray, b: float, examples: int) -> tuple[np.ndarray, float]:
        """Average (w, b) over ranks, weighted by the examples each rank ran since the last sync."""
        return self._reduce(w, b, examples, active=True)[:2]

    def drain(self, w: np.ndarray, b: float, examples: int) -> tuple[np.ndarray, float]:
        """End of an epoch: sync the last, partial segment, then keep joining the averages of the ranks
        still running (contributing no examples) until every rank has finished its epoch.

        So ranks agree on the number of syncs per epoch even when their shares of the data differ.
        """
        if not self.topology.distributed:
            return w, b
        while True:
            w, b, running = self._reduce(w, b, examples, active=False)
            examples = 0
            if not running:
                return w, b

    def gather(self, values: np.ndarray) -> np.ndarray:
        """Every rank's float64 vector (all of the same length), as rows in rank order: (world_size, length).

        One all-gather (e.g. the ranks' :meth:`~linsgd.lstsq.qr.LeastSquares.to_floats`, merged the same way
        on every rank); on one process, ``values`` as one row.
        """
        values = np.asarray(values, dtype=np.float64)
        if not self.topology.distributed:
            return values[None, :]
        return gather_floats(values, self.topology)

    def _reduce(self, w, b, examples: int, active: bool) -> tuple[np.ndarray, float, int]:
        if not self.topology.distributed:
            return w, b, 0
        self.calls += 1
        _faults.before_sync(self.topology.rank, self.calls)
        t0 = time.perf_counter()
        with collective(self.topology, f"the all-reduce of sync {self.calls}"):
            out = _all_reduce_params(w, b, examples, int(active))
        self.seconds += time.perf_counter() - t0
        return out


def _all_reduce_params(w, b, examples: int, active: int) -> tuple[np.ndarray, float, int]:
    """One all-reduce of [m·w, m·b, m, active]: the example-weighted mean and the count of active ranks.

    Rank r ran its steps on m_r examples since the last sync. From common parameters θ, one step each
    gives θ_r = θ − lr/m_r · g_r, and Σ m_r θ_r / Σ m_r = θ − lr/Σm_r · Σ g_r: exactly the single-process
    step on the union, also when a short last batch is split unevenly. Unchanged when no rank saw an example.
    """
    import torch
    import torch.distributed as dist

    flat = torch.from_numpy(np.concatenate([w.astype(np.float64) * examples, [b * examples, examples, active]]))
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    total, running = float(flat[-2]), int(flat[-1])
    if total == 0:
        return w, b, running
    out = (flat[:-2] / total).numpy()
    return out[:-1].astype(w.dtype), float(out[-1]), running


def broadcast_floats(values: np.ndarray | None, length: int, topology: Topology) -> np.ndarray:
    """Rank 0's float64 ``values`` (length ``length``) on every rank; ``values`` is ignored elsewhere."""
    if not topology.distributed:
        return np.asarray(values, dtype=np.float64)
    import torch
    import torch.distributed as dist

    t = torch.from_numpy(np.array(values, dtype=np.float64) if topology.is_main else np.zeros(length))
    with collective(topology, "a broadcast from rank 0"):
        dist.broadcast(t, src=0)
    return t.numpy()


def broadcast_int(value: int, topology: Topology) -> int:
    """Rank 0's integer (int64) on every rank, e.g. a drawn seed."""
    if not topology.distributed:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([value if topology.is_main else 0], dtype=torch.int64)
    with collective(topology, "a broadcast from rank 0"):
        dist.broadcast(t, src=0)
    return int(t[0])


def joint_fingerprint(fingerprint: str, topology: Topology) -> str:
    """One fingerprint of every rank's (hex) fingerprint, in rank order: the data of all shards."""
    if not topology.distributed:
        return fingerprint
    import hashlib

    import torch
    import torch.distributed as dist

    rows = torch.zeros((topology.world_size, len(fingerprint) // 2), dtype=torch.int64)
    rows[topology.rank] = torch.tensor(list(bytes.fromhex(fingerprint)))
    with collective(topology, "the all-reduce of the data fingerprints"):
        dist.all_reduce(rows, op=dist.ReduceOp.SUM)
    return hashlib.blake2b(bytes(rows.flatten().tolist()), digest_size=16).hexdigest()


def gather_floats(values: np.ndarray, topology: Topology) -> np.ndarray:
    """Each rank's float64 ``values`` (the same length on every rank) as rows of a (world_size, length) array."""
    import torch
    import torch.distributed as dist

    mine = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64))
    rows = [torch.zeros_like(mine) for _ in range(topology.world_size)]
    with collective(topology, "the all-gather of the least-squares states"):
        dist.all_gather(rows, mine)
    return torch.stack(rows).numpy()


def sum_floats(values: list[float], topology: Topology) -> list[float]:
    """The sum over ranks of each value (float64)."""
    if not topology.distributed:
        return values
    import torch
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64)
    with collective(topology, "the all-reduce of the loss"):
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def gather_json(value, topology: Topology) -> list:
    """Every rank's JSON-able ``value``, in rank order (one all-gather), e.g. first-pass statistics to merge."""
    if not topology.distributed:
        return [value]
    import json

    import torch.distributed as dist

    out = [None] * topology.world_size
    with collective(topology, "the all-gather of the first-pass statistics"):
        dist.all_gather_object(out, json.dumps(value))
    return [json.loads(v) for v in out]
