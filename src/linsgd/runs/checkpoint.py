"""Checkpoints: the full training state in one safetensors file, written atomically, checked on resume.

A checkpoint holds the parameters, the epoch and the position in that epoch's order (the order itself is
recomputed from the seed, so the position is the whole RNG state), the step count (the schedule's t and
the averaging count), the running average of the iterates (averaged SGD), AdaGrad's per-coordinate sums of
squared gradients (``schedule="adagrad"``), the loss history, the resolved config,
a fingerprint of the data and the world size. Resuming from it continues the same arithmetic, so the final
model equals an uninterrupted run bit for bit (single process). The previous checkpoint stays under the
final name until the new one is complete (``storage.atomic_path``): a crash mid-write leaves it loadable.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linsgd import _faults
from linsgd.errors import ConfigError, StorageError, first_line
from linsgd.sgd.result import TrainState
from linsgd.storage import atomic_path

FORMAT = "linsgd-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT = "checkpoint.safetensors"  # the file name in the run folder


@dataclass(frozen=True)
class Identity:
    """What must not change between a checkpoint and its resume."""

    config: dict
    fingerprint: str
    world_size: int = 1

    def differences(self, other: Identity) -> list[str]:
        """Human-readable list of what differs, e.g. ``lr: 0.03 -> 0.1``; empty when compatible.

        >>> Identity({"lr": 0.03}, "ab12", 1).differences(Identity({"lr": 0.1}, "ab12", 2))
        ['lr: 0.03 -> 0.1', 'world size: 1 -> 2']
        """
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
            "state": json.dumps({k: getattr(state, k) for k in _SCALARS}),
            "identity": json.dumps({"config": identity.config, "fingerprint": identity.fingerprint,
                                    "world_size": identity.world_size})}
    tensors = {"w": np.ascontiguousarray(state.w)}
    if state.best_w is not None:
        tensors["best_w"] = np.ascontiguousarray(state.best_w)
    if state.wa is not None:  # the running average of the iterates (averaged SGD), float64
        tensors["wa"] = np.ascontiguousarray(state.wa)
    if state.sumsq is not None:  # AdaGrad's sums of squared gradients (coefficients, then the bias)
        tensors["sumsq"] = np.ascontiguousarray(state.sumsq)
    with atomic_path(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=meta)
        except Exception as e:  # safetensors reports OS errors (disk full, EFBIG) as its own type
            raise StorageError(f"cannot write {path}: {first_line(e)}") from e
        _faults.reached("checkpoint-written")  # test-only: a fault at a known point (tests/test_faults.py)
    _faults.reached("checkpoint-saved")


def load_checkpoint(path: str | os.PathLike) -> tuple[TrainState, Identity]:
    """Read a checkpoint (never unpickles); StorageError when it is missing, foreign or corrupt."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            w = f.get_tensor("w")
            best_w = f.get_tensor("best_w") if "best_w" in f.keys() else None
            wa = f.get_tensor("wa") if "wa" in f.keys() else None
            sumsq = f.get_tensor("sumsq") if "sumsq" in f.keys() else None
    except FileNotFoundError as e:
        raise StorageError(f"{path}: no checkpoint to resume from; train without --resume first") from e
    except Exception as e:  # safetensors raises its own errors for truncated or foreign files
        raise StorageError(f"{path}: not a readable linsgd checkpoint ({e})") from e
    if meta.get("format") != FORMAT:
        raise StorageError(f"{path}: not a linsgd checkpoint (format {meta.get('format')!r})")
    if int(meta.get("format_version", "0")) > FORMAT_VERSION:
        raise StorageError(f"{path}: checkpoint format {meta['format_version']} is newer than this linsgd "
                           f"reads ({FORMAT_VERSION}); upgrade linsgd")
    try:
        s, i = json.loads(meta["state"]), json.loads(meta["identity"])
        state = TrainState(w=w, best_w=best_w, wa=wa, sumsq=sumsq, **{k: s[k] for k in _SCALARS if k in s})
        identity = Identity(i["config"], i["fingerprint"], i["world_size"])
    except (KeyError, ValueError, TypeError) as e:
        raise StorageError(f"{path}: corrupt checkpoint (metadata: {first_line(e)}); {_FIX}") from None
    problem = _problem(state)
    if problem:
        raise StorageError(f"{path}: corrupt checkpoint ({problem}); {_FIX}")
    return state, identity


