"""Peak memory of ``linsgd train`` on an svmlight file: streamed under ``--max-memory`` against in memory.

Writes benchmarks/SVMLIGHT_MEMORY_RESULTS.md. The rows are ``bench_sparse.hashed_rows`` (30 hashed Zipf
fields per row into 2^20 columns), ROWS of them (default 300,000) written as svmlight text. Three runs of
``linsgd train`` in fresh processes, one epoch of SGD each (batch 10, lr 0.01, float32): a 100-row file (the
process baseline: Python, numpy, scipy, numba's kernels, the model's 2^20 weights), the big file in memory
(the default budget), and the big file streamed under ``--max-memory BUDGET`` (default 32M). The peak is the
child's maximum resident set (``getrusage``), measured in order of increasing expected size.

Run (one command, ~2 minutes on 2 cores):
``PYTHONPATH=src .venv/bin/python benchmarks/bench_svmlight_memory.py [ROWS] [BUDGET]``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sparse import BITS, hashed_rows  # noqa: E402
from machine import describe  # noqa: E402


def train(path: Path, out: Path, *flags) -> tuple[float, float, str]:
    """(peak RSS MiB of the child so far, seconds, its first output line) of one ``linsgd train`` run."""
    cmd = [sys.executable, "-m", "linsgd", "train", str(path), "--out", str(out), "--solver", "sgd", "--epochs",
           "1", "--lr", "0.01", "--seed", "0", *flags]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if run.returncode:
        raise SystemExit(run.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return peak, seconds, run.stdout.splitlines()[0]


def main() -> None:
    from sklearn.datasets import dump_svmlight_file

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    budget = sys.argv[2] if len(sys.argv) > 2 else "32M"
    load0 = os.getloadavg()
    w_star = 0.3 * np.random.default_rng(7).standard_normal(1 << BITS)
    X, y = hashed_rows(rows, 1, w_star)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dump_svmlight_file(X[:100], y[:100], str(tmp / "small.svm"), zero_based=False)
        dump_svmlight_file(X, y, str(tmp / "big.svm"), zero_based=False)
        size = (tmp / "big.svm").stat().st_size
        csr = (X.nnz * 8 + rows * 4) / 2**20  # float32 values, int32 indices and row pointers
        base = train(tmp / "small.svm", tmp / "r0")
        streamed = train(tmp / "big.svm", tmp / "r1", "--max-memory", budget)
        memory = train(tmp / "big.svm", tmp / "r2")
    load1 = os.getloadavg()
    out = ["# svmlight: peak memory streamed under --max-memory against in memory", "",
           "`PYTHONPATH=src .venv/bin/python benchmarks/bench_svmlight_memory.py` (its docstring says what runs). "
           f"Load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end, on {os.cpu_count()} CPUs.", "",
           *describe(Path(__file__).resolve().parent.parent), "",
           f"Data: {rows:,} rows × 2^{BITS} hashed columns, {X.nnz / rows:.1f} non-zeros per row; the svmlight "
           f"file {size / 2**20:.1f} MiB; its rows as float32 CSR {csr:.1f} MiB.", "",
           "| run | peak RSS (MiB) | above the baseline (MiB) | seconds | what it printed |", "|---|---|---|---|---|"]
    for name, (peak, seconds, line) in (("100 rows (baseline)", base), (f"streamed, --max-memory {budget}", streamed),
                                        ("in memory (default budget)", memory)):
        out.append(f"| {name} | {peak:.0f} | {peak - base[0]:.0f} | {seconds:.1f} | {line} |")
    text = "\n".join(out) + "\n"
    (Path(__file__).resolve().parent / "SVMLIGHT_MEMORY_RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
