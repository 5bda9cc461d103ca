"""Minibatch-SGD linear regression, peers side by side: one run, the same data, one markdown report.

Peers: the d2l chapter's loop (torch), idiomatic PyTorch, scikit-learn's SGDRegressor, JAX (jit +
lax.scan), and linsgd's reference and fused engines. Workloads: seed, large, wide (see workloads.py).
See benchmarks/README.md for the methodology.

Usage:
    python benchmarks/bench_sgd.py [--workloads seed,large,wide] [--peers chapter,sklearn,...]
                                   [--quick] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import shlex
import sys
import time
from pathlib import Path

import machine
import numpy as np
import report
import wholeprocess
from scoring import Evaluator, Row
from workloads import WORKLOADS, Workload, initial_w, make_data, quick, true_params

from peers import PEERS, Peer

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of "
                   f"{','.join(WORKLOADS)} (default: all)")
    p.add_argument("--peers", default=",".join(peer.name for peer in PEERS),
                   help="comma-separated subset of the peers (default: all)")
    p.add_argument("--quick", action="store_true", help="smoke run: n / 100 (at least 1,000 rows), "
                   "smaller bandwidth array, 3 whole-process runs")
    p.add_argument("--out", type=Path, help="also write the report (machine description first) here")
    p.add_argument("--prefix-rows", type=int, help="override the row cap of the slow peers")
    p.add_argument("--repeats", type=int, help="whole-process runs per command (default 5, quick 3)")
    p.add_argument("--bandwidth-gb", type=float, help="size of the bandwidth array (default 1.5, quick 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the peers' shuffles and initial w")
    p.add_argument("--runs", type=int, default=3, help="timed runs per peer and workload, the fastest is "
                   "reported (default 3; all runs train the same model from the same seed)")
    args = p.parse_args(argv)
    args.workloads = _subset(p, args.workloads, list(WORKLOADS), "--workloads")
    args.peers = _subset(p, args.peers, [peer.name for peer in PEERS], "--peers")
    if args.runs < 1:
        p.error(f"--runs must be >= 1, got {args.runs}")
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.bandwidth_gb = args.bandwidth_gb or (0.5 if args.quick else 1.5)
    return args


def _subset(p: argparse.ArgumentParser, text: str, known: list[str], flag: str) -> list[str]:
    """The comma-separated names in ``text``, in ``known`` order; a usage error for unknown ones."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = sorted(set(names) - set(known))
    if unknown or not names:
        p.error(f"{flag}: unknown {', '.join(unknown) or '(empty)'}; choose from {','.join(known)}")
    return [k for k in known if k in names]


def linsgd_env() -> dict | None:
    """Make ``linsgd`` importable from this checkout when it is not installed.

    Returns:
        the environment for child processes (with PYTHONPATH) when src/ had to be added, else None.
    """
    src = REPO / "src"
    if importlib.util.find_spec("linsgd") is not None or not (src / "linsgd").is_dir():
        return None
    sys.path.insert(0, str(src))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def log(message: str) -> None:
    """Progress on stderr, so stdout is the report alone."""
    print(message, file=sys.stderr, flush=True)


def run_peer(peer: Peer, X, y, wl: Workload, w0: np.ndarray, evaluator: Evaluator, args) -> Row:
    """Train and score one peer; any failure makes its row "n/a (not available)" and the run goes on."""
    cap = args.prefix_rows if (args.prefix_rows and peer.cap) else peer.cap
    rows = wl.n if cap is None else min(wl.n, cap)
    t0 = time.perf_counter()
    try:
        runs = [peer.run(X, y, wl, rows, w0, args.seed) for _ in range(args.runs)]
    except Exception as exc:  # a missing library or an unfinished engine only disables this peer
        message = (str(exc).strip().splitlines() or [""])[0][:100]
        log(f"[{wl.name}] {peer.name}: not available ({type(exc).__name__}: {message})")
        return Row(peer.name, error=f"{type(exc).__name__}: {message}")
    run = min(runs, key=lambda r: r.seconds)  # the run least disturbed by the machine (fresh pages, neighbours)
    if len(runs) > 1:
        run.notes.append(f"fastest of {len(runs)} runs ({', '.join(f'{r.seconds:.3g}' for r in runs)} s)")
    row = evaluator.score(peer.name, run, wl.n)
    log(f"[{wl.name}] {peer.name}: {report.fmt_rate(row.rate)} examples/s "
        f"({time.perf_counter() - t0:.1f} s with setup)")
    return row