_FIX = "delete it and train again without --resume"


def _problem(state: TrainState) -> str | None:
    """What makes a loaded state unusable (a value no run writes: NaN parameters, a negative epoch), or None."""
    d = state.w.shape
    for name in ("w", "best_w", "wa"):
        a = getattr(state, name)
        if a is not None and (a.ndim != 1 or a.shape != d or a.dtype.kind != "f"):
            return f"tensor '{name}' has shape {a.shape} and dtype {a.dtype}, expected float ({d[0]},)"
        if a is not None and not np.isfinite(a).all():
            return f"tensor '{name}' holds non-finite values (nan or inf)"
    s = state.sumsq
    if s is not None and (s.shape != (d[0] + 1,) or s.dtype != np.float64 or not np.isfinite(s).all() or (s < 0).any()):
        return f"tensor 'sumsq' has shape {s.shape} and dtype {s.dtype}, expected ({d[0] + 1},) float64 >= 0"
    for name in ("b", "best_b", "ba"):
        if not _real(getattr(state, name)) or not math.isfinite(getattr(state, name)):
            return f"'{name}' is {getattr(state, name)!r}, not a finite number"
    for name in ("epoch", "position", "step", "best_epoch"):
        v = getattr(state, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            return f"'{name}' is {v!r}, not an integer >= 0"
    if not _real(state.best_loss) or math.isnan(state.best_loss):
        return f"'best_loss' is {state.best_loss!r}, not a number"
    for name in ("history", "val_history", "seconds", "objective"):
        v = getattr(state, name)
        if not isinstance(v, list) or not all(_real(x) for x in v):
            return f"'{name}' is not a list of numbers"
    return None


def _real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_SCALARS = ("b", "epoch", "position", "step", "history", "val_history", "seconds", "best_loss", "best_epoch",
            "best_b", "ba", "objective")


def check_resumable(saved: Identity, current: Identity, path: str | os.PathLike) -> None:
    """Refuse to resume (ConfigError on --resume) listing every difference, when there is any."""
    diffs = saved.differences(current)
    if diffs:
        raise ConfigError("resume", str(path), "a checkpoint of the same run; it differs in: " + "; ".join(diffs))


@dataclass(frozen=True)
class Checkpointer:
    """When and where the loop writes checkpoints: every ``every`` steps or epochs, into ``path``.

    With unit ``"steps"``: after every ``every``-th step counted from the start of each epoch (at the
    first parameter sync at or after it, in data-parallel training), and at the end of every epoch.
    With unit ``"epochs"``: at the end of every ``every``-th epoch. ``enabled`` is False on every rank
    but rank 0: only rank 0 writes.
    """

    path: Path
    identity: Identity
    every: int
    unit: str = "steps"
    enabled: bool = True

    @property
    def segment_steps(self) -> int | None:
        """Steps between the loop's stops for checkpoints within an epoch (None: epoch ends only)."""
        return self.every if self.unit == "steps" else None

    def due_within_epoch(self, last: int, now: int) -> bool:
        """Whether a checkpoint is due at epoch step ``now`` when the last stop was at step ``last``."""
        return self.unit == "steps" and now // self.every > last // self.every

    def due_at_epoch_end(self, epochs_done: int) -> bool:
        """Whether a checkpoint is due after ``epochs_done`` epochs."""
        return self.unit == "steps" or epochs_done % self.every == 0

    def save(self, state: TrainState) -> None:
        """Write ``state`` (on rank 0 only), atomically; StorageError naming the path when it cannot."""
        if self.enabled:
            save_checkpoint(self.path, state, self.identity)
