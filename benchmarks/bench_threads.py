"""Threads in one process, the cost of averaging, and the time from command to model.

In one run, on the same data (the shared machine's noise is spread by alternating the configurations and
keeping the best of several runs):

1. throughput of ``linsgd.fit`` with threads = 1 and 2 on the large (10 M × 2, batch 10) and wide
   (1 M × 100, batch 256) workloads, K = sync_every "auto", the final loss of each, and scikit-learn's
   SGDRegressor on large (per-epoch time of its Cython loop);
2. the cost of one sync of the threads (hand-off + weighted mean) against a step, which sets the default K
   (``linsgd.engines.threaded.default_sync_every``), and the projection to more cores;
3. the time to within 1 % of the optimum loss (exact least squares) with threads and averaging;
4. the whole-process time of ``linsgd train`` on 1 k, 100 k (CSV) and 10 M (Parquet) rows against a
   scikit-learn script (StandardScaler + SGDRegressor, ``sklearn_train.py``) reading the same file.

Usage::

    python benchmarks/bench_threads.py --out benchmarks/THREADS_RESULTS.md [--quick] [--skip-10m]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import machine  # noqa: E402
from workloads import WORKLOADS, initial_w, make_data, quick  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("linsgd") is None:  # a checkout, not installed
    sys.path.insert(0, str(REPO / "src"))


def _fit(X, y, wl, threads, **kw):
    import linsgd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return linsgd.fit(X, y, lr=wl.lr, epochs=kw.pop("epochs", wl.epochs), batch_size=wl.batch, seed=0,
                          threads=threads, **kw)


def throughput(wl, X, y, runs: int) -> dict:
    """Best seconds of the SGD epochs (sum of epoch times) and the final loss per thread count, alternated."""
    out = {t: {"seconds": math.inf} for t in (1, 2)}
    _fit(X[:200_000], y[:200_000], wl, 2, epochs=1)  # kernels loaded, pool warm
    for _ in range(runs):
        for t in (1, 2):
            wall, cpu = time.perf_counter(), time.process_time()
            r = _fit(X, y, wl, t)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            s = sum(r.epoch_seconds)
            if s < out[t]["seconds"]:  # cores: CPU seconds of the whole fit (all threads) per wall second
                out[t] = {"seconds": s, "loss": r.history[-1], "k": r.config.sync_every, "cores": cpu / wall}
    for t in out:
        out[t]["rate"] = wl.n * wl.epochs / out[t]["seconds"]
    return out


def raw_scaling(wl, X, y, runs: int) -> dict:
    """The machine's own limit: the fused kernel on the two halves of an epoch's order, one after the other
    and on two plain threads at once (no averaging, no pool, no loss pass): best seconds of each."""
    import threading

    from linsgd.data.batching import epoch_order
    from linsgd.engines import get_engine
    from linsgd.engines.fused import kernel_epoch
    from linsgd.engines.rule import StepRule

    engine = get_engine("fused")
    engine.prepare(X, y)
    arrays, rule, w = engine.layout(X, y), StepRule(wl.lr, total_steps=10**9), np.zeros(wl.d, X.dtype)
    order = epoch_order(0, 0, len(y))
    halves = [order[:len(y) // 2].copy(), order[len(y) // 2:].copy()]
    serial = parallel = math.inf
    for _ in range(runs):
        t0 = time.perf_counter()
        for h in halves:
            kernel_epoch(arrays, w, 0.0, h, rule, wl.batch)
        serial = min(serial, time.perf_counter() - t0)
        threads = [threading.Thread(target=kernel_epoch, args=(arrays, w, 0.0, h, rule, wl.batch)) for h in halves]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parallel = min(parallel, time.perf_counter() - t0)
    shuffle = loss = math.inf
    for _ in range(runs):  # the rest of an epoch: the next order (one thread), the full-data loss (two)
        t0 = time.perf_counter()
        epoch_order(0, 1, len(y))
        shuffle = min(shuffle, time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.loss(X, y, w, 0.0)
        loss = min(loss, time.perf_counter() - t0)
    return {"serial": serial, "parallel": parallel, "shuffle": shuffle, "loss": loss}


def sklearn_rate(wl, X, y, rows: int) -> float:
    """Examples per second of SGDRegressor's epochs (best epoch of 2) on the first ``rows`` rows."""
    from peers import sklearn_sgd

    wl1 = wl.__class__(**{**wl.__dict__, "epochs": 2})
    run = sklearn_sgd.run(X, y, wl1, rows, initial_w(wl.d, 0), 0)
    per_epoch = np.diff([0.0, *run.epoch_seconds])
    return rows / per_epoch.min()


