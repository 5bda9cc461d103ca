"""How a file run is spread over ranks and made resumable: the launch plan, frozen once the flags are read.

:func:`linsgd.runs.run.fit_file` asks a :class:`Plan` (the default: one process, no checkpoints), in this
order, for the source this rank reads (:meth:`Plan.shard`), the views each rank trains on
(:meth:`Plan.views`) and the sync, checkpointer and resumed state the loop gets (:meth:`Plan.prepare`).
Every answer is returned, never stored: the plan holds only what the flags said. Nothing here trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from linsgd.data.rank_views import RankSlice, Sharded
from linsgd.data.views import InMemory
from linsgd.errors import ConfigError, StorageError
from linsgd.runs.checkpoint import CHECKPOINT, Checkpointer, Identity, check_resumable, load_checkpoint
from linsgd.runs.distributed import (
    Sync,
    Topology,
    broadcast_floats,
    gather_floats,
    joint_fingerprint,
    shard,
    sum_floats,
)
from linsgd.sgd.result import TrainState
from linsgd.standardize import Moments
from linsgd.storage import ensure_writable_dir

# data settings that may change on resume: they change how rows are read, not which rows or their values
_MAY_CHANGE = ("max_memory", "chunk_bytes", "tmp_dir")


@dataclass(frozen=True)
class Prepared:
    """What the loop gets from the plan: the Sync, the Checkpointer (or None), the resumed state (or None)."""

    sync: Sync
    checkpoints: Checkpointer | None
    resumed: TrainState | None


@dataclass(frozen=True)
class Plan:
    """Where this process stands in the job and what it keeps on disk.

    Args:
        topology: rank and world size (torchrun's environment). sync_every: steps between the ranks' averages
            (K) when the config's ``sync_every`` is "auto" (a resolved config's K wins: threads and ranks
            average at the same points).
        out: the run folder (checkpoints go to ``out/checkpoint.safetensors``).
        checkpoint_every: ``(N, "steps" | "epochs")`` or None. resume: None, ``"yes"`` (a checkpoint
            must exist) or ``"auto"`` (resume when there is one).
    """

    topology: Topology = field(default_factory=Topology)
    sync_every: int = 1
    out: Path | None = None
    checkpoint_every: tuple[int, str] | None = None
    resume: str | None = None

    def shard(self, source, row_bytes: int, budget: int):
        """``(source, sharded)``: under torchrun, a Parquet source whose rows do not fit ``budget`` is cut by
        file (this rank's share: file i goes to rank i mod N); otherwise every rank reads the whole source.

        Raises:
            ConfigError: fewer Parquet files than ranks.
        """
        world = self.topology.world_size
        sharded = (self.topology.distributed and hasattr(source, "files") and source.num_rows is not None
                   and source.num_rows * row_bytes > budget)
        if not sharded:
            return source, False
        if len(source.files) < world:
            raise ConfigError("data", source.path, f"at least {world} Parquet files to share between {world} "
                                                   f"ranks when it exceeds --max-memory (it has {len(source.files)})")
        return source.subset(shard(source.files, self.topology)), True

    def combine(self, sharded: bool):
        """What :func:`~linsgd.data.rows.load_rows` does with its moments: under torchrun with shards,
        merge every rank's (one all-gather, Chan's merge in rank order), so every rank standardises alike;
        else nothing (None: every rank read the same rows)."""
        if not sharded:
            return None

        def merged(m: Moments) -> Moments:
            d = len(m.mean)
            rows = gather_floats(np.concatenate([[m.count], m.mean, m.m2]), self.topology)
            out = Moments.empty(d)
            for r in rows:
                out = out.merge(Moments(int(r[0]), r[1:d + 1].copy(), r[d + 1:].copy()))
            return out

        return merged

    def sum_over_ranks(self, sharded: bool):
        """What :func:`~linsgd.data.rows.load_rows` adds over the ranks (the rows and sample weights' totals):
        under torchrun with shards, one all-reduce, so the weights are normalised over all rows; else None."""
        if not sharded:
            return None
        topo = self.topology
        return lambda values: sum_floats(values, topo)

    def views(self, train, val, batch_size: int, sharded: bool):
        """Wrap the views for data parallelism (:class:`~linsgd.data.views.RankSlice`, ``Sharded``);
        ``batch_size``: the rank's process batch (its threads' batches, N·B)."""
        topo = self.topology
        if sharded:
            total = lambda values: sum_floats(values, topo)  # noqa: E731 (one all-reduce over ranks)
            return Sharded(train, topo.rank, total), val and Sharded(val, topo.rank, total)
        if topo.distributed:
            if not isinstance(train, InMemory):  # every rank would stream all rows: not what anyone wants
                raise ConfigError("max_memory", "(the budget)", "a budget the data fits in on every rank under "
                                  "torchrun, unless the data is a folder of Parquet files (one or more per rank), "
                                  "which the ranks then share file by file")
            return RankSlice(train, topo.rank, topo.world_size, batch_size), val
        return train, val

    def prepare(self, config, data, fingerprint: str, d: int, sharded: bool) -> Prepared:
        """The Sync, the Checkpointer and the resumed TrainState of this run.

        Raises:
            StorageError: ``resume="yes"`` without a readable checkpoint; the run folder is not writable.
            ConfigError: the checkpoint is of another run (lists every difference).
        """
        if sharded:  # each rank read other rows: the run's data is all of them
            fingerprint = joint_fingerprint(fingerprint, self.topology)
        ident = self.identity(config, data, fingerprint)
        resumed = self._resume_state(ident, d, config.dtype)
        checkpoints = None
        if self.checkpoint_every:
            if self.topology.is_main:
                ensure_writable_dir(self.out, "out")
            checkpoints = Checkpointer(self.out / CHECKPOINT, ident, *self.checkpoint_every,
                                       enabled=self.topology.is_main)
        every = config.sync_every if isinstance(config.sync_every, int) else self.sync_every
        return Prepared(Sync(self.topology, every), checkpoints, resumed)

    def identity(self, config, data, fingerprint: str) -> Identity:
        """What a resume must match: the settings (but epochs and how rows are read), data, world size."""
        settings = {**config.to_dict(), **{k: v for k, v in data.to_dict().items() if k not in _MAY_CHANGE}}
        settings.pop("epochs")  # more epochs continue a finished run
        return Identity(settings, fingerprint, self.topology.world_size)

    def checkpoint_seed(self) -> int | None:
        """The seed of the run folder's checkpoint when resuming (to use when no seed is given)."""
        path = self.out / CHECKPOINT if self.out else None
        if not self.resume or path is None or not path.exists():
            return None
        try:
            return load_checkpoint(path)[1].config.get("seed")
        except StorageError:  # reported by the resume itself, once every rank is listening
            return None

    def _resume_state(self, ident: Identity, d: int, dtype: str) -> TrainState | None:
        """Rank 0 reads and checks the checkpoint and sends the state to every rank (or its refusal)."""
        if not self.resume:
            broadcast_floats(np.zeros(1), 1, self.topology)  # a barrier: every rank has loaded its data
            return None
        state, error, main = None, None, self.topology.is_main
        if main:
            path = self.out / CHECKPOINT
            try:
                if self.resume == "yes" or path.exists():
                    state, saved = load_checkpoint(path)
                    check_resumable(saved, ident, path)
            except Exception as e:  # told to the other ranks first, so that they stop too
                error = e
        vec = np.zeros(2 * d + 9) if not main or state is None else np.concatenate(
            [[1.0], state.w, [state.b, state.epoch, state.position, state.best_loss, state.best_epoch, state.step,
                              state.wa is not None, state.ba], state.wa if state.wa is not None else np.zeros(d)])
        if error is not None:
            vec[0] = -1.0
        vec = broadcast_floats(vec, 2 * d + 9, self.topology)
        if error is not None:
            raise error
        if vec[0] < 0:
            raise ConfigError("resume", self.resume, "a checkpoint rank 0 can resume from (see rank 0's error)")
        if main or vec[0] == 0:
            return state
        return TrainState(w=vec[1:d + 1].astype(dtype), b=float(vec[d + 1]), epoch=int(vec[d + 2]),
                          position=int(vec[d + 3]), best_loss=float(vec[d + 4]), best_epoch=int(vec[d + 5]),
                          step=int(vec[d + 6]), ba=float(vec[d + 8]), wa=vec[d + 9:].copy() if vec[d + 7] else None)
