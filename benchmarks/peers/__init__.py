"""The peers: minibatch-SGD linear regression implementations timed side by side on the same data.

Every peer module has ``run(X, y, wl, rows, w0, seed) -> PeerRun`` that trains on ``X[:rows]``,
``y[:rows]`` for ``wl.epochs`` epochs and times only the training: data generation, conversions into the
peer's own containers and JIT compilation are outside the clock (compile time is reported in the notes).
Each module imports its library inside ``run``, so a missing library disables only that peer.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PeerRun:
    """What one peer did, for the scorer.

    Attributes:
        rows, epochs: the data actually trained on (a prefix when rows < n).
        epoch_seconds: cumulative training seconds at the end of each epoch (evaluation excluded).
        w, b: final parameters. epoch_params: (w, b) after each epoch, when the peer exposes them.
        epoch_losses: the peer's own per-epoch loss on the rows it trained on (linsgd's history), used
            for time-to-5 % when epoch_params is None.
        compile_seconds: JIT compile / warm-up time, excluded from epoch_seconds.
        total_seconds: the timed call as a whole, when it is more than the epochs (linsgd.fit).
        notes: short remarks for the table's notes column.
    """

    rows: int
    epochs: int
    epoch_seconds: list[float]
    w: np.ndarray
    b: float
    epoch_params: list[tuple[np.ndarray, float]] | None = None
    epoch_losses: list[float] | None = None
    compile_seconds: float | None = None
    total_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Total training seconds: ``total_seconds`` when the peer measured it whole, else the epochs'."""
        return self.total_seconds if self.total_seconds is not None else self.epoch_seconds[-1]


@dataclass(frozen=True)
class Peer:
    """A peer's table name, its module under ``peers`` and any extra argument of its ``run``.

    ``cap``: the most rows a slow peer is timed on (its throughput does not depend on n); None: all.
    """

    name: str
    module: str
    cap: int | None
    kwargs: tuple[tuple[str, str], ...] = ()

    def run(self, X, y, wl, rows: int, w0: np.ndarray, seed: int) -> PeerRun:
        """Import the peer's module and run it (ImportError here means the peer is unavailable)."""
        mod = importlib.import_module(f"peers.{self.module}")
        return mod.run(X, y, wl, rows, w0, seed, **dict(self.kwargs))


PREFIX_ROWS = 200_000  # about 3 s per epoch for the chapter's loop at batch 10
PEERS = [
    Peer("chapter", "chapter", cap=PREFIX_ROWS),
    Peer("torch-idiomatic", "torch_idiomatic", cap=PREFIX_ROWS),
    Peer("sklearn", "sklearn_sgd", cap=None),
    Peer("jax", "jax_scan", cap=2_000_000),
    Peer("linsgd-reference", "linsgd_engines", cap=PREFIX_ROWS, kwargs=(("engine", "reference"),)),
    Peer("linsgd-fused", "linsgd_engines", cap=None, kwargs=(("engine", "fused"),)),
]
FUSED = "linsgd-fused"
REFERENCE = "linsgd-reference"


def timed_epochs(epochs: int, train_epoch, snapshot) -> tuple[list[float], list]:
    """Run ``train_epoch(e)`` for each epoch, timing only it; ``snapshot()`` is called off the clock.

    Returns:
        cumulative seconds after each epoch, and the snapshots (usually (w, b)) after each epoch.
    """
    elapsed, cumulative, snaps = 0.0, [], []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        train_epoch(epoch)
        elapsed += time.perf_counter() - t0
        cumulative.append(elapsed)
        snaps.append(snapshot())
    return cumulative, snaps
