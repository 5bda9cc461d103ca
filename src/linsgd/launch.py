"""How a file run is spread over ranks and made resumable: shards, checkpoints, the resumed state.

:func:`linsgd.runs.fit_file` takes a :class:`Launch` (the default: one process, no checkpoints) and asks
it, at four points, for the source each rank reads, the views each rank trains on, and the Sync,
Checkpointer and resumed TrainState that :func:`linsgd.train.train_data` gets. Nothing here trains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from linsgd.distributed import Topology

CHECKPOINT = "checkpoint.safetensors"
# data settings that may change on resume: they change how rows are read, not which rows or their values
_MAY_CHANGE = ("max_memory", "chunk_bytes", "tmp_dir")


@dataclass
class Launch:
    """Where this process stands in the job and what it keeps on disk.

    Args:
        topology: rank and world size (torchrun's environment). sync_every: steps between averages (K).
        out: the run folder (checkpoints go to ``out/checkpoint.safetensors``).
        checkpoint_every: ``(N, "steps" | "epochs")`` or None. resume: None, ``"yes"`` (a checkpoint
            must exist) or ``"auto"`` (resume when there is one).
    """

    topology: Topology = field(default_factory=Topology)
    sync_every: int = 1
    out: Path | None = None
    checkpoint_every: tuple[int, str] | None = None
    resume: str | None = None
    sharded: bool = False
    resumed: object = None  # the TrainState resumed from, once prepare ran
    sync: object = None  # the Sync handed to the loop, once prepare ran (its calls and seconds)

    def source(self, source, reopen):
        """The source this rank reads: under torchrun, its share of the Parquet files when the rows
        cannot fit ``budget`` (``reopen(files)`` opens a list of files), else the whole source."""
        from linsgd.distributed import shard
        from linsgd.errors import ConfigError

        world = self.topology.world_size
        if not self.sharded:
            return source
        if len(source.files) < world:
            raise ConfigError("data", source.path, f"at least {world} Parquet files to share between {world} "
                                                   f"ranks when it exceeds --max-memory (it has {len(source.files)})")
        return reopen(shard(source.files, self.topology))

    def decide_sharding(self, source, row_bytes: int, budget: int) -> None:
        """Shard by file when distributed, the source is Parquet and its rows do not fit ``budget``."""
        self.sharded = (self.topology.distributed and hasattr(source, "files") and source.num_rows is not None
                        and source.num_rows * row_bytes > budget)

    def views(self, train, val, batch_size: int):
        """Wrap the views for data parallelism (see :class:`~linsgd.distributed.RankSlice`, ``Sharded``)."""
        from linsgd.data.stream import InMemory
        from linsgd.distributed import RankSlice, Sharded
        from linsgd.errors import ConfigError

        if self.sharded:
            return Sharded(train, self.topology), val and Sharded(val, self.topology)
        if self.topology.distributed:
            if not isinstance(train, InMemory):  # every rank would stream all rows: not what anyone wants
                raise ConfigError("max_memory", "(the budget)", "a budget the data fits in on every rank under "
                                  "torchrun, unless the data is a folder of Parquet files (one or more per rank), "
                                  "which the ranks then share file by file")
            return RankSlice(train, self.topology, batch_size), val
        return train, val

    def prepare(self, config, data, fingerprint: str, d: int):
        """The Sync, the Checkpointer (or None) and the resumed TrainState (or None) of this run.

        Raises:
            StorageError: ``resume="yes"`` without a readable checkpoint; the run folder is not writable.
            ConfigError: the checkpoint is of another run (lists every difference).
        """
        from linsgd.checkpoint import Checkpointer
        from linsgd.distributed import Sync, joint_fingerprint
        from linsgd.storage import ensure_writable_dir

        if self.sharded:  # each rank read other rows: the run's data is all of them
            fingerprint = joint_fingerprint(fingerprint, self.topology)
        ident = self.identity(config, data, fingerprint)
        self.resumed = self._resume_state(ident, d, config.dtype)
        checkpoints = None
        if self.checkpoint_every:
            if self.topology.is_main:
                ensure_writable_dir(self.out, "out")
            checkpoints = Checkpointer(self.out / CHECKPOINT, ident, *self.checkpoint_every,
                                       enabled=self.topology.is_main)
        self.sync = Sync(self.topology, self.sync_every)
        return self.sync, checkpoints, self.resumed

    def identity(self, config, data, fingerprint: str):
        """What a resume must match: the settings (but epochs and how rows are read), data, world size."""
        from linsgd.checkpoint import Identity

        settings = {**config.to_dict(), **{k: v for k, v in data.to_dict().items() if k not in _MAY_CHANGE}}
        settings.pop("epochs")  # more epochs continue a finished run
        if self.topology.distributed:
            settings["sync_every"] = self.sync_every
        return Identity(settings, fingerprint, self.topology.world_size)

    def checkpoint_seed(self) -> int | None:
        """The seed of the run folder's checkpoint when resuming (to use when no seed is given)."""
        from linsgd.checkpoint import load_checkpoint
        from linsgd.errors import StorageError

        path = self.out / CHECKPOINT if self.out else None
        if not self.resume or path is None or not path.exists():
            return None
        try:
            return load_checkpoint(path)[1].config.get("seed")
        except StorageError:  # reported by the resume itself, once every rank is listening
            return None

    def _resume_state(self, ident, d: int, dtype: str):
        """Rank 0 reads and checks the checkpoint and sends the state to every rank (or its refusal)."""
        from linsgd.checkpoint import TrainState, check_resumable, load_checkpoint
        from linsgd.distributed import broadcast_floats
        from linsgd.errors import ConfigError

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
        vec = np.zeros(d + 6) if not main or state is None else np.concatenate(
            [[1.0], state.w, [state.b, state.epoch, state.position, state.best_loss, state.best_epoch]])
        if error is not None:
            vec[0] = -1.0
        vec = broadcast_floats(vec, d + 6, self.topology)
        if error is not None:
            raise error
        if vec[0] < 0:
            raise ConfigError("resume", self.resume, "a checkpoint rank 0 can resume from (see rank 0's error)")
        if main or vec[0] == 0:
            return state
        return TrainState(w=vec[1:d + 1].astype(dtype), b=float(vec[d + 1]), epoch=int(vec[d + 2]),
                          position=int(vec[d + 3]), best_loss=float(vec[d + 4]), best_epoch=int(vec[d + 5]))


def with_seed(config, seed: int | None):
    """``config`` with ``seed`` when it is not None."""
    return config if seed is None else dataclasses.replace(config, seed=seed)
