"""Where two threads' time goes, this checkout against a baseline commit, in one run.

Worker processes alternate between this checkout's ``src/`` and the baseline's (``git archive <ref> src`` in
a temporary folder), ``--rounds`` rounds (default 2), each worker best of ``--repeat``; each figure is the best over the
rounds (the least disturbed on a shared machine). Per workload (``large``: 10⁷ × 2 float32, batch 10;
``wide``: 10⁶ × 100 float32, batch 256):

* the next epoch's order (``epoch_order``) on one thread and on two (one thread's figures also as the CPU
  time of the calling thread, which a neighbour on the machine disturbs least); large: the packing of the rows
  that a fit does first (``FusedEngine.prepare`` on a fresh engine, on two threads);
* one fused epoch on one thread in the epoch's order and in numpy's uniform permutation (the order's
  locality: the rows' gather should cost the same);
* the fused kernel on the two halves of an epoch's order, one after the other and on two plain threads;
* the full-data loss pass; one sync of two threads (a 2-thread segment of one process batch against one
  thread's step with the same process batch);
* whole ``linsgd.fit``: large 1 and 3 epochs, wide 5 epochs; 1 thread (batch B) and 2 threads (B/2 each,
  the same process batch) with K = "auto" and, on wide, K = 1 (lockstep);
* scikit-learn's SGDRegressor, one epoch over the same 10⁷ rows of large, given as float64 (its dtype) before
  the clock (a 10⁶-row prefix would stay in the last-level cache and run faster per row); the ratios take its
  best over all workers, baseline's and this checkout's: the same peer code;
* each fit's CPU time over all its threads too (the work; on a loaded machine the wall times mostly measure
  the neighbours);
* the chapter's 1,000-row ``linsgd.fit`` (3 epochs).

    python benchmarks/bench_two_threads.py [--baseline main] [--rounds 2] [--repeat 2] [--out FILE]
"""

from __future__ import annotations

import json
import os
import sys
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from against import alternate, options, sklearn_epoch  # noqa: E402


def worker(repeat: int) -> dict:
    """Every measurement of one code version (the linsgd on sys.path); seconds, best of ``repeat``."""
    import warnings

    from workloads import WORKLOADS, make_data

    warnings.simplefilter("ignore")
    out: dict = {"load": [os.getloadavg()[0]]}

    def best(key, fn):
        fn()  # compile and warm the caches off the clock
        times, cpu, work = [], [], []
        for _ in range(repeat):
            t, c, p = time.perf_counter(), time.thread_time(), time.process_time()
            fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            work.append(time.process_time() - p)
        out[key] = min(times)
        if " 1 thread" in key or "serial" in key or key == "chapter":  # one thread: its CPU time is least disturbed
            out[key + " (CPU of the thread)"] = min(cpu)
        if " fit " in key:  # every thread of the fit: the work it costs, which a loaded machine inflates least
            out[key + " (CPU of the process)"] = min(work)

    for name, fits in (("large", ((1, False), (3, False))), ("wide", ((5, True),))):
        wl = WORKLOADS[name]
        X, y = make_data(wl)
        _parts(name, X, y, wl, best)
        for epochs, lockstep in fits:
            _fits(f"{name} fit {epochs} ep", X, y, wl.lr, epochs, wl.batch, best, lockstep)
        if name == "large":
            best("sklearn epoch", partial(sklearn_epoch, X.astype("float64"), y.astype("float64"), wl.lr))
        del X, y
    import linsgd

    seed = WORKLOADS["seed"]
    X, y = make_data(seed)
    best("chapter", lambda: linsgd.fit(X, y, lr=seed.lr, batch_size=seed.batch, epochs=seed.epochs, seed=0))
    out["load"].append(os.getloadavg()[0])
    return out


