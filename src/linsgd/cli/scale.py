"""Flags and glue of ``linsgd train`` for checkpoints, ``--resume`` and data-parallel training.

The loop itself knows none of this: it gets a Checkpointer, a Sync and maybe a resumed TrainState.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

CHECKPOINT = "checkpoint.safetensors"
# settings that may change on resume: more epochs continue a finished run; the rest only affect output
_MAY_CHANGE = ("epochs", "quiet", "out", "tmp_dir", "max_memory", "chunk_size", "debug")


def add_scale_flags(p: argparse.ArgumentParser) -> None:
    """--checkpoint-every, --resume, --sync-every, --dist-timeout."""
    g = p.add_argument_group("checkpoints and data-parallel training (torchrun)")
    g.add_argument("--checkpoint-every", default=None, metavar="N{steps,epochs}",
                   help="write RUN/checkpoint.safetensors every N steps (counted from each epoch's start, "
                        "and at every epoch's end) or every N epochs, e.g. 500steps, 1epoch")
    g.add_argument("--resume", nargs="?", const="yes", choices=("yes", "auto"), default=None,
                   help="continue from RUN/checkpoint.safetensors (the same flags; --epochs may grow); "
                        "--resume=auto starts afresh when there is none (for torchrun --max-restarts)")
    g.add_argument("--sync-every", type=int, default=1, metavar="K",
                   help="under torchrun: average the parameters over ranks every K steps (default 1)")
    g.add_argument("--dist-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="under torchrun: fail when a collective waits longer than this (default 300)")


def parse_every(text: str | None) -> tuple[int, str] | None:
    """``500steps`` → (500, "steps"), ``1epoch`` → (1, "epochs"); None stays None."""
    from linsgd.errors import ConfigError

    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(step|steps|epoch|epochs)\s*", text)
    if not m or int(m.group(1)) < 1:
        raise ConfigError("checkpoint_every", text, "N steps or N epochs with N >= 1, e.g. 500steps or 1epoch")
    return int(m.group(1)), "steps" if m.group(2).startswith("step") else "epochs"


def check_scale_flags(args) -> None:
    """ConfigError for --sync-every < 1, --dist-timeout <= 0."""
    from linsgd.errors import ConfigError

    if args.sync_every < 1:
        raise ConfigError("sync_every", args.sync_every, "an integer >= 1")
    if not args.dist_timeout > 0:
        raise ConfigError("dist_timeout", args.dist_timeout, "a number of seconds > 0")


def identity(args, config, fingerprint: str, topology):
    """What a resume must match: every setting but those in _MAY_CHANGE, the data and the world size."""
    from linsgd.checkpoint import Identity

    skip = {*_MAY_CHANGE, "func", "command", "data", "resume", "checkpoint_every", "dist_timeout"}
    settings = {**{k: v for k, v in vars(args).items() if k not in skip}, **config.to_dict()}
    settings.pop("epochs")  # config's; more epochs continue a finished run
    if not topology.distributed:
        settings.pop("sync_every")
    return Identity(settings, fingerprint, topology.world_size)


def checkpoint_seed(args, out: Path) -> int | None:
    """The seed stored in the run's checkpoint, when resuming without --seed (else None)."""
    from linsgd.checkpoint import load_checkpoint

    path = out / CHECKPOINT
    if not args.resume or args.seed is not None or not path.exists():
        return None
    return load_checkpoint(path)[1].config.get("seed")


def resume_state(args, out: Path, ident, topology, d: int, dtype: str):
    """The TrainState to continue from on every rank (rank 0 reads and checks it), or None.

    Raises:
        StorageError: no readable checkpoint (``--resume``; ``--resume=auto`` starts afresh without one).
        ConfigError: the checkpoint is of another run (lists every difference).
    """
    import numpy as np

    from linsgd.checkpoint import TrainState, check_resumable, load_checkpoint
    from linsgd.distributed import broadcast_floats

    if not args.resume:
        return None
    state, error = None, None
    if topology.is_main:
        path = out / CHECKPOINT
        try:
            if args.resume == "yes" or path.exists():
                state, saved = load_checkpoint(path)
                check_resumable(saved, ident, path)
        except Exception as e:  # told to the other ranks first, so that they stop too
            error = e
    vec = None if not topology.is_main else (
        np.zeros(d + 6) if state is None else
        np.concatenate([[1.0], state.w, [state.b, state.epoch, state.position, state.best_loss, state.best_epoch]]))
    if error is not None:
        vec[0] = -1.0
    vec = broadcast_floats(vec, d + 6, topology)
    if error is not None:
        raise error
    if vec[0] < 0:
        from linsgd.errors import ConfigError
        raise ConfigError("resume", args.resume, "a checkpoint rank 0 can resume from (see rank 0's error)")
    if topology.is_main or vec[0] == 0:
        return state
    return TrainState(w=vec[1:d + 1].astype(dtype), b=float(vec[d + 1]), epoch=int(vec[d + 2]),
                      position=int(vec[d + 3]), best_loss=float(vec[d + 4]), best_epoch=int(vec[d + 5]))
