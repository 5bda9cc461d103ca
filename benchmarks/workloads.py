"""The benchmark workloads and the one place their data is generated."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

QUICK_DIVISOR = 100
QUICK_MIN_ROWS = 1_000  # keeps the seed workload the chapter's 1,000 rows under --quick


@dataclass(frozen=True)
class Workload:
    """One benchmark problem: y = Xw + b + ε with X ~ N(0, 1), trained by minibatch SGD.

    Args:
        name: key used by ``--workloads``. n, d: rows and features. batch, lr, epochs: SGD settings.
        true_w: the weights, or None to draw them N(0, 1) from ``w_seed``. true_b, noise: bias, σ of ε.
        seed: data seed (numpy ``default_rng``).
    """

    name: str
    n: int
    d: int
    batch: int
    lr: float
    epochs: int
    true_w: tuple[float, ...] | None = None
    true_b: float = 4.2
    noise: float = 0.01
    seed: int = 0
    w_seed: int = 1234

    def title(self) -> str:
        """A one-line description for the report heading."""
        return (f"{self.name}: n = {self.n:,}, d = {self.d}, batch {self.batch}, lr {self.lr}, "
                f"{self.epochs} epochs")


WORKLOADS = {
    "seed": Workload("seed", n=1_000, d=2, batch=10, lr=0.03, epochs=3, true_w=(2.0, -3.4)),
    "large": Workload("large", n=10_000_000, d=2, batch=10, lr=0.03, epochs=3, true_w=(2.0, -3.4)),
    "wide": Workload("wide", n=1_000_000, d=100, batch=256, lr=0.01, epochs=3),
}


def quick(wl: Workload) -> Workload:
    """The smoke-run version of ``wl``: n divided by 100, but never below 1,000 rows."""
    return replace(wl, n=max(wl.n // QUICK_DIVISOR, min(wl.n, QUICK_MIN_ROWS)))


def true_params(wl: Workload) -> tuple[np.ndarray, float]:
    """(w_true as float64 (d,), b_true); drawn from ``wl.w_seed`` when the workload gives none."""
    if wl.true_w is not None:
        return np.asarray(wl.true_w, dtype=np.float64), wl.true_b
    return np.random.default_rng(wl.w_seed).normal(0.0, 1.0, wl.d), wl.true_b


def make_data(wl: Workload) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and y (n,) in float32, C-contiguous; the same arrays are handed to every peer.

    Generated in float64 blocks and stored as float32 so a 10 M-row workload needs little extra memory.
    """
    rng = np.random.default_rng(wl.seed)
    w, b = true_params(wl)
    X = np.empty((wl.n, wl.d), dtype=np.float32)
    y = np.empty(wl.n, dtype=np.float32)
    block = 1 << 20
    for start in range(0, wl.n, block):
        stop = min(start + block, wl.n)
        Xb = rng.standard_normal((stop - start, wl.d))
        X[start:stop] = Xb
        y[start:stop] = Xb @ w + b + rng.normal(0.0, wl.noise, stop - start)
    return X, y


def initial_w(d: int, seed: int) -> np.ndarray:
    """The chapter's initialisation w ~ N(0, 0.01²), float32 (d,), shared by the peers that accept it."""
    return np.random.default_rng([seed, 1]).normal(0.0, 0.01, d).astype(np.float32)