def _parts(name, X, y, wl, best) -> None:
    """The pieces of an epoch: the order, the kernel on two halves, the loss pass, one sync."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from linsgd.data.batching import epoch_order
    from linsgd.engines import get_engine
    from linsgd.engines.fused import NARROW_MAX_FEATURES
    from linsgd.engines.rule import StepRule
    from linsgd.engines.threaded import ThreadedEngine

    n, B = len(y), wl.batch
    pool = ThreadPoolExecutor(max_workers=1)
    spare = epoch_order(0, 0, n)
    best(f"{name} order 1 thread", lambda: epoch_order(0, 1, n, out=spare))
    best(f"{name} order 2 threads", lambda: epoch_order(0, 1, n, out=spare, pool=pool))
    order = epoch_order(0, 0, n)
    if X.shape[1] <= NARROW_MAX_FEATURES:  # a fit's packing of the rows (fresh memory, as in a fit)
        best(f"{name} pack", lambda: get_engine("fused").prepare(X, y))
    engine = get_engine("fused")
    engine.prepare(X, y)
    w0 = np.zeros(X.shape[1], dtype=X.dtype)
    half = n // 2 // B * B
    rule = StepRule(wl.lr, total_steps=-(-n // B))

    def run(part):
        return engine.run_epoch(X, y, w0, 0.0, part, rule, B)

    uniform = np.random.default_rng(0).permutation(n).astype(order.dtype)  # the order's locality: none either
    best(f"{name} epoch 1 thread, epoch_order", lambda: run(order))
    best(f"{name} epoch 1 thread, numpy permutation", lambda: run(uniform))
    best(f"{name} halves serial", lambda: (run(order[:half]), run(order[half:])))
    best(f"{name} halves 2 threads", lambda: (pool.submit(run, order[half:]), run(order[:half]))[0].result())
    best(f"{name} loss pass", lambda: engine.loss(X, y, w0, 0.0))
    threaded = ThreadedEngine(engine, 2)
    one_step = StepRule(wl.lr, total_steps=1)
    batch = order[:B]
    best(f"{name} step 1 thread", lambda: [engine.run_epoch(X, y, w0, 0.0, batch, one_step, B) for _ in range(200)])
    best(f"{name} step 2 threads", lambda: [threaded.run_epoch(X, y, w0, 0.0, batch, one_step, B)
                                            for _ in range(200)])
    pool.shutdown()


def _fits(key, X, y, lr, epochs, batch, best, lockstep) -> None:
    """1 thread with batch B, 2 threads with B/2 each; lockstep (K = 1) only where a barrier per step is cheap
    against a step (wide: on large, a barrier per 5-row step costs seconds on a loaded machine)."""
    import linsgd

    kw = {"lr": lr, "epochs": epochs, "seed": 0, "dtype": "float32"}
    best(f"{key} 1 thread", lambda: linsgd.fit(X, y, batch_size=batch, threads=1, **kw))
    if lockstep:
        best(f"{key} 2 threads K=1", lambda: linsgd.fit(X, y, batch_size=batch // 2, threads=2, sync_every=1, **kw))
    best(f"{key} 2 threads K=auto", lambda: linsgd.fit(X, y, batch_size=batch // 2, threads=2, **kw))


def _merge(runs: list[dict]) -> dict:
    merged = {k: min(r[k] for r in runs) for k in runs[0] if k != "load"}
    merged["load"] = [x for r in runs for x in r["load"]]
    return merged


def report(base: dict, new: dict, ref: str, commit: str, rounds: int, repeat: int) -> str:
    """The markdown tables: every figure of both versions, the ratios, and the targets."""
    load = base["load"] + new["load"]
    lines = [f"`python benchmarks/bench_two_threads.py --baseline {ref} --rounds {rounds} --repeat {repeat}`; "
             f"baseline {ref} ({commit}); load average (1 min) {min(load):.2f}–{max(load):.2f} over the workers, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             "| measurement | baseline ms | this ms | this / baseline |", "|---|---|---|---|"]
    for key in new:
        if key == "load" or (key.endswith("(CPU of the thread)") and "fit" in key):  # a fit's helpers work too
            continue
        b, t = base.get(key), new[key]
        scale = 1e3 / 200 if " step " in key else 1e3  # a step: per call, of 200
        cells = f"{b * scale:.2f} | {t * scale:.2f} | {t / b:.2f}×" if b else f"– | {t * scale:.2f} | –"
        lines.append(f"| {key}{' (per call)' if ' step ' in key else ''} | {cells} |")
    lines += ["", "Ratios (this checkout; baseline in brackets):", ""]

    def ratio(a, b):
        return f"{new[a] / new[b]:.2f}× ({base[a] / base[b]:.2f}×)"

    # its epoch over the same 10⁷ rows: the peer's code is the same in both workers, so its best over all of them
    # (the peer least disturbed: the conservative ratio)
    sk = min(new["sklearn epoch"], base["sklearn epoch"])
    pairs = [("large fit 1 epoch, 2 threads (K=auto)", "large fit 1 ep"), ("large fit 3 epochs, 2 threads (K=auto)",
             "large fit 3 ep"), ("wide fit 5 epochs, 2 threads (K=1)", "wide fit 5 ep"),
             ("wide fit 5 epochs, 2 threads (K=auto)", "wide fit 5 ep")]
    for label, key in pairs:
        two = f"{key} 2 threads {'K=1' if 'K=1' in label else 'K=auto'}"
        lines.append(f"- {label} vs 1 thread: {ratio(f'{key} 1 thread', two)}")
    per_epoch = new["large fit 3 ep 2 threads K=auto"] / 3
    lines += [f"- large, scikit-learn's epoch (its best over all workers, the same 10⁷ rows) against linsgd's 2-thread "
              f"fit per epoch (3 epochs): {sk / per_epoch:.1f}× (baseline "
              f"{sk / (base['large fit 3 ep 2 threads K=auto'] / 3):.1f}×); against the 1-epoch 2-thread fit: "
              f"{sk / new['large fit 1 ep 2 threads K=auto']:.1f}× (baseline "
              f"{sk / base['large fit 1 ep 2 threads K=auto']:.1f}×); against the kernel halves on 2 threads: "
              f"{sk / new['large halves 2 threads']:.1f}×",
              f"- chapter 1,000 rows: this / baseline {new['chapter'] / base['chapter']:.2f}×"]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = options(__doc__, rounds=2)
    if args.worker:
        print(json.dumps(worker(args.repeat)))
        return
    commit, base, new = alternate(__file__, args.baseline, args.rounds, args.repeat)
    text = report(_merge(base), _merge(new), args.baseline, commit, args.rounds, args.repeat)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
