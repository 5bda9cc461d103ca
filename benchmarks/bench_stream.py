"""Streaming benchmark: train on a Parquet file of >= 2 GB under a memory budget.

Measured in one run, each step in its own process (peak RSS is that process's ``ru_maxrss``):

1. ``linsgd generate`` writes the file (float64, d features + y) unless it already exists;
2. pyarrow's raw read rate: ``ParquetFile.iter_batches`` over every column, nothing else;
3. ``linsgd train FILE --target y --max-memory BUDGET`` per engine: the validating first pass (spills the
   rows to a temporary file), then streamed epochs; throughput = rows / epoch seconds (metrics.jsonl).

Targets: peak RSS of training < 500 MB; streamed-epoch throughput >= 50 % of the raw read rate.

    python benchmarks/bench_stream.py --data /tmp/stream.parquet --out benchmarks/STREAM_RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

_RSS = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
_RAW_READ = """
import sys, time, pyarrow.parquet as pq
t = time.perf_counter(); n = 0
for batch in pq.ParquetFile(sys.argv[1], pre_buffer=False).iter_batches(batch_size=65536):
    n += batch.num_rows
print(n, time.perf_counter() - t)
"""


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` in a child; returns (wall seconds, peak RSS in MB, its stdout)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RSS, *cmd], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    *body, last = out.stdout.strip().splitlines()
    rss_kb, code = (int(v) for v in last.split())
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {out.stderr[-2000:]}")
    return wall, rss_kb / 1024, "\n".join(body)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "linsgd-stream.parquet"))
    p.add_argument("--gb", type=float, default=2.1, help="file size to generate, GiB (default 2.1)")
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--max-memory", default="256M")
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--engines", default="fused,reference")
    p.add_argument("--reference-epochs", type=int, default=1, help="epochs of the (slow) reference engine")
    p.add_argument("--out", default=None, help="markdown table to write (default: print only)")
    a = p.parse_args()
    linsgd = [sys.executable, "-m", "linsgd"]
    rows = math.ceil(a.gb * 2**30 / ((a.features + 1) * 8))
    if not os.path.exists(a.data):
        wall, rss, _ = measured([*linsgd, "generate", a.data, "--num-examples", str(rows), "--num-features",
                                 str(a.features), "--dtype", "float64", "--seed", "0", "--noise", "0.1"])
        print(f"generated {a.data}: {wall:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    size = os.path.getsize(a.data)
    wall, read_rss, out = measured([sys.executable, "-c", _RAW_READ, a.data])
    n, read_s = out.split()
    n, read_s = int(n), float(read_s)
    read_rate = n / read_s
    print(f"raw read: {n} rows in {read_s:.2f} s = {read_rate / 1e6:.2f} M rows/s "
          f"({size / read_s / 2**20:.0f} MiB/s), peak RSS {read_rss:.0f} MB", flush=True)
    results = []
    for engine in a.engines.split(","):
        epochs = a.reference_epochs if engine == "reference" else a.epochs
        with tempfile.TemporaryDirectory() as run:
            wall, rss, _ = measured([*linsgd, "train", a.data, "--target", "y", "--engine", engine,
                                     "--epochs", str(epochs), "--batch-size", str(a.batch_size),
                                     "--max-memory", a.max_memory, "--seed", "0", "--quiet", "--out", run])
            lines = [json.loads(s) for s in open(os.path.join(run, "metrics.jsonl"))]
        epoch_s = min(ln["seconds"] for ln in lines)
        rate = n / epoch_s
        first_pass = wall - sum(ln["seconds"] for ln in lines)
        results.append((engine, epochs, wall, first_pass, epoch_s, rate, rss, lines[-1]["train_loss"]))
        print(f"{engine}: wall {wall:.1f} s (first pass + writing ≈ {first_pass:.1f} s), best epoch "
              f"{epoch_s:.1f} s = {rate / 1e6:.2f} M rows/s = {100 * rate / read_rate:.0f} % of raw read, "
              f"peak RSS {rss:.0f} MB", flush=True)
    if a.out:
        write_table(a, size, n, read_s, read_rate, read_rss, results)


def write_table(a, size, n, read_s, read_rate, read_rss, results) -> None:
    lines = [
        "# Streaming benchmark", "",
        f"`python benchmarks/bench_stream.py --max-memory {a.max_memory} --batch-size {a.batch_size}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
        f"Data: `{os.path.basename(a.data)}`, {size / 2**30:.2f} GiB Parquet, {n:,} rows × "
        f"{a.features} float64 features + y (written by `linsgd generate`, row groups of 65,536 rows).", "",
        f"pyarrow raw read (`ParquetFile(pre_buffer=False).iter_batches`, all columns): {read_s:.2f} s = "
        f"**{read_rate / 1e6:.2f} M rows/s** "
        f"({size / read_s / 2**20:.0f} MiB/s), peak RSS {read_rss:.0f} MB.", "",
        "| engine | epochs | wall s | first pass + write s | best epoch s | M rows/s | % of raw read | "
        "peak RSS MB | final loss |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, epochs, wall, first, epoch_s, rate, rss, loss in results:
        lines.append(f"| {engine} | {epochs} | {wall:.1f} | {first:.1f} | {epoch_s:.1f} | {rate / 1e6:.2f} | "
                     f"{100 * rate / read_rate:.0f} % | {rss:.0f} | {loss:.3g} |")
    lines += ["", "Targets: peak RSS < 500 MB; streamed-epoch throughput >= 50 % of the raw read rate.",
              "The first pass reads, validates and spills the rows (float32) to a temporary file; each "
              "epoch then streams that file window by window (block shuffle, `linsgd.data.views`)."]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
