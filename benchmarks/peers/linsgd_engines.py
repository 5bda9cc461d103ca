"""Peers "linsgd-reference" and "linsgd-fused": ``linsgd.fit`` with each engine, as a user calls it.

The clock is the wall time of the whole ``fit`` call, so it includes linsgd's input checks and its
per-epoch full-data loss (``.history``), work the other peers do not do: a conservative number.
The fused engine is warmed up once on small data first so a first-run JIT compile is not timed.
"""

from __future__ import annotations

import time

import numpy as np

from peers import PeerRun

# Above linsgd's SMALL_ROWS (4,096), so that the warm-up runs (and loads) the numba kernels: smaller data
# trains in NumPy without them.
WARMUP_ROWS = 8_192


def run(X, y, wl, rows: int, w0: np.ndarray, seed: int, engine: str) -> PeerRun:
    """``linsgd.fit(X[:rows], y[:rows], ..., engine=engine, seed=seed)``; raises if it is unavailable.

    ``w0`` is unused: linsgd draws its own initial w from ``seed`` (the chapter's N(0, 0.01²)).
    """
    import linsgd

    kwargs = dict(lr=wl.lr, batch_size=wl.batch, engine=engine, seed=seed)
    compile_seconds = None
    if engine == "fused":
        t0 = time.perf_counter()
        linsgd.fit(X[:WARMUP_ROWS], y[:WARMUP_ROWS], epochs=1, **kwargs)
        compile_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = linsgd.fit(X[:rows], y[:rows], epochs=wl.epochs, **kwargs)
    wall = time.perf_counter() - t0
    per_epoch = list(getattr(result, "epoch_seconds", None) or [wall / wl.epochs] * wl.epochs)
    cumulative = list(np.cumsum(per_epoch))
    notes = ["wall of fit() incl. input checks + per-epoch loss"]
    if cumulative[-1] > 0:
        notes.append(f"epochs alone {rows * wl.epochs / cumulative[-1] / 1e6:.3g} M/s")
    if compile_seconds is not None:
        notes.append(f"warm-up fit {compile_seconds:.2f} s (excluded)")
    return PeerRun(rows, wl.epochs, cumulative, np.asarray(result.w, dtype=np.float64), float(result.b),
                   epoch_losses=[float(v) for v in result.history], compile_seconds=compile_seconds,
                   total_seconds=wall, notes=notes)
