"""The trusted optima of the huber and quantile losses against scikit-learn, on heavy-tailed synthetic rows.

Usage: python benchmarks/bench_losses.py [ROWS] [D]. ROWS x D (default 100,000 x 20) standard normal
features, y = Xw + 1 + Student-t noise with 2 degrees of freedom (outliers of every size). For each loss the
same objective is solved by linsgd (``linsgd.fit(..., solver="exact")``: IRLS for huber, HiGHS for
quantile) and by scikit-learn (``HuberRegressor`` mapped at its fitted scale, ``QuantileRegressor``; see
docs/reference.md), both objectives evaluated by one function, and the times compared with linsgd's exact
least-squares solve of the same rows. Prints one line per loss as it finishes, with the load average (the
machine is shared).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import linsgd  # noqa: E402
from linsgd.lstsq.losses import objective  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(rows: int, d: int):
    from sklearn.linear_model import HuberRegressor, QuantileRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, d))
    y = X @ rng.uniform(-2, 2, d) + 1.0 + rng.standard_t(2, rows)
    t_ls, _ = timed(lambda: linsgd.fit(X, y, solver="exact"))
    yield f"{rows} x {d}, Student-t(2) noise; squared loss, exact least squares: {t_ls:.3f} s"
    t_sk, h = timed(lambda: HuberRegressor(epsilon=1.35, alpha=1e-4, max_iter=1000).fit(X, y))
    kw = dict(loss="huber", epsilon=1.35 * h.scale_, alpha=1e-4 * h.scale_ / rows)
    t_us, r = timed(lambda: linsgd.fit(X, y, solver="exact", penalty="l2", **kw))
    ours, theirs = r.history[0], objective(X, y, h.coef_, h.intercept_, **kw)
    yield (f"huber (HuberRegressor epsilon 1.35, alpha 1e-4, mapped at scale_ {h.scale_:.4f}): linsgd "
                 f"{ours:.9g} in {t_us:.3f} s ({r.trusted.method}), scikit-learn {theirs:.9g} in {t_sk:.3f} s; "
           f"relative difference {(theirs - ours) / ours:.2e}")
    for q, a in ((0.5, 0.0), (0.9, 1e-3)):
        t_sk, m = timed(lambda q=q, a=a: QuantileRegressor(quantile=q, alpha=a, solver="highs").fit(X, y))
        kw = dict(loss="quantile", quantile=q, alpha=a, l1_ratio=1.0)
        t_us, r = timed(lambda q=q, a=a: linsgd.fit(X, y, solver="exact", loss="quantile", quantile=q,
                                                    penalty="l1", alpha=a))
        ours, theirs = r.history[0], objective(X, y, m.coef_, m.intercept_, **kw)
        yield (f"quantile {q} alpha {a:g} (QuantileRegressor): linsgd {ours:.9g} in {t_us:.3f} s, "
               f"scikit-learn {theirs:.9g} in {t_sk:.3f} s; relative difference {(theirs - ours) / ours:.2e}; "
               f"load average {os.getloadavg()[0]:.1f}")
    yield f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    for line in run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 20):
        print(line, flush=True)
