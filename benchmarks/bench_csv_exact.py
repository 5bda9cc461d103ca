"""What the CSV reader's 2**53 check costs: the same file read with the check and with it switched off.

Usage: python benchmarks/bench_csv_exact.py [ROWS] [REPEATS]. Writes a numeric CSV of ROWS rows x 11 columns
(default 300,000) to a temporary folder, reads it through ``encode(...).chunks()`` alternately with and
without ``CsvSource._check_exact`` (REPEATS times each, default 5) and prints the medians, their ratio and
the load average (the machine is shared: compare the ratio, measured in the same run).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from linsgd.cli import main  # noqa: E402
from linsgd.config import DataConfig  # noqa: E402
from linsgd.data.first_pass import encode  # noqa: E402
from linsgd.data.formats import csv as csv_format  # noqa: E402


def _read(path: Path) -> float:
    start = time.perf_counter()
    for _ in encode(path, DataConfig(target="y"), dtype="float32").chunks():
        pass
    return time.perf_counter() - start


def run(rows: int, repeats: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.csv"
        assert main(["generate", str(path), "--num-examples", str(rows), "--num-features", "10", "--seed", "1"]) == 0
        checked = csv_format.CsvSource._check_exact
        on, off = [], []
        for _ in range(repeats):
            csv_format.CsvSource._check_exact = checked
            on.append(_read(path))
            csv_format.CsvSource._check_exact = lambda self, batch, first: None
            off.append(_read(path))
        csv_format.CsvSource._check_exact = checked
    a, b = statistics.median(on), statistics.median(off)
    return (f"{rows} rows x 11 columns: with the check {a:.3f} s, without {b:.3f} s (medians of {repeats}), "
            f"ratio {a / b:.3f}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000, int(sys.argv[2]) if len(sys.argv) > 2 else 5))
