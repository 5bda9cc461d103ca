"""Cross-validation speed: 5-fold ``cross_val_score`` of ``LinearRegressor(epochs=50)`` against scikit-learn's
``StandardScaler + SGDRegressor(max_iter=50, tol=None)`` on 3,000 × 10, measured in the same process.

Each side is run once first (imports, numba's cached kernels), then the two alternate, best of ``--repeat``.
The machine may be shared: the ratio is what counts. Writes ``benchmarks/CV_RESULTS.md``.

    PYTHONPATH=src python benchmarks/bench_cv.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import SGDRegressor
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from linsgd import LinearRegressor


def problem(n: int = 3000, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d) + rng.uniform(-5, 5, d)
    return X, X @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    X, y = problem()
    models = {"linsgd LinearRegressor(epochs=50)": LinearRegressor(epochs=50, random_state=0),
              "sklearn StandardScaler + SGDRegressor(max_iter=50, tol=None)":
                  make_pipeline(StandardScaler(), SGDRegressor(max_iter=50, tol=None, random_state=0))}
    best, scores = dict.fromkeys(models, float("inf")), {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, m in models.items():
            scores[name] = cross_val_score(m, X, y, cv=5).mean()
        for _ in range(args.repeat):
            for name, m in models.items():
                t = time.perf_counter()
                cross_val_score(m, X, y, cv=5)
                best[name] = min(best[name], time.perf_counter() - t)
    ours, theirs = best.values()
    lines = ["# 5-fold cross-validation: linsgd against scikit-learn (3,000 × 10)", "",
             f"Best of {args.repeat} alternating runs after one warm-up each, one process, on a shared 2-core "
             f"virtual machine (load average {os.getloadavg()[0]:.2f} when it finished).", "",
             "| model | seconds (5 folds) | mean R² |", "|---|---|---|"]
    lines += [f"| {name} | {best[name]:.4f} | {scores[name]:.6f} |" for name in models]
    lines += ["", f"linsgd / scikit-learn time: **{ours / theirs:.2f}×**"]
    text = "\n".join(lines) + "\n"
    print(text)
    (Path(__file__).parent / "CV_RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
