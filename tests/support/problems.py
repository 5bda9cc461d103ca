"""Test data shared by the engine test files: a wide regression problem with random true weights, and a sparse one."""

from __future__ import annotations

import numpy as np

from linsgd.data.synthetic import make_regression


def wide_problem(n: int, d: int = 100, seed: int = 0):
    """(X, y) float64: n rows, d features, true w ~ N(0, 1) from ``seed``, bias 0.5, noise 0.1."""
    true_w = np.random.default_rng(seed).normal(0.0, 1.0, d)
    return make_regression(n, true_w, 0.5, noise=0.1, seed=seed, dtype="float64")


def sparse_problem(n: int, d: int, density: float, seed: int):
    """(X, y, v, w): X an (n, d) CSR float64 matrix of standard normal non-zeros at ``density``, true w ~ N(0, 1),
    y = X w + 0.5 + N(0, 0.1²) noise, sample weights v ~ U(0.2, 2), all drawn from ``seed``."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    w = rng.standard_normal(d)
    y = X @ w + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y, rng.uniform(0.2, 2.0, n), w
