"""Where a fused ``linsgd.fit`` spends its time on the benchmark workloads: a timeline and the floors.

Usage: ``python benchmarks/profile_fit.py [--workloads large,wide] [--runs 3] [--out benchmarks/PROFILE.md]``

Part 1 times every phase of whole ``fit`` calls (the engine's methods are wrapped with a clock; what is
left between them is the first epoch order, the loop's bookkeeping and waiting for the background
shuffle) and prints the fastest run. Part 2 times the pieces alone on the same data: one epoch over the
shuffled order and over rows in storage order (what random access costs), the full-data loss and one
epoch order on one thread (the background shuffle that must fit under an epoch).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from workloads import WORKLOADS, make_data


def timeline(X, y, wl, runs: int) -> tuple[float, list[tuple[str, float, float]]]:
    """The fastest of ``runs`` fits: (total seconds, [(phase, start, seconds)])."""
    import linsgd
    from linsgd.engines.fused import FusedEngine

    log: list[tuple[str, float, float]] = []
    originals = {name: getattr(FusedEngine, name) for name in ("prepare", "run_epoch", "loss")}

    def clocked(name):
        def method(self, *args, **kwargs):
            t0 = time.perf_counter()
            out = originals[name](self, *args, **kwargs)
            log.append((name, t0, time.perf_counter() - t0))
            return out
        return method

    for name in originals:
        setattr(FusedEngine, name, clocked(name))
    try:
        linsgd.fit(X[:8192], y[:8192], lr=wl.lr, batch_size=wl.batch, seed=0, epochs=1)  # load the kernels
        best = (float("inf"), [])
        for _ in range(runs):
            log.clear()
            t0 = time.perf_counter()
            linsgd.fit(X, y, lr=wl.lr, batch_size=wl.batch, seed=0, epochs=wl.epochs)
            total = time.perf_counter() - t0
            if total < best[0]:
                best = (total, [(name, start - t0, sec) for name, start, sec in log])
        return best
    finally:
        for name, method in originals.items():
            setattr(FusedEngine, name, method)


def pieces(X, y, wl) -> list[tuple[str, float]]:
    """Seconds of each piece alone (best of 3)."""
    from linsgd.data.batching import epoch_order
    from linsgd.engines import get_engine

    engine = get_engine("fused")
    engine.prepare(X, y)
    n = len(y)
    w = np.zeros(X.shape[1], dtype=X.dtype)
    shuffled, stored = epoch_order(0, 0, n), np.arange(n, dtype=np.int32)
    out = np.empty_like(shuffled)

    def best(fn) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    return [
        ("one epoch, shuffled order", best(lambda: engine.run_epoch(X, y, w, 0.0, shuffled, wl.lr, wl.batch))),
        ("one epoch, rows in storage order", best(lambda: engine.run_epoch(X, y, w, 0.0, stored, wl.lr, wl.batch))),
        ("full-data loss (two cores)", best(lambda: engine.loss(X, y, w, 0.0))),
        ("one epoch order, one thread", best(lambda: epoch_order(0, 1, n, out=out))),
    ]


def report(name: str, wl, total: float, log, alone) -> list[str]:
    """Markdown: the fit's timeline, then the pieces alone."""
    n_ex = wl.n * wl.epochs
    lines = [f"## {name}: n = {wl.n:,}, d = {wl.d}, batch {wl.batch}, {wl.epochs} epochs", "",
             f"Fastest fit: {total * 1e3:.1f} ms = {n_ex / total / 1e6:.1f} M examples/s.", "",
             "| phase | starts at (ms) | takes (ms) |", "|---|---|---|"]
    accounted = 0.0
    for phase, start, sec in log:
        lines.append(f"| {phase} | {start * 1e3:.1f} | {sec * 1e3:.1f} |")
        accounted += sec
    lines.append(f"| everything else (first order, waits, loop) | | {(total - accounted) * 1e3:.1f} |")
    lines += ["", "| piece alone | ms |", "|---|---|"]
    lines += [f"| {piece} | {sec * 1e3:.1f} |" for piece, sec in alone]
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="large,wide")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    lines = ["# Where a fused fit spends its time", "",
             f"Command: `python {' '.join(sys.argv)}`; {time.strftime('%Y-%m-%d %H:%M %Z')}.", ""]
    for name in args.workloads.split(","):
        wl = WORKLOADS[name]
        X, y = make_data(wl)
        total, log = timeline(X, y, wl, args.runs)
        lines += report(name, wl, total, log, pieces(X, y, wl))
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
