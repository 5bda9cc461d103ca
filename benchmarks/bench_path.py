"""What the whole regularisation path costs against one exact pass, streamed from a Parquet file.

Usage: python benchmarks/bench_path.py [ROWS] [REPEATS]. Writes ROWS rows x 50 features (+ y; default
2,000,000, float64, a sparse truth of 10 nonzero weights plus noise) to a temporary Parquet file, then reads
it record batch by record batch (never whole) alternately through ``linsgd.exact`` (one pass, the lasso at
one α) and ``linsgd.path`` (one pass, the lasso at scikit-learn's 100 default α, warm-started), REPEATS times
each (default 3). Prints the medians, their ratio, the path's own solve time on the factor, and the load
average (the machine is shared: compare the ratio, measured in the same run).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import linsgd  # noqa: E402
from linsgd.lstsq.path import alpha_grid, solve_path  # noqa: E402

D = 50
BATCH_ROWS = 65_536


def write(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    w = np.zeros(D)
    w[:10] = rng.uniform(-3, 3, 10)
    names = [f"x{j}" for j in range(D)] + ["y"]
    with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in names]), compression="none") as out:
        for start in range(0, rows, 500_000):
            X = rng.standard_normal((min(500_000, rows - start), D))
            y = X @ w + 1.0 + rng.standard_normal(len(X))
            out.write_table(pa.Table.from_arrays([*X.T, y], names=names))


def chunks(path: Path):
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        A = np.column_stack([batch.column(j).to_numpy() for j in range(D + 1)])
        yield A[:, :D], A[:, D]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(rows: int, repeats: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.parquet"
        write(path, rows)
        exact, full = [], []
        for _ in range(repeats):
            t, solution = timed(lambda: linsgd.exact(chunks(path), alpha=0.01, l1_ratio=1.0))
            exact.append(t)
            t, p = timed(lambda: linsgd.path(chunks(path), l1_ratio=1.0))
            full.append(t)
        state = linsgd.LeastSquares.empty(D)
        for X, y in chunks(path):
            state = state.update(X, y)
        solve, _ = timed(lambda: solve_path(state, alpha_grid(state, 1.0), 1.0, [f"x{j}" for j in range(D)]))
    k = int(np.argmin(np.abs(p.alphas - 0.01)))
    a, b = statistics.median(exact), statistics.median(full)
    return (f"{rows} rows x {D} features, streamed from Parquet in batches of {BATCH_ROWS}: one exact pass "
            f"{a:.3f} s, the path of {len(p.alphas)} alphas {b:.3f} s (medians of {repeats}), ratio {b / a:.3f}; "
            f"the path's solve on the factor alone {solve:.3f} s; nonzero coefficients along the path "
            f"{int(np.count_nonzero(p.coefs[:, -1]))} at the smallest alpha, {int(np.count_nonzero(p.coefs[:, k]))} "
            f"near alpha 0.01 (the exact solve there: {int(np.count_nonzero(solution.w))}); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
