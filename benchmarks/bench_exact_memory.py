"""The exact least-squares answer on 1,000,000 × 20 float64 rows in memory, against its peers in the same run.

Usage: python benchmarks/bench_exact_memory.py [--rows N] [--repeats K] [--out FILE]. Times, interleaved
(median of K after one warm-up each): ``linsgd.fit(solver="exact")``, ``LinearRegressor()`` (its default,
solver "auto"), the QR pass that ``fit(solver="exact")`` ran before the Gram path (the same call with the
Gram path switched off), glum's ``GeneralizedLinearRegressor(alpha=0)`` when installed, scikit-learn's
``Ridge`` and ``LinearRegression``; every answer is checked against linsgd's (max |Δw| relative to max |w|).
The load average is printed: the machine is shared, so compare ratios, measured side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import linsgd  # noqa: E402
from linsgd.lstsq import qr  # noqa: E402


def _qr_only(X, y):
    """``fit(solver="exact")`` as it ran before the Gram path: the QR pass and the long-double refinement."""
    saved = qr.gram_factor
    qr.gram_factor = lambda *a, **k: None
    try:
        r = linsgd.fit(X, y, solver="exact")
    finally:
        qr.gram_factor = saved
    return r.w, r.b


def contenders() -> dict:
    from sklearn.linear_model import LinearRegression, Ridge

    def ridge(X, y):
        m = Ridge(alpha=1e-8).fit(X, y)  # the least-squares answer up to 1e-8 of shrinkage
        return m.coef_, m.intercept_

    def linreg(X, y):
        m = LinearRegression().fit(X, y)
        return m.coef_, m.intercept_

    def regressor(X, y):
        m = linsgd.LinearRegressor().fit(X, y)
        return m.coef_, m.intercept_

    def exact(X, y):
        r = linsgd.fit(X, y, solver="exact")
        return r.w, r.b

    out = {"linsgd fit(solver='exact')": exact, "linsgd LinearRegressor()": regressor,
           "before: linsgd's QR pass (Gram path off)": _qr_only}
    try:
        from glum import GeneralizedLinearRegressor

        def glum(X, y):
            m = GeneralizedLinearRegressor(alpha=0.0).fit(X, y)
            return m.coef_, m.intercept_

        out["peer: glum GeneralizedLinearRegressor(alpha=0)"] = glum
    except ImportError:
        pass
    out["peer: scikit-learn Ridge(alpha=1e-8)"] = ridge
    out["peer: scikit-learn LinearRegression"] = linreg
    return out


def measure(rows: int, d: int, repeats: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, d))
    y = X @ rng.normal(size=d) + 4.2 + rng.normal(0, 0.5, rows)
    runs = contenders()
    times: dict[str, list[float]] = {k: [] for k in runs}
    answers = {k: f(X, y) for k, f in runs.items()}  # warm-up: imports, BLAS threads, page faults
    for _ in range(repeats):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f(X, y)
            times[k].append(time.perf_counter() - t0)
    w0 = np.asarray(answers["linsgd fit(solver='exact')"][0])
    diff = {k: float(np.max(np.abs(np.asarray(w) - w0)) / np.max(np.abs(w0))) for k, (w, _) in answers.items()}
    return times, diff


def report(times: dict, diff: dict, rows: int, d: int, repeats: int, before: str, after: str) -> str:
    ridge = statistics.median(times["peer: scikit-learn Ridge(alpha=1e-8)"])
    lines = [f"## Exact least squares on {rows:,} × {d} float64 rows in memory", "",
             f"Median of {repeats} interleaved runs after a warm-up each; load average (1, 5, 15 min) before: "
             f"{before}, after: {after} — a shared 2-core machine: compare the ratios, measured side by side.", "",
             "| contender | median s | runs | ÷ Ridge | max abs Δw ÷ max abs w (vs linsgd exact) |",
             "|---|---|---|---|---|"]
    for k, ts in times.items():
        m = statistics.median(ts)
        lines.append(f"| {k} | {m:.3f} | {', '.join(f'{t:.2f}' for t in ts)} | {m / ridge:.2f} | {diff[k]:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=None, help="append the markdown table to this file (default: print)")
    args = p.parse_args(argv)
    before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    times, diff = measure(args.rows, args.features, args.repeats)
    after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    text = report(times, diff, args.rows, args.features, args.repeats, before, after)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
