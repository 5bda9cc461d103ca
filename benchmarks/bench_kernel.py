"""The dense kernel against the memory bound, this checkout against a baseline commit, in one run.

Measures, in worker processes that alternate between this checkout's ``src/`` and the baseline's (``git
archive <ref> src`` into a temporary folder, compiled once per run), best of ``--rounds`` rounds, each
worker best of ``--repeat`` inside:

* the streaming read bound of one core (``machine.bandwidth``), measured at the start and the end;
* ``wide`` (10⁶ × 100 float32, batch 256, shuffled): one epoch of the fused engine on one thread, its
  rows × 404 bytes per second as a share of the read bound (target ≥ 50 %), plain and averaged
  (target: averaged ≤ 1.1× plain);
* a 5-epoch wide ``linsgd.fit`` per epoch: one thread (target ≥ 50 % of the bound; this checkout also with
  each epoch's loss summed before the next epoch instead of beside it, on the idle core, and — where the
  costs around the kernel go — without the loss pass, without drawing the orders, and without both) and two
  threads with the same process batch of 256, K = 1 (lockstep) and K = "auto" (target: ≥ 1.4× one thread);
* ``large`` (10⁷ × 2, batch 10): a 1-epoch ``linsgd.fit`` on two threads against scikit-learn's
  SGDRegressor (one epoch over the same 10⁷ rows, given as float64 — its dtype — before the clock; its best
  over all workers, the peer's code being the same in both) (target ≥ 20×) and one
  thread (target: 2 threads ≥ 1.7×), each fit's epoch alone too, and the
  fused epoch plain and averaged;
* the chapter's 1,000-row path: ``linsgd.fit`` of the chapter's problem, 3 epochs (target: no slower).

The machine is shared: the load average is recorded with each worker; the best of the rounds is the
least disturbed. Writes the markdown report to stdout (and ``--out``).

    python benchmarks/bench_kernel.py [--baseline main] [--rounds 3] [--repeat 2] [--out FILE]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from against import alternate, options, sklearn_epoch  # noqa: E402

ROW_BYTES = 404  # a wide row: 100 float32 features and the target


def worker(repeat: int) -> dict:
    """Every measurement of one code version (the linsgd on sys.path); seconds, best of ``repeat``."""
    import warnings

    import numpy as np
    from workloads import WORKLOADS, make_data

    import linsgd
    from linsgd.data.batching import epoch_order
    from linsgd.engines import get_engine
    from linsgd.engines.rule import StepRule

    warnings.simplefilter("ignore")
    out: dict = {"load": [os.getloadavg()[0]]}

    def best(key, fn):
        fn()  # compile and warm the caches off the clock
        times, cpu, epochs = [], [], []
        for _ in range(repeat):
            t, c = time.perf_counter(), time.thread_time()
            result = fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            if hasattr(result, "epoch_seconds"):  # a fit: its first epoch alone (the order drawn, the loss)
                epochs.append(result.epoch_seconds[0])
        out[key], out[key + " cpu"] = min(times), min(cpu)
        if epochs:
            out[key + " epoch"] = min(epochs)

    wide = WORKLOADS["wide"]
    X, y = make_data(wide)
    order = epoch_order(0, 0, wide.n)
    w0 = np.zeros(wide.d, dtype=np.float32)
    engine = get_engine("fused")
    steps = -(-wide.n // wide.batch)
    plain, averaged = StepRule(wide.lr, total_steps=steps), StepRule(wide.lr, total_steps=steps, average_from=1)
    best("wide epoch", lambda: engine.run_epoch(X, y, w0, 0.0, order, plain, wide.batch))
    best("wide epoch averaged", lambda: engine.run_epoch(X, y, w0, 0.0, order, averaged, wide.batch))
    fit = {"lr": wide.lr, "epochs": 5, "seed": 0, "dtype": "float32"}
    best("wide fit 1 thread", lambda: linsgd.fit(X, y, batch_size=256, threads=1, **fit))
    from linsgd.engines.fused import FusedEngine

    if hasattr(FusedEngine, "measures_loss"):  # the same fit with each loss summed on the idle core, not measured
        real, FusedEngine.measures_loss = FusedEngine.measures_loss, lambda self, schedule: False
        best("wide fit 1 thread loss beside", lambda: linsgd.fit(X, y, batch_size=256, threads=1, **fit))
        FusedEngine.measures_loss = real
    _fit_without(best, X, y, fit)
    best("wide fit 2 threads K=1", lambda: linsgd.fit(X, y, batch_size=128, threads=2, sync_every=1, **fit))
    best("wide fit 2 threads K=auto", lambda: linsgd.fit(X, y, batch_size=128, threads=2, **fit))

    large = WORKLOADS["large"]
    X, y = make_data(large)
    order = epoch_order(0, 0, large.n)
    w0 = np.zeros(large.d, dtype=np.float32)
    steps = -(-large.n // large.batch)
    plain, averaged = StepRule(large.lr, total_steps=steps), StepRule(large.lr, total_steps=steps, average_from=1)
    engine.prepare(X, y)
    best("large epoch", lambda: engine.run_epoch(X, y, w0, 0.0, order, plain, large.batch))
    best("large epoch averaged", lambda: engine.run_epoch(X, y, w0, 0.0, order, averaged, large.batch))
    best("large fit 2 threads", lambda: linsgd.fit(X, y, lr=large.lr, batch_size=large.batch // 2, epochs=1,
                                                   threads=2, seed=0, dtype="float32"))
    best("large fit 1 thread", lambda: linsgd.fit(X, y, lr=large.lr, batch_size=large.batch, epochs=1,
                                                  threads=1, seed=0, dtype="float32"))
    # the same rows as linsgd's fit: a prefix that fits in the last-level cache (10⁶ rows: 16 MB of float64)
    # would be read far faster than 10⁷ rows from memory, so its rate does depend on n
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    out["sklearn rows"] = large.n
    best("sklearn epoch", lambda: sklearn_epoch(X64, y64, large.lr))

    seed = WORKLOADS["seed"]
    X, y = make_data(seed)
    best("chapter 1000 rows", lambda: linsgd.fit(X, y, lr=seed.lr, batch_size=seed.batch, epochs=seed.epochs,
                                                 seed=0))
    out["load"].append(os.getloadavg()[0])
    return out


def _fit_without(best, X, y, fit: dict) -> None:
    """The 1-thread wide fit without each cost around the kernel, one at a time and both (where this version
    has the hooks): the loss pass (statistics of [X y] gathered before the clock starts: each epoch's loss
    from them, O(d²)) and the orders (every epoch's order drawn before the clock starts)."""
    import linsgd
    from linsgd.data.views import InMemory
    from linsgd.sgd import loop

    if not hasattr(loop, "loss_statistics"):
        return
    stats = loop.loss_statistics(X, y)
    orders = list(InMemory(X, y).epoch_orders(fit["seed"], fit["epochs"]))
    real = loop.loss_statistics, loop.pays_off, InMemory.epoch_orders

    def no_loss_pass():
        loop.loss_statistics, loop.pays_off = (lambda *a, **k: stats), (lambda *a: True)

    def no_order():
        InMemory.epoch_orders = lambda self, seed, epochs, start=0: iter(orders[start:epochs])

    for key, patches in (("no loss pass", [no_loss_pass]), ("no order", [no_order]),
                         ("kernel only", [no_loss_pass, no_order])):
        for patch in patches:
            patch()
        try:
            best(f"wide fit 1 thread {key}", lambda: linsgd.fit(X, y, batch_size=256, threads=1, **fit))
        finally:
            loop.loss_statistics, loop.pays_off, InMemory.epoch_orders = real


def _merge(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if k not in ("load", "sklearn rows")]
    merged = {k: min(r[k] for r in runs) for k in keys}
    merged["load"] = [x for r in runs for x in r["load"]]
    merged["sklearn rows"] = runs[0]["sklearn rows"]
    return merged


def _breakdown(new: dict, share) -> list[str]:
    """Rows of the 1-thread 5-epoch fit without the loss pass, the orders, or both (this checkout only)."""
    rows = []
    for key, what in (("no loss pass", "each epoch's loss from statistics gathered before the clock (no pass)"),
                      ("no order", "every epoch's order drawn before the clock"),
                      ("kernel only", "both: the kernel and the loop alone")):
        if f"wide fit 1 thread {key}" in new:
            t = new[f"wide fit 1 thread {key}"] / 5
            rows.append(f"| (this only) wide fit, 5 epochs, 1 thread, {what}, per epoch | — | {1e3 * t:.1f} | — | "
                        f"{100 * share(t):.0f} % |")
    return rows


def report(base: dict, new: dict, bound: list[float], ref: str, commit: str, rounds: int, repeat: int) -> str:
    import machine

    gbs = max(bound)
    share = lambda s, n=1_000_000: n * ROW_BYTES / s / 1e9 / gbs  # noqa: E731
    # the peer's rate: its best epoch over all workers (its code is the same in both; the conservative ratio)
    sk = new["sklearn rows"] / min(new["sklearn epoch"], base["sklearn epoch"])
    rows = [("wide epoch, 1 thread (fused engine)", "wide epoch", 1),
            ("wide epoch, averaged", "wide epoch averaged", 1),
            ("wide fit, 5 epochs, 1 thread, per epoch", "wide fit 1 thread", 5),
            ("wide fit, 5 epochs, 2 threads K = 1 (lockstep), per epoch", "wide fit 2 threads K=1", 5),
            ("wide fit, 5 epochs, 2 threads K = auto, per epoch", "wide fit 2 threads K=auto", 5)]
    lines = ["# The dense kernel at the memory bound", "", *machine.describe(REPO), "",
             f"Baseline: `{ref}` ({commit}) against this checkout; workers alternate, {rounds} rounds, each "
             f"best of {repeat} (seconds: the best over all). Load average (1 min) seen by the workers: "
             f"{min(base['load'] + new['load']):.2f} to {max(base['load'] + new['load']):.2f} on "
             f"{os.cpu_count()} logical CPUs — the machine was shared; best-of is the least disturbed.", "",
             f"Streaming read bound, one core: {', '.join(f'{b:.1f}' for b in bound)} GB/s (start, end; "
             f"the best, {gbs:.1f} GB/s = {gbs * 1e9 / ROW_BYTES / 1e6:.1f} M wide rows/s, is the bound).", "",
             "| wide, 10⁶ × 100 float32, batch 256 | baseline ms | this ms | speed-up | share of the bound (this) |",
             "|---|---|---|---|---|"]
    for title, key, epochs in rows:
        b, t = base[key] / epochs, new[key] / epochs
        lines.append(f"| {title} | {1e3 * b:.1f} | {1e3 * t:.1f} | {b / t:.2f}× | {100 * share(t):.0f} % |")
    if "wide fit 1 thread loss beside" in new:
        beside = new["wide fit 1 thread loss beside"] / 5
        lines.append(f"| (this only) wide fit, 5 epochs, 1 thread, each loss summed on the idle core instead of "
                     f"measured in the next epoch's kernel, per epoch | — | {1e3 * beside:.1f} | — | "
                     f"{100 * share(beside):.0f} % |")
    lines += _breakdown(new, share)
    bc, nc = base["wide epoch cpu"], new["wide epoch cpu"]
    lines += ["", f"CPU time of the calling thread for the one-thread wide epoch (descheduled time left out; still "
              f"slowed by neighbours sharing memory bandwidth): baseline {1e3 * bc:.1f} ms, this {1e3 * nc:.1f} ms "
              f"({bc / nc:.2f}×, {100 * share(nc):.0f} % of the bound)."]
    lines += ["", "| large, 10⁷ × 2 float32, batch 10 | baseline s | this s | speed-up |", "|---|---|---|---|"]
    for title, key in (("fused epoch, plain", "large epoch"), ("fused epoch, averaged", "large epoch averaged"),
                       ("fit, 1 epoch, 1 thread", "large fit 1 thread"),
                       ("fit, 1 epoch, 2 threads (K = auto)", "large fit 2 threads"),
                       ("the same fit's epoch alone, 1 thread", "large fit 1 thread epoch"),
                       ("the same fit's epoch alone, 2 threads", "large fit 2 threads epoch")):
        if key in base:  # (a baseline may not report a fit's epoch alone)
            lines.append(f"| {title} | {base[key]:.3f} | {new[key]:.3f} | {base[key] / new[key]:.2f}× |")
    lines.append(f"| scikit-learn SGDRegressor, one epoch of the same {new['sklearn rows']:,} rows (float64) | "
                 f"{base['sklearn epoch']:.3f} | {new['sklearn epoch']:.3f} | — |")
    lines += ["", "| chapter, 1,000 × 2, 3 epochs, `linsgd.fit` | baseline ms | this ms | ratio |", "|---|---|---|---|",
              f"| whole fit | {1e3 * base['chapter 1000 rows']:.1f} | {1e3 * new['chapter 1000 rows']:.1f} | "
              f"{base['chapter 1000 rows'] / new['chapter 1000 rows']:.2f}× |"]
    one, two = new["wide fit 1 thread"] / 5, min(new["wide fit 2 threads K=1"], new["wide fit 2 threads K=auto"]) / 5
    large_rate = 1e7 / new["large fit 2 threads"]
    large_two = new["large fit 1 thread"] / new["large fit 2 threads"]
    targets = [
        ("wide epoch kernel, 1 thread, ≥ 50 % of the read bound", share(new["wide epoch"]) >= 0.5,
         f"{100 * share(new['wide epoch']):.0f} %"),
        ("5-epoch wide fit per epoch, 1 thread, ≥ 50 % of the bound", share(one) >= 0.5, f"{100 * share(one):.0f} %"),
        ("5-epoch wide fit per epoch, 2 threads ≥ 1.4× 1 thread", one / two >= 1.4, f"{one / two:.2f}×"),
        ("large, 2 threads ≥ 20× scikit-learn's SGDRegressor (its best epoch over all workers)", large_rate / sk >= 20,
         f"{large_rate / sk:.1f}×"),
        ("large fit, 2 threads ≥ 1.7× 1 thread", large_two >= 1.7, f"{large_two:.2f}×"),
        ("averaging ≤ 1.1× plain (wide epoch)", new["wide epoch averaged"] <= 1.1 * new["wide epoch"],
         f"{new['wide epoch averaged'] / new['wide epoch']:.2f}×"),
        ("averaging ≤ 1.1× plain (large epoch)", new["large epoch averaged"] <= 1.1 * new["large epoch"],
         f"{new['large epoch averaged'] / new['large epoch']:.2f}×"),
        ("chapter's 1,000-row path no slower (within 5 %)",
         new["chapter 1000 rows"] <= 1.05 * base["chapter 1000 rows"],
         f"{new['chapter 1000 rows'] / base['chapter 1000 rows']:.2f}× the baseline's time"),
    ]
    lines += ["", "## Targets", ""] + [f"- {'PASS' if ok else 'FAIL'}: {name} — {value}" for name, ok, value in targets]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = options(__doc__, rounds=3)
    if args.worker:
        print(json.dumps(worker(args.repeat)))
        return
    sys.path.insert(0, str(HERE))
    import machine

    bound = [machine.one_core(machine.bandwidth(1.5))]
    commit, base, new = alternate(__file__, args.baseline, args.rounds, args.repeat)
    bound.append(machine.one_core(machine.bandwidth(1.5)))
    text = report(_merge(base), _merge(new), bound, args.baseline, commit, args.rounds, args.repeat)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
