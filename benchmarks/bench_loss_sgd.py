"""SGD throughput of the huber, epsilon-insensitive and quantile losses against the squared loss.

Usage: python benchmarks/bench_loss_sgd.py [ROWS] [D] [REPEATS]. One epoch of the fused engine (batch 10, a
shuffled order, float32, in memory) over ROWS x D rows (default 1,000,000 x 20; also at D = 2, the narrow
kernel's case), REPEATS times (default 3) each, the losses interleaved (one epoch of each in turn), after one
warm-up epoch each (numba's compilation). Prints the median epoch time of each loss, its ratio to the squared
loss's measured in the same run, and the load average (the machine is shared: compare the ratios).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linsgd.engines import get_engine  # noqa: E402
from linsgd.engines.rule import StepRule  # noqa: E402

LOSSES = (("squared", 0.1, 0.5), ("huber", 1.0, 0.5), ("epsilon_insensitive", 0.1, 0.5), ("quantile", 0.1, 0.9))


def run(rows: int, d: int, repeats: int) -> str:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, d)).astype(np.float32)
    y = (X @ rng.standard_normal(d) + rng.standard_t(2, rows)).astype(np.float32)
    order = rng.permutation(rows)
    runs = {loss: [] for loss, _, _ in LOSSES}
    engines = {}
    for loss, eps, q in LOSSES:
        engine = get_engine("fused", loss=(loss, eps, q))
        engine.prepare(X, y)
        rule = StepRule(0.01, total_steps=10**9, loss=loss, epsilon=eps, quantile=q)
        engine.run_epoch(X, y, np.zeros(d, np.float32), 0.0, order, rule, 10)  # compile, pack rows
        engines[loss] = engine, rule
    for _ in range(repeats):  # interleaved: a burst of load from other processes hits every loss alike
        for loss, (engine, rule) in engines.items():
            start = time.perf_counter()
            engine.run_epoch(X, y, np.zeros(d, np.float32), 0.0, order, rule, 10)
            runs[loss].append(time.perf_counter() - start)
    times = {loss: statistics.median(r) for loss, r in runs.items()}
    base = times["squared"]
    parts = [f"{k} {v:.3f} s ({v / base:.2f}x)" for k, v in times.items()]
    return (f"{rows} x {d}, one epoch, batch 10, float32 (medians of {repeats}): " + ", ".join(parts)
            + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    for d in ([int(sys.argv[2])] if len(sys.argv) > 2 else [20, 2]):
        print(run(rows, d, repeats))
