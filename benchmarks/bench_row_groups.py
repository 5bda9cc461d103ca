"""The wide epoch kernel of this checkout against a baseline's, in ONE process, interleaved, in CPU time.

On a shared machine wall times of separate processes mostly measure the neighbours; this compares the two
kernels (of ``engines/_fused_kernels.py``: the baseline's file and its ``_row_groups.py`` are loaded beside
this checkout's under other names) on the same arrays, one call after the other, in the calling thread's CPU
time (time descheduled left out; a neighbour's memory traffic still slows both).
Three orders of the 10⁶ × 100 float32 rows, batch 256: shuffled (the epoch's order), storage order, and
1,024 rows again and again (in cache: the arithmetic alone). The first two run in the kernel the fused engine
runs for these 400 MB (``sgd_epoch_far`` where the version has it), the last in ``sgd_epoch`` (the kernel of
data that stays in the cache). The streaming read bound of one core is measured before and after.

    python benchmarks/bench_row_groups.py [--baseline main] [--rounds 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
ROW_BYTES = 404


def _show(ref: str, path: str) -> str | None:
    """The text of ``path`` at ``ref`` (None: not there)."""
    found = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:{path}"], capture_output=True, text=True)
    return found.stdout if found.returncode == 0 else None


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _baseline_kernels(ref: str, into: Path):
    """The baseline's _fused_kernels module, loaded from ``git show`` under the name ``baseline_kernels``, with
    the baseline's own row groups (``baseline_row_groups``) where it has them: both files are the kernel."""
    text = _show(ref, "src/linsgd/engines/_fused_kernels.py")
    groups = _show(ref, "src/linsgd/engines/_row_groups.py")
    if groups is not None:
        (into / "baseline_row_groups.py").write_text(groups)
        _load("baseline_row_groups", into / "baseline_row_groups.py")
        text = text.replace("from linsgd.engines._row_groups import", "from baseline_row_groups import")
    (into / "baseline_kernels.py").write_text(text)
    return _load("baseline_kernels", into / "baseline_kernels.py")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="main")
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args()
    import machine
    from workloads import WORKLOADS, make_data

    from linsgd.data.batching import epoch_order
    from linsgd.engines import _fused_kernels as this
    from linsgd.engines.fused import kernel_args
    from linsgd.engines.rule import StepRule

    bound = [machine.one_core(machine.bandwidth(1.0))]
    wide = WORKLOADS["wide"]
    X, y = make_data(wide)
    orders = {"shuffled": epoch_order(0, 0, wide.n), "storage order": np.arange(wide.n, dtype=np.int32),
              "in cache (1,024 rows)": np.arange(wide.n, dtype=np.int32) % 1024}
    rule, w0 = StepRule(wide.lr, total_steps=-(-wide.n // wide.batch)), np.zeros(wide.d, dtype=np.float32)

    def run(kernels, order):
        w, _, o, rest = kernel_args(X, w0, 0.0, order, rule, wide.batch, len(order), 0, None, None)
        far = order is not orders["in cache (1,024 rows)"]
        epoch = getattr(kernels, "sgd_epoch_far", kernels.sgd_epoch) if far else kernels.sgd_epoch
        epoch(X, y, w, np.float32(0.0), o, wide.batch, *rest)

    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="linsgd-baseline-") as tmp:
        versions = {"baseline": _baseline_kernels(args.baseline, Path(tmp)), "this": this}
        cpu = {(v, o): [] for v in versions for o in orders}
        for kernels in versions.values():  # compile and warm off the clock
            for order in orders.values():
                run(kernels, order)
        for _ in range(args.rounds):
            for v, kernels in versions.items():
                for o, order in orders.items():
                    c = time.thread_time()
                    run(kernels, order)
                    cpu[(v, o)].append(time.thread_time() - c)
    load.append(os.getloadavg()[0])
    bound.append(machine.one_core(machine.bandwidth(1.0)))
    gbs = max(bound)
    print(f"`python benchmarks/bench_row_groups.py --baseline {args.baseline} --rounds {args.rounds}`: "
          f"load (1 min) {load[0]:.2f} → {load[1]:.2f} on {os.cpu_count()} CPUs; read bound of one core "
          f"{bound[0]:.1f}, {bound[1]:.1f} GB/s (best {gbs:.1f} = {gbs * 1e9 / ROW_BYTES * 1e-6:.1f} M rows/s)\n")
    print("| order | baseline CPU ms (best / median) | this CPU ms (best / median) | speed-up (best) | "
          "share of the bound (this, best) |\n|---|---|---|---|---|")
    for o in orders:
        b, t = sorted(cpu[("baseline", o)]), sorted(cpu[("this", o)])
        share = wide.n * ROW_BYTES / t[0] / 1e9 / gbs
        print(f"| {o} | {1e3 * b[0]:.1f} / {1e3 * b[len(b) // 2]:.1f} | {1e3 * t[0]:.1f} / {1e3 * t[len(t) // 2]:.1f}"
              f" | {b[0] / t[0]:.2f}× | {100 * share:.0f} % |")


if __name__ == "__main__":
    main()
