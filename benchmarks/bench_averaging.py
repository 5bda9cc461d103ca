"""Averaged SGD's cost in the fused kernels: epoch time with averaging against without, on the benchmark
workloads ``large`` (10⁷ × 2, batch 10) and ``wide`` (10⁶ × 100, batch 256).

Measured as a ratio in one process, plain and averaged epochs alternating, best of ``--repeat`` each (the
machine may be shared: absolute times are noisy, the ratio much less). Writes
``benchmarks/AVERAGING_RESULTS.md``.

    PYTHONPATH=src python benchmarks/bench_averaging.py [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from workloads import WORKLOADS, initial_w, make_data, quick

from linsgd.data.batching import epoch_order
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule


def measure(name: str, repeat: int, small: bool) -> tuple[str, float, float]:
    wl = quick(WORKLOADS[name]) if small else WORKLOADS[name]
    X, y = make_data(wl)
    engine = get_engine("fused")
    engine.prepare(X, y)
    order = epoch_order(0, 0, wl.n)
    steps = -(-wl.n // wl.batch)
    rules = {"plain": StepRule(wl.lr, total_steps=steps), "averaged": StepRule(wl.lr, total_steps=steps,
                                                                                average_from=1)}
    best = {k: float("inf") for k in rules}
    w0 = initial_w(wl.d, 0)
    for rule in rules.values():  # compile and warm the caches
        engine.run_epoch(X, y, w0, 0.0, order, rule, wl.batch)
    for _ in range(repeat):
        for k, rule in rules.items():
            t = time.perf_counter()
            engine.run_epoch(X, y, w0, 0.0, order, rule, wl.batch)
            best[k] = min(best[k], time.perf_counter() - t)
    return wl.title(), best["plain"], best["averaged"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    rows = [measure(name, args.repeat, args.quick) for name in ("large", "wide")]
    lines = ["# Averaged SGD: epoch time against plain SGD (fused engine)", "",
             f"Best of {args.repeat} alternating epochs per variant, one process, on a shared 2-core virtual "
             f"machine (load average {os.getloadavg()[0]:.2f} when it finished): absolute times vary with the "
             "neighbours, the ratio is what counts.", "",
             "| workload | plain (s/epoch) | averaged (s/epoch) | throughput averaged / plain |",
             "|---|---|---|---|"]
    for title, plain, avg in rows:
        lines.append(f"| {title} | {plain:.4f} | {avg:.4f} | {plain / avg:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        (Path(__file__).parent / "AVERAGING_RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
