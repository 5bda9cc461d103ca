"""Data-parallel training on Parquet shards: 2 processes (torchrun) vs 1, on the wide workload.

Writes the data once (``--n`` rows of the wide workload's y = Xw + b + ε, d = 100, float32, in two Parquet
files), trains it with one process (all rows in memory) and with ``torchrun --nproc-per-node 2`` where each
rank trains on its own file (``--max-memory`` just below the whole data: each shard fits, the whole does
not), for each K of ``--sync-every``, and reports per-epoch throughput, the final loss, and rank 0's time
in all-reduces. Usage::

    python benchmarks/bench_dist.py --n 4000000 --out benchmarks/DIST_RESULTS.md
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from workloads import WORKLOADS  # noqa: E402


def write_parts(folder: Path, n: int, parts: int = 2) -> int:
    """The wide workload's rows in ``parts`` Parquet files of float32 columns; returns bytes as float32."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wl = WORKLOADS["wide"]
    w = np.random.default_rng(wl.w_seed).normal(size=wl.d).astype(np.float32)
    rng = np.random.default_rng(wl.seed)
    names = [f"x{j}" for j in range(wl.d)] + ["y"]
    for p in range(parts):
        with pq.ParquetWriter(folder / f"part{p}.parquet", pa.schema([(c, pa.float32()) for c in names])) as wr:
            for a in range(0, n // parts, 250_000):
                m = min(250_000, n // parts - a)
                X = rng.standard_normal((m, wl.d), dtype=np.float32)
                y = X @ w + np.float32(wl.true_b) + np.float32(wl.noise) * rng.standard_normal(m, dtype=np.float32)
                wr.write_table(pa.table([*X.T, y], names=names), row_group_size=65_536)
    return n // parts * parts * (wl.d + 1) * 4


def train(cmd: list[str], out: Path) -> dict:
    """Run one training command; its epoch seconds, final loss, wall time and all-reduce time."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    m = re.search(r"rank 0 spent ([\d.]+) s in (\d+) all-reduces", proc.stdout)
    return {"epoch_s": [line["seconds"] for line in lines], "loss": lines[-1]["train_loss"], "wall": wall,
            "allreduce_s": float(m.group(1)) if m else 0.0, "syncs": int(m.group(2)) if m else 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=WORKLOADS["wide"].n)
    ap.add_argument("--sync-every", default="1,16,256", help="values of K to run, comma-separated")
    ap.add_argument("--epochs", type=int, default=WORKLOADS["wide"].epochs)
    ap.add_argument("--out", default=None, help="write the Markdown table here")
    a = ap.parse_args()
    wl = dataclasses.replace(WORKLOADS["wide"], epochs=a.epochs)
    with tempfile.TemporaryDirectory(prefix="linsgd-bench-dist-") as tmp:
        tmp = Path(tmp)
        (tmp / "parts").mkdir()
        nbytes = write_parts(tmp / "parts", a.n)
        common = [str(tmp / "parts"), "--target", "y", "--batch-size", str(wl.batch), "--lr", str(wl.lr),
                  "--epochs", str(wl.epochs), "--seed", "0"]
        rows = [("1 process", train([sys.executable, "-m", "linsgd", "train", *common, "--out",
                                     str(tmp / "one")], tmp / "one"))]
        for k in a.sync_every.split(","):
            out = tmp / f"two-{k}"
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                   "-m", "linsgd", "train", *common, "--out", str(out), "--sync-every", k,
                   "--max-memory", str(nbytes - 1)]
            rows.append((f"2 processes, K = {k}", train(cmd, out)))
    report(a, wl, rows)


def report(a, wl, rows) -> None:
    base = rows[0][1]
    best = lambda r: min(r["epoch_s"])  # noqa: E731
    lines = [f"# Data-parallel training: 2 processes vs 1 ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}. Wide workload: n = {a.n:,}, d = {wl.d}, batch {wl.batch} "
             f"per process, lr {wl.lr}, {wl.epochs} epochs, fused engine, float32; two Parquet files, one "
             "per rank (each rank holds its file in memory), one process holds both.", "",
             f"Command: `python benchmarks/bench_dist.py --n {a.n} --epochs {a.epochs} "
             f"--sync-every {a.sync_every} --out "
             "benchmarks/DIST_RESULTS.md`", "",
             "| run | best epoch s | M rows/s | throughput vs 1 | final train loss | loss vs 1 | "
             "all-reduce s (rank 0, whole run) | syncs | wall s (with load) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {best(r):.3f} | {a.n / best(r) / 1e6:.2f} | {best(base) / best(r):.2f}x | "
                     f"{r['loss']:.6g} | {100 * (r['loss'] / base['loss'] - 1):+.2f} % | {r['allreduce_s']:.3f} | "
                     f"{r['syncs']} | {r['wall']:.1f} |")
    lines += ["", "Epoch seconds are rank 0's, from `metrics.jsonl`: the epoch's updates, its syncs (waiting "
              "for the slower rank included) and the full-data loss (one more all-reduce). Throughput is rows "
              "of the whole data set per second of the best epoch. Two processes on 2 shared cores: one "
              "run each, noisy."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
