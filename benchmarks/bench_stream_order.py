"""Streamed order on sorted files: how far from the least-squares optimum each path lands, and how fast.

The data: n × d, y = Xw + 1 + N(0, 1), written by pandas to Parquet (row groups of 65,536) twice — rows
sorted by y (the worst case of files sorted by time or key) and the same rows shuffled. Each path trains
with ``linsgd train``'s defaults (lr, epochs and average "auto", ``--solver sgd``) through
:func:`linsgd.fit_file`, in this process, one after the other:

* in memory (no budget);
* streamed sorted / streamed shuffled: ``max_memory`` (default 32M) makes the rows spill and stream in
  windows in the stratified block shuffle of :mod:`linsgd.data.views`;
* streamed sorted, previous order: the streamed path before the strata (pieces of window/8 rows permuted
  over the whole file, consecutive pieces grouped into windows, no read-ahead), reproduced here by
  overriding ``Streamed.windows`` and ``Streamed.epoch_runs``, for a same-run comparison.

Then the epoch throughput of the two orders alone, alternating on one spilled table (:func:`epoch_rates`).

Per run: the distance of the answer from the exact optimum computed on the same rows (max over coefficients
in standard errors, and the Mahalanobis distance), the relative optimality gap, and examples/s = n·epochs /
the epochs' seconds (the first pass excluded; the kernels are compiled on a small file first). The load
average is printed before and after.

    python benchmarks/bench_stream_order.py --out benchmarks/STREAM_ORDER_RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings

import numpy as np

import linsgd.runs.run as file_runs
from linsgd.cli.options import parse_size
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.views import InMemory, Streamed


class PreviousOrder(Streamed):
    """Today's path before the strata: pieces of window_rows // 8 rows in one global permutation, grouped
    into windows, each window read when the engine asks for it (no read-ahead)."""

    def __init__(self, table, window_rows: int) -> None:
        super().__init__(table, window_rows, piece_rows=max(1, window_rows // 8))

    def windows(self, seed: int, epoch: int):
        order = np.random.default_rng([seed, 3, epoch]).permutation(len(self.pieces))
        group, rows, k = [], 0, 0
        for i, p in enumerate(order):
            group.append(self.pieces[p])
            rows += self.pieces[p][1] - self.pieces[p][0]
            if rows >= self.window_rows or i == len(order) - 1:
                yield group, np.random.default_rng([seed, 4, epoch, k]).permutation(rows)
                group, rows, k = [], 0, k + 1

    def epoch_runs(self, order, batch_size: int):
        d, dtype = self.table.d, self.table.dtype
        carry_X, carry_y, carry_v = np.empty((0, d), dtype=dtype), np.empty(0, dtype=dtype), np.empty(0, dtype=dtype)
        last, seen = len(self.pieces), 0
        for group, perm in self.windows(*order):
            c = len(carry_y)
            X, y, v = self.table.read_raw(group, head=c)
            X[:c], y[:c] = carry_X, carry_y
            if v is not None:
                v[:c] = carry_v
            visit = np.concatenate([np.arange(c), c + perm])
            seen += len(group)
            use = len(y) if seen == last else len(y) // batch_size * batch_size
            if use:
                yield self.table.transform(X), y, visit[:use], v
            carry_X, carry_y = X[visit[use:]], y[visit[use:]]
            carry_v = v[visit[use:]] if v is not None else carry_v


def write_data(folder: str, n: int, d: int) -> dict[str, str]:
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.uniform(-2, 2, d) + 1 + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)]).assign(y=y)
    paths = {"sorted": os.path.join(folder, "sorted.parquet"), "shuffled": os.path.join(folder, "shuffled.parquet")}
    df.sort_values("y").to_parquet(paths["sorted"], row_group_size=65_536, index=False)
    df.sample(frac=1.0, random_state=1).to_parquet(paths["shuffled"], row_group_size=65_536, index=False)
    return paths


def train(path: str, budget: int | None, seed: int, view=None) -> dict:
    original = file_runs._view
    if view is not None:
        file_runs._view = lambda table, window: None if table is None else (
            InMemory(table.X, table.y, table.v) if table.in_memory else view(table, window))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = fit_file(path, budget, seed)
    finally:
        file_runs._view = original
    r, gap = run.result, run.model.metrics["train"]["optimality_gap"]
    return {"streamed": run.streamed, "epochs": len(r.history), "seconds": sum(r.epoch_seconds),
            "rate": run.train_rows * len(r.history) / sum(r.epoch_seconds), "se": gap["max_se_units"],
            "mahalanobis": gap["mahalanobis"], "relative": gap["relative"],
            "warned": any("not converged" in str(w.message) or "standard errors" in str(w.message) for w in caught)}


def epoch_rates(path: str, budget: int, folder: str, repeats: int) -> dict[str, list[float]]:
    """Examples/s of plain streamed epochs (lr 0.01, batch 10, 2 epochs, the loss pass included) over one
    spilled float32 table of ``path``'s rows, the two orders alternating ``repeats`` times: the cost of the
    order itself, with the load of the moment shared."""
    import pyarrow.parquet as pq

    from linsgd.data.row_store import RowStore
    from linsgd.sgd.loop import train_data

    rows = pq.read_table(path).to_pandas().to_numpy(np.float32)
    d = rows.shape[1] - 1
    table = RowStore(d, "float32", folder)
    table.spill()
    for a in range(0, len(rows), 1 << 18):
        table.append(rows[a:a + (1 << 18)])
    table.finish(None)
    window = budget // (4 * (d + 1) * 4)
    rates: dict[str, list[float]] = {"stratified, read ahead (now)": [], "previous": []}
    try:
        for view in (Streamed, PreviousOrder):  # untimed: the kernels of this table's signatures compiled
            train_data(view(table, window), TrainConfig(lr=0.01, epochs=1, batch_size=10, seed=0))
        for rep in range(repeats):
            for name, view in (("stratified, read ahead (now)", Streamed), ("previous", PreviousOrder)):
                r = train_data(view(table, window), TrainConfig(lr=0.01, epochs=2, batch_size=10, seed=rep))
                rates[name].append(table.n * 2 / sum(r.epoch_seconds))
    finally:
        table.close()
    return rates


def fit_file(path, budget, seed):
    config = TrainConfig(lr="auto", epochs="auto", average="auto", seed=seed, solver="sgd")
    return file_runs.fit_file(path, DataConfig(target="y", max_memory=budget), config)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--features", type=int, default=10)
    p.add_argument("--max-memory", default="32M")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--repeats", type=int, default=5, help="alternations of the epoch-throughput comparison")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    budget = parse_size(a.max_memory)
    load0, t0 = os.getloadavg(), time.perf_counter()
    cases = [("in memory (sorted file)", "sorted", None, None),
             ("streamed sorted", "sorted", budget, None),
             ("streamed shuffled", "shuffled", budget, None),
             ("streamed sorted, previous order", "sorted", budget, PreviousOrder)]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        paths = write_data(folder, a.rows, a.features)
        os.mkdir(os.path.join(folder, "warm"))
        warm = write_data(os.path.join(folder, "warm"), 20_000, a.features)
        for mem in (None, 1 << 18):  # compile the kernels' signatures (cached) before anything is timed
            train(warm["shuffled"], mem, 0)
        for seed in (int(s) for s in a.seeds.split(",")):
            for name, data, mem, view in cases:
                r = train(paths[data], mem, seed, view)
                results.append((name, seed, r))
                print(f"{name:34s} seed {seed}: {r['se']:.3g} SE (Mahalanobis {r['mahalanobis']:.3g}), relative "
                      f"gap {r['relative']:.3g}, {r['epochs']} epochs, {r['rate'] / 1e6:.2f} M examples/s"
                      f"{', warned' if r['warned'] else ''}", flush=True)
        rates = epoch_rates(paths["sorted"], budget, folder, a.repeats)
        for name, v in rates.items():
            print(f"epochs, {name}: median {np.median(v) / 1e6:.2f} M examples/s "
                  f"({', '.join(f'{x / 1e6:.2f}' for x in v)})", flush=True)
    load1, wall = os.getloadavg(), time.perf_counter() - t0
    if a.out:
        write_table(a, results, rates, load0, load1, wall)


def write_table(a, results, rates, load0, load1, wall) -> None:
    lines = ["# Streamed order on a file sorted by its target", "",
             f"`python benchmarks/bench_stream_order.py --rows {a.rows} --features {a.features} --max-memory "
             f"{a.max_memory} --seeds {a.seeds} --repeats {a.repeats}` on {platform.machine()}, "
             f"{os.cpu_count()} cores, Python "
             f"{platform.python_version()}; {wall:.0f} s in all. Load average (1, 5, 15 min) before "
             f"{', '.join(f'{v:.2f}' for v in load0)}, after {', '.join(f'{v:.2f}' for v in load1)} (the "
             f"machine was shared: compare the rows with each other, not with other runs).", "",
             f"Data: {a.rows:,} × {a.features} float64, y = Xw + 1 + N(0, 1), written by pandas to Parquet "
             f"(row groups of 65,536), once sorted by y and once shuffled. Training: lr, epochs and average "
             f"\"auto\", `--solver sgd`, float32; distance to the exact optimum of the same rows.", "",
             "| path | seed | max SE per coefficient | Mahalanobis | relative gap | epochs | M examples/s |",
             "|---|---|---|---|---|---|---|"]
    for name, seed, r in results:
        lines.append(f"| {name} | {seed} | {r['se']:.3g} | {r['mahalanobis']:.3g} | {r['relative']:.2g} | "
                     f"{r['epochs']} | {r['rate'] / 1e6:.2f} |")
    lines += ["", f"Epoch throughput of the order alone: one spilled float32 table of the sorted file, plain SGD "
              f"(lr 0.01, batch 10, 2 epochs, the loss pass included), the two orders alternating {a.repeats} "
              f"times (M examples/s):", "", "| order | median | runs |", "|---|---|---|"]
    for name, v in rates.items():
        lines.append(f"| {name} | {np.median(v) / 1e6:.2f} | {', '.join(f'{x / 1e6:.2f}' for x in v)} |")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