def sync_cost(wl, X, y, runs: int) -> dict:
    """Seconds per call of the 2-thread engine for K steps: a + b·K by least squares (a: one sync)."""
    from linsgd.data.batching import epoch_order
    from linsgd.engines import get_engine
    from linsgd.engines.rule import StepRule

    engine, one = get_engine("fused", threads=2), get_engine("fused")
    engine.prepare(X, y)
    one.prepare(X, y)
    order, rule, w = epoch_order(0, 0, len(y)), StepRule(wl.lr, total_steps=10**9), np.zeros(wl.d, X.dtype)
    P = 2 * wl.batch
    ks = [1, 4, 16, 64, 256, 1024]
    best = {}
    for k in ks:
        seg = P * k
        calls = max(1, min(400, len(y) // seg))
        for name, eng in (("two", engine), ("one", one)):
            t = math.inf
            for _ in range(runs):
                t0 = time.perf_counter()
                for c in range(calls):
                    eng.run_epoch(X, y, w, 0.0, order[c * seg:(c + 1) * seg], rule, P)
                t = min(t, (time.perf_counter() - t0) / calls)
            best[(name, k)] = t
    A = np.column_stack([np.ones(len(ks)), ks])
    a2, b2 = np.linalg.lstsq(A, [best[("two", k)] for k in ks], rcond=None)[0]
    a1, b1 = np.linalg.lstsq(A, [best[("one", k)] for k in ks], rcond=None)[0]
    return {"per_call": best, "ks": ks, "sync": a2 - a1, "two_fixed": a2, "one_fixed": a1, "step2": b2,
            "step1": b1}


def time_to_optimum(wl, X, y, epochs: int) -> dict:
    """Seconds of training until the full-data loss is within 1 % of the exact optimum, per configuration."""
    import linsgd

    sol = linsgd.exact(X.astype(np.float64), y.astype(np.float64))
    opt = 0.5 * sol.rss / len(y)
    out = {}
    for threads in (1, 2):
        for average in (False, "auto"):
            r = _fit(X, y, wl, threads, epochs=epochs, average=average)
            cum = np.cumsum(r.epoch_seconds)
            hit = [i for i, loss in enumerate(r.history) if loss <= 1.01 * opt]
            out[(threads, average)] = (cum[hit[0]] if hit else None, hit[0] + 1 if hit else None, r.history[-1])
    return {"optimum": opt, "runs": out}


def whole_process(tmp: Path, rows: list[int], repeats: int) -> dict:
    """Wall seconds (best of ``repeats``, alternated) of ``linsgd train`` and of the scikit-learn script."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    py = sys.executable
    out = {}
    for n in rows:
        data = tmp / (f"d{n}.parquet" if n >= 1_000_000 else f"d{n}.csv")
        subprocess.run([py, "-m", "linsgd", "generate", str(data), "--num-examples", str(n), "--num-features", "5",
                        "--seed", "1"], check=True, capture_output=True, env=env)
        cmds = {"linsgd train": [py, "-m", "linsgd", "train", str(data), "--target", "y", "--out", str(tmp / "run"),
                                 "--quiet"],
                "scikit-learn script": [py, str(Path(__file__).with_name("sklearn_train.py")), str(data),
                                        "--out", str(tmp / "model.pkl")]}
        best = {k: (math.inf, 0.0) for k in cmds}
        for _ in range(repeats if n < 1_000_000 else 1):
            for name, cmd in cmds.items():
                t0, c0 = time.perf_counter(), _children_cpu()
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                best[name] = min(best[name], (time.perf_counter() - t0, _children_cpu() - c0))
        out[n] = best
    return out


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (theirs and their reaped children's)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def report(args, res) -> list[str]:
    lines = ["# Threads, the cost of averaging, and the time from command to model", "",
             "`python benchmarks/bench_threads.py` (this file). **The machine was shared** with other agents' "
             "builds and tests while this ran (load average at start "
             f"{res['load'][0]:.2f}, at end {res['load'][1]:.2f} on 2 cores): configurations alternate and the "
             "best of several runs is kept, but absolute numbers are pessimistic and ratios noisy.", "",
             *machine.describe(REPO), ""]
    lines += ["## 1. Throughput: threads = 1 and 2 (float32, 3 epochs, K = auto)", "",
              "| workload | threads | K | SGD epochs (s, best) | examples/s | final loss | vs 1 thread | cores used |",
              "|---|---|---|---|---|---|---|---|"]
    for name, tp in res["throughput"].items():
        for t in (1, 2):
            r = tp[t]
            lines.append(f"| {name} | {t} | {r['k'] if t > 1 else '–'} | {r['seconds']:.3f} | {r['rate']:.3g} | "
                         f"{r['loss']:.6g} | {r['rate'] / tp[1]['rate']:.2f}× | {r['cores']:.2f} |")
    lines += ["", "*cores used*: CPU seconds of the whole fit, all threads, per wall second. The 1-thread runs "
                  "use more than one core (the next epoch's order is shuffled and the full-data loss summed on "
                  "a second thread); when the 2-thread runs do not use two, other processes held the cores."]
    lines += ["", "The machine's own limit, without linsgd's threads: the fused kernel on the two halves of an epoch, "
                  "one after the other and on two plain threads at once (best of the runs):", "",
              "| workload | serial (s) | two threads (s) | speed-up | next order, 1 thread (s) "
              "| loss pass, 2 threads (s) | estimated limit on 2 cores |", "|---|---|---|---|---|---|---|"]
    for name, r in res["raw"].items():
        one = max(r["serial"] + r["loss"], r["shuffle"])  # 1 thread: the order is drawn on the idle core
        two = (r["serial"] + r["shuffle"]) / 2 + r["loss"]  # 2 threads: every core busy with SGD or the order
        lines.append(f"| {name} | {r['serial']:.3f} | {r['parallel']:.3f} | {r['serial'] / r['parallel']:.2f}× | "
                     f"{r['shuffle']:.3f} | {r['loss']:.3f} | {one / two:.2f}× |")
    lines += ["", "*estimated limit on 2 cores*: an epoch is the SGD kernel, the next epoch's order (drawn by a "
                  "background thread) and the full-data loss (on both cores). One SGD thread leaves the second core "
                  "to the order, so its epoch is about max(SGD + loss, order); two SGD threads share both cores with "
                  "the order: (SGD + order)/2 + loss. A rough model (the order's memory traffic also slows a lone "
                  "SGD thread, so a measured speed-up can exceed it), but it shows where the time goes: at d = 2 "
                  "drawing the next 10 M-row order costs about half of an SGD epoch, hidden on the idle core with one "
                  "thread, paid with two."]
    if "sklearn" in res:
        two = res["throughput"]["large"][2]["rate"]
        lines += ["", f"scikit-learn SGDRegressor on large (batch 1, its Cython loop, best epoch of 2 on "
                      f"{res['sklearn_rows']:,} rows): {res['sklearn']:.3g} examples/s; linsgd with 2 threads: "
                      f"{two / res['sklearn']:.1f}× that."]
    s = res["sync"]
    lines += ["", "## 2. One sync against a step: the default K", "",
              f"The 2-thread engine on the large workload (batch 10 per thread), one call per segment of K steps, "
              f"best of {args.runs} (µs per call):", "", "| K | 1 thread, batch 20 | 2 threads, batch 10 each |",
              "|---|---|---|"]
    for k in s["ks"]:
        lines.append(f"| {k} | {s['per_call'][('one', k)] * 1e6:.1f} | {s['per_call'][('two', k)] * 1e6:.1f} |")
    lines += ["", f"Least squares t(K) = a + b·K: 2 threads a = {s['two_fixed'] * 1e6:.1f} µs, b = "
                  f"{s['step2'] * 1e9:.0f} ns per step; 1 thread a = {s['one_fixed'] * 1e6:.1f} µs, b = "
                  f"{s['step1'] * 1e9:.0f} ns. One sync (hand-off to the pool, the threads' calls returning, the "
                  f"weighted mean) costs a₂ − a₁ = {s['sync'] * 1e6:.1f} µs beyond one thread's call.", "",
              "The rule (`linsgd.engines.threaded`): K = ⌈sync / (0.05 · step)⌉ with sync = SYNC_SECONDS and a "
              "step of a thread's batch B costing B·(ROW_SECONDS + FEATURE_SECONDS·d); see the constants there "
              "for the values chosen from these measurements.", ""]
    lines += _projection(res)
    t2o = res["optimum"]
    lines += ["## 3. Time to within 1 % of the optimum loss (large, float32)", "",
              f"Exact optimum (least squares, float64): {t2o['optimum']:.6g}.", "",
              "| threads | averaging | seconds of training | epochs | final loss |", "|---|---|---|---|---|"]
    for (t, avg), (sec, ep, last) in t2o["runs"].items():
        lines.append(f"| {t} | {avg} | {'not reached' if sec is None else f'{sec:.3f}'} | {ep or '–'} | "
                     f"{last:.6g} |")
    lines += ["", "## 4. Whole process: `linsgd train` against a scikit-learn script", "",
              "Best wall seconds (1 k, 100 k: CSV, best of the repeats; 10 M: Parquet, one run each), defaults "
              "(linsgd: lr, epochs and averaging auto, threads = the cores; scikit-learn: StandardScaler + "
              "SGDRegressor, its defaults), each reading the same file and writing its model.", "",
              "CPU: user + system seconds of the run with the best wall time, every process included (linsgd's "
              "figures are drawn by a forked child while the parent trains).", "",
              "| rows | linsgd train (wall s) | CPU s | scikit-learn script (wall s) | CPU s |",
              "|---|---|---|---|---|"]
    for n, best in res["whole"].items():
        (lw, lc), (sw, sc) = best["linsgd train"], best["scikit-learn script"]
        lines.append(f"| {n:,} | {lw:.2f} | {lc:.2f} | {sw:.2f} | {sc:.2f} |")
    return lines + [""] + _targets(res)


def _targets(res) -> list[str]:
    """The task's targets, PASS or FAIL with the measured value."""
    tp, whole = res["throughput"], res["whole"]

    def line(ok: bool, what: str, got: str) -> str:
        return f"- {'PASS' if ok else 'FAIL'} — {what} (measured {got})"

    out = ["## Targets", ""]
    for name in tp:
        ratio = tp[name][2]["rate"] / tp[name][1]["rate"]
        gap = tp[name][2]["loss"] / tp[name][1]["loss"] - 1
        out.append(line(ratio >= 1.7, f"{name}: 2 threads ≥ 1.7× the throughput of 1 thread", f"{ratio:.2f}×"))
        out.append(line(abs(gap) <= 0.01, f"{name}: final loss of 2 threads within 1 % of 1 thread's",
                        f"{gap:+.3%}"))
    if "sklearn" in res:
        ratio = tp["large"][2]["rate"] / res["sklearn"]
        out.append(line(ratio >= 20, "large: 2 threads ≥ 20× scikit-learn's SGDRegressor", f"{ratio:.1f}×"))
    if 1_000 in whole:
        wall = whole[1_000]["linsgd train"][0]
        out.append(line(wall <= 0.8, "1,000-row CSV `linsgd train` ≤ 0.8 s whole process", f"{wall:.2f} s"))
    return out


def _projection(res) -> list[str]:
    s, wide = res["sync"], res["throughput"]
    lines = ["Projection to more cores (from the measured sync cost, assuming the hand-off grows linearly with "
             "the threads and each thread's steps run at the 1-thread speed, memory bandwidth permitting): "
             "speed-up(N) = N / (1 + (N − 1)·sync / (K·step)).", "", "| workload | K | N = 2 | 4 | 8 | 16 |",
             "|---|---|---|---|---|---|"]
    for name, tp in wide.items():
        k = tp[2]["k"]
        step = tp[1]["seconds"] / (WORKLOADS[name].n * WORKLOADS[name].epochs / WORKLOADS[name].batch)
        sp = [n / (1 + (n - 1) * s["sync"] / (k * step)) for n in (2, 4, 8, 16)]
        lines.append(f"| {name} | {k} | " + " | ".join(f"{v:.2f}×" for v in sp) + " |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quick", action="store_true", help="n / 100, few runs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-10m", action="store_true", help="no 10 M-row whole-process runs")
    args = ap.parse_args()
    res = {"load": [os.getloadavg()[0], 0.0], "throughput": {}}
    for name in ("large", "wide"):
        wl = quick(WORKLOADS[name]) if args.quick else WORKLOADS[name]
        print(f"{name}: data", file=sys.stderr)
        X, y = make_data(wl)
        res["throughput"][name] = throughput(wl, X, y, args.runs)
        res.setdefault("raw", {})[name] = raw_scaling(wl, X, y, args.runs)
        print(f"{name}: {res['throughput'][name]}", file=sys.stderr)
        if name == "large":
            res["sync"] = sync_cost(wl, X, y, args.runs)
            res["optimum"] = time_to_optimum(wl, X, y, epochs=4)
            res["sklearn_rows"] = min(len(y), 2_000_000)
            res["sklearn"] = sklearn_rate(wl, X, y, res["sklearn_rows"])
        del X, y
    with tempfile.TemporaryDirectory(prefix="linsgd-bench-threads-") as tmp:
        rows = [1_000, 100_000] + ([] if args.skip_10m or args.quick else [10_000_000])
        res["whole"] = whole_process(Path(tmp), rows, repeats=3 if args.quick else 5)
    res["load"][1] = os.getloadavg()[0]
    text = "\n".join(report(args, res)) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
