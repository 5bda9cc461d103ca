"""Checkpoints: the full training state in one safetensors file, written atomically, checked on resume.

A checkpoint holds the parameters, the epoch and the position in that epoch's order (the order itself is
recomputed from the seed, so the position is the whole RNG state), the loss history, the resolved config,
a fingerprint of the data and the world size. Resuming from it continues the same arithmetic, so the final
model equals an uninterrupted run bit for bit (single process). The previous checkpoint stays under the
final name until the new one is complete (``storage.atomic_path``): a crash mid-write leaves it loadable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from linsgd.errors import ConfigError, StorageError
from linsgd.storage import atomic_path

FORMAT = "linsgd-checkpoint"
FORMAT_VERSION = 1
FILENAME = "checkpoint.safetensors"


@dataclass
class TrainState:
    """Where training is: parameters after ``position`` examples of epoch ``epoch`` (0-based)."""

    w: np.ndarray
    b: float
    epoch: int = 0
    position: int = 0
    step: int = 0
    history: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Identity:
    """What must not change between a checkpoint and its resume."""

    config: dict
    fingerprint: str
    world_size: int = 1

    def differences(self, other: Identity) -> list[str]:
        """Human-readable list of what differs, e.g. ``lr: 0.03 -> 0.1``; empty when compatible."""
        diffs = [f"{k}: {self.config.get(k)!r} -> {other.config.get(k)!r}"
                 for k in sorted(set(self.config) | set(other.config)) if self.config.get(k) != other.config.get(k)]
        if self.fingerprint != other.fingerprint:
            diffs.append(f"data fingerprint: {self.fingerprint} -> {other.fingerprint}")
        if self.world_size != other.world_size:
            diffs.append(f"world size: {self.world_size} -> {other.world_size}")
        return diffs


def save_checkpoint(path: str | os.PathLike, state: TrainState, identity: Identity) -> None:
    """Write ``state`` atomically; raises StorageError naming the path when it cannot."""
    from safetensors.numpy import save_file

    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
            "state": json.dumps({"b": state.b, "epoch": state.epoch, "position": state.position,
                                 "step": state.step, "history": state.history}),
            "identity": json.dumps({"config": identity.config, "fingerprint": identity.fingerprint,
                                    "world_size": identity.world_size})}
    with atomic_path(path) as tmp:
        save_file({"w": np.ascontiguousarray(state.w)}, str(tmp), metadata=meta)


def load_checkpoint(path: str | os.PathLike) -> tuple[TrainState, Identity]:
    """Read a checkpoint (never unpickles); StorageError when it is missing, foreign or corrupt."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            w = f.get_tensor("w")
    except FileNotFoundError as e:
        raise StorageError(f"{path}: no checkpoint to resume from; train without --resume first") from e
    except Exception as e:  # safetensors raises its own errors for truncated or foreign files
        raise StorageError(f"{path}: not a readable linsgd checkpoint ({e})") from e
    if meta.get("format") != FORMAT:
        raise StorageError(f"{path}: not a linsgd checkpoint (format {meta.get('format')!r})")
    if int(meta.get("format_version", "0")) > FORMAT_VERSION:
        raise StorageError(f"{path}: checkpoint format {meta['format_version']} is newer than this linsgd "
                           f"reads ({FORMAT_VERSION}); upgrade linsgd")
    s, i = json.loads(meta["state"]), json.loads(meta["identity"])
    state = TrainState(w=w, b=float(s["b"]), epoch=s["epoch"], position=s["position"], step=s["step"],
                       history=[float(v) for v in s["history"]])
    return state, Identity(i["config"], i["fingerprint"], i["world_size"])


def check_resumable(saved: Identity, current: Identity, path: str | os.PathLike) -> None:
    """Refuse to resume (ConfigError on --resume) listing every difference, when there is any."""
    diffs = saved.differences(current)
    if diffs:
        raise ConfigError("resume", str(path), "a checkpoint of the same run; it differs in: " + "; ".join(diffs))


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """A short content hash of the training arrays (shape, dtype and bytes)."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for a in (X, y):
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()
