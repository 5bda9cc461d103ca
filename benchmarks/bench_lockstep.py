"""Two threads in lockstep on the wide workload: a 5-epoch ``linsgd.fit``, per epoch, against one thread.

In one process, the configurations alternating round by round (the machine is shared: the best of ``--rounds``
is the least disturbed), on ``wide`` (10⁶ × 100 float32, process batch 256, lr 0.01):

* 1 thread: each epoch's full-data loss measured by the next epoch's kernel (rows read from memory), and the same
  with each loss summed on the idle core while the next epoch trains instead (the measurement switched off);
* 2 threads, K = 1 (lockstep): each epoch's loss measured by the next epoch's kernel
  (:class:`linsgd.engines.measured.MeasuredLoss`);
* 2 threads, K = 1, each loss by a pass on both cores after its epoch instead (the measurement switched off);
* 2 threads, K = "auto" (now lockstep on this workload: ``linsgd.engines.threaded.default_sync_every``);
* 2 threads, local SGD (the threads average every K steps, the K "auto" took before it chose lockstep here;
  each loss by a pass).

Wall ms per epoch of the whole fit (its 5 epochs, the last one's loss pass included), the process's CPU ms per
epoch, the final loss, and each 2-thread configuration's speed-up over 1 thread (target: lockstep ≥ 1.4×).

    python benchmarks/bench_lockstep.py [--rounds 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import machine  # noqa: E402
from workloads import WORKLOADS, make_data  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("linsgd") is None:  # a checkout, not installed
    sys.path.insert(0, str(REPO / "src"))

EPOCHS = 5
CONFIGS = {  # name: (fit arguments, the loss measured in the kernel where it can)
    "1 thread": ({"batch_size": 256, "threads": 1}, True),
    "1 thread, loss by a pass on the idle core": ({"batch_size": 256, "threads": 1}, False),
    "2 threads, K = 1, loss measured": ({"batch_size": 128, "threads": 2, "sync_every": 1}, True),
    "2 threads, K = 1, loss by a pass": ({"batch_size": 128, "threads": 2, "sync_every": 1}, False),
    "2 threads, K = auto": ({"batch_size": 128, "threads": 2}, True),
    "2 threads, local SGD": ({"batch_size": 128, "threads": 2, "sync_every": "local"}, True),
}


def _fit(X, y, config: dict, measured: bool):
    import linsgd
    from linsgd.engines.fused import FusedEngine
    from linsgd.engines.threaded import ThreadedEngine, default_sync_every

    if config.get("sync_every") == "local":  # the K of averaging threads on these rows
        config = {**config, "sync_every": default_sync_every(WORKLOADS["wide"].d, config["batch_size"])}
    real = ThreadedEngine.measures_loss, FusedEngine.measures_loss
    if not measured:
        ThreadedEngine.measures_loss = FusedEngine.measures_loss = lambda self, schedule: False
    try:
        wl = WORKLOADS["wide"]
        return linsgd.fit(X, y, lr=wl.lr, epochs=EPOCHS, seed=0, dtype="float32", **config)
    finally:
        ThreadedEngine.measures_loss, FusedEngine.measures_loss = real


def measure(rounds: int) -> dict:
    """Best wall and CPU seconds of each configuration's fit, alternated round by round, and the loads seen."""
    warnings.simplefilter("ignore")
    X, y = make_data(WORKLOADS["wide"])
    best = {name: {"wall": float("inf"), "cpu": float("inf")} for name in CONFIGS}
    for config, measured in CONFIGS.values():  # compiled and warm off the clock
        _fit(X, y, config, measured)
    loads = []
    for _ in range(rounds):
        for name, (config, measured) in CONFIGS.items():
            wall, cpu = time.perf_counter(), time.process_time()
            result = _fit(X, y, config, measured)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if wall < best[name]["wall"]:
                best[name].update(wall=wall, loss=result.history[-1], k=result.config.sync_every)
            best[name]["cpu"] = min(best[name]["cpu"], cpu)
        loads.append(os.getloadavg()[0])
    return {"best": best, "loads": loads}


def report(res: dict, rounds: int) -> str:
    one = res["best"]["1 thread"]["wall"]
    lines = ["# Two threads in lockstep on the wide workload", "", *machine.describe(REPO), "",
             f"5-epoch `linsgd.fit` of wide (10⁶ × 100 float32, process batch 256), configurations alternating, best "
             f"of {rounds} rounds; load average (1 min) after each round: "
             f"{', '.join(f'{x:.2f}' for x in res['loads'])} on {os.cpu_count()} logical CPUs.", "",
             "| configuration | K | ms per epoch (wall) | CPU ms per epoch | final loss | speed-up over 1 thread |",
             "|---|---|---|---|---|---|"]
    for name, r in res["best"].items():
        lines.append(f"| {name} | {r['k']} | {1e3 * r['wall'] / EPOCHS:.1f} | {1e3 * r['cpu'] / EPOCHS:.1f} | "
                     f"{r['loss']:.7g} | {one / r['wall']:.2f}× |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    text = report(measure(args.rounds), args.rounds)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