def run_workload(wl: Workload, args, bandwidth: dict[str, float], env: dict | None) -> report.WorkloadResult:
    """Generate the workload's data once, run every selected peer on it, and score them."""
    t0 = time.perf_counter()
    X, y = make_data(wl)
    t1 = time.perf_counter()
    evaluator = Evaluator(X, y, *true_params(wl))
    t2 = time.perf_counter()
    log(f"[{wl.name}] data {t1 - t0:.1f} s, least squares {t2 - t1:.1f} s")
    w0 = initial_w(wl.d, args.seed)
    rows = [run_peer(peer, X, y, wl, w0, evaluator, args) for peer in PEERS if peer.name in args.peers]
    bytes_per_example = (wl.d + 1) * X.itemsize
    result = report.WorkloadResult(
        wl.title(), wl.name, rows, evaluator.opt_loss, bytes_per_example,
        max(bandwidth.values()) * 1e9 / bytes_per_example, machine.one_core(bandwidth) * 1e9 / bytes_per_example,
        notes=[f"data: numpy default_rng({wl.seed}), generated in {t1 - t0:.1f} s; least squares "
               f"(lstsq, float64, with intercept) in {t2 - t1:.1f} s"])
    if wl.name == "seed":
        log(f"[{wl.name}] whole-process timings ({args.repeats} runs each)")
        result.whole = wholeprocess.compare(args.repeats, env)
    return result


METHOD = [
    "Method:",
    "- Each workload's data is generated once (float32) and the same arrays go to every peer. chapter, "
    "torch-idiomatic, jax and sklearn (coef_init) start from the same w0 ~ N(0, 0.01²), b = 0; linsgd "
    "draws its own from the seed.",
    "- examples/s = rows × epochs / training seconds; data generation, copies into the peer's own "
    "containers, JIT compiles and warm-ups are not timed (compile times are in the notes).",
    "- Every peer is timed --runs times (default 3) on the same data and seed, and its fastest run is "
    "reported (the notes list all): on this shared virtual machine the first touch of fresh memory costs "
    "~1–2 ms per MB and neighbours come and go, so single runs vary by up to 2×.",
    "- Final loss (mean ½(ŷ − y)²) and errors are computed here in float64 on the FULL data from each "
    "peer's final w, b.",
    "- time to 5 %: training seconds at the end of the first epoch whose full-data loss is ≤ 1.05 × the "
    "least-squares optimum (evaluation not timed; resolution: one epoch).",
    "- Ratio column: peer examples/s ÷ linsgd-fused's (linsgd-reference's when fused is n/a).",
]


def header(args, bandwidth: dict[str, float]) -> list[str]:
    """Title, command, machine description and measured bandwidth."""
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]])
    bw = "; ".join(f"{k} {v:.1f} GB/s" for k, v in bandwidth.items())
    return ["# linsgd benchmarks: minibatch-SGD linear regression, peers side by side", "",
            f"Command: `{command}`", "", "## Machine", "", *machine.describe(REPO), "",
            f"Streaming-read bandwidth (float32 sum over {args.bandwidth_gb:g} GB, best of 3): {bw} "
            "(numba all cores: prange). Each workload has two bounds: bandwidth / bytes per example with the "
            "best one-core read (SGD's updates are sequential: one core trains; the issue's \"≈ 30 M "
            "examples/s here\" for wide is half of this one) and with all cores. A shuffled epoch gathers "
            "rows at random, so both are optimistic.", "", *METHOD, ""]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = linsgd_env()
    log(f"measuring streaming-read bandwidth over {args.bandwidth_gb:g} GB")
    bandwidth = machine.bandwidth(args.bandwidth_gb)
    gc.collect()
    results = {}
    for name in args.workloads:
        wl = quick(WORKLOADS[name]) if args.quick else WORKLOADS[name]
        results[name] = run_workload(wl, args, bandwidth, env)
        gc.collect()  # the float64 copy of the large/wide data is gone before the next workload
    lines = header(args, bandwidth)
    for result in results.values():
        lines += report.table(result)
    lines += report.targets(results, args.quick)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
