"""How curved the loss is, and the learning rates that follow from it (stable, noise-limited, automatic).

For the mean ½-squared loss the Hessian is H = E[x̃x̃ᵀ], x̃ = (x, 1), whatever the targets: minibatch SGD
with step η and batch B is mean-square stable for η ≲ 1/(λ_max + tr(H)/B), and, with noise variance σ²,
settles at an excess loss of about η σ² tr(H)/(4B), i.e. a fraction η tr(H)/(2B) of the optimum σ²/2.
"""

from __future__ import annotations

import numpy as np

from linsgd.data.sparse_input import is_sparse

_SAMPLE_ROWS = 65_536


def curvature(X: np.ndarray, *, iters: int = 50, seed: int = 0) -> tuple[float, float]:
    """Largest eigenvalue and trace of H = E[x̃ x̃ᵀ], x̃ = (x, 1), the Hessian of the mean ½-squared loss.

    Estimated by power iteration on an evenly spaced sample of at most 65,536 rows, in float64.

    Returns:
        ``(lambda_max, trace)``.
    """
    step = max(1, X.shape[0] // _SAMPLE_ROWS)
    if is_sparse(X):
        return _sparse_curvature(X[::step][:_SAMPLE_ROWS].astype(np.float64), iters, seed)
    Xs = np.asarray(X[::step][:_SAMPLE_ROWS], dtype=np.float64)
    A = np.hstack([Xs, np.ones((len(Xs), 1))])
    H = A.T @ A / len(A)  # (d+1)²: cheap for the widths linsgd trains
    v = np.random.default_rng(seed).standard_normal(H.shape[0])
    lam = 0.0
    for _ in range(iters):
        u = H @ v
        lam = float(np.linalg.norm(u))
        if lam == 0.0 or not np.isfinite(lam):
            break
        v = u / lam
    return lam, float(np.trace(H))


def _sparse_curvature(Xs, iters: int, seed: int) -> tuple[float, float]:
    """:func:`curvature` of sparse sampled rows: H v = Ãᵀ(Ã v)/m by two sparse products, never H itself
    (d may be 2²⁰); tr(H) = mean ‖x_i‖² + 1."""
    m = Xs.shape[0]
    v = np.random.default_rng(seed).standard_normal(Xs.shape[1] + 1)
    lam = 0.0
    for _ in range(iters):
        r = Xs @ v[:-1] + v[-1]
        u = np.append(Xs.T @ r, r.sum()) / m
        lam = float(np.linalg.norm(u))
        if lam == 0.0 or not np.isfinite(lam):
            break
        v = u / lam
    return lam, float(Xs.multiply(Xs).sum() / m + 1.0)


def largest_row(X: np.ndarray, *, chunk: int = 65_536) -> float:
    """max_i ‖x̃_i‖², x̃ = (x, 1): the curvature ½(x̃·θ − y)² has along its own row, over every row of X."""
    if is_sparse(X):
        return float(np.max(np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64), initial=0.0)) + 1.0
    top = 0.0
    for a in range(0, len(X), chunk):
        block = np.asarray(X[a:a + chunk], dtype=np.float64)
        top = max(top, float(np.max(np.einsum("ij,ij->i", block, block))) + 1.0 if len(block) else 0.0)
    return top


def _stable(lam: float, trace: float, batch_size: int, row: float = 0.0) -> float:
    denom = 2.0 * (lam + trace / batch_size)
    if not (denom > 0 and np.isfinite(denom) and np.isfinite(row)):
        return float("nan")
    return min(1.0 / denom, batch_size / row) if row > 0 else 1.0 / denom


def stable_lr(X: np.ndarray, batch_size: int) -> float:
    """A learning rate at which minibatch SGD on the squared loss is stable and still fast.

    Full-batch gradient descent diverges above 2/λ_max; the noise of a minibatch of B examples lowers
    the mean-square stability bound to about ``1 / (λ_max + tr(H)/B)``. linsgd suggests half of that,
    ``1 / (2(λ_max + tr(H)/B))``, because near the bound the stationary noise of the parameters (∝ lr)
    is as large as the estimation error. For the chapter's data (unit-variance features, d = 2, B = 10)
    that is ≈ 0.38, where lr = 2 diverges.

    It is also at most ``B / max_i ‖x̃_i‖²`` (:func:`largest_row`): a batch holding one row of norm R has a
    curvature of at least R²/B along it, and a step above 2B/R² throws that row's coefficient further out at
    every visit (at B/R² a visit sets it right, whatever the rest of the batch). On Gaussian features the
    mean bound is the smaller one (the chapter's data: max ‖x̃‖² ≈ 19 over 10,000 rows, B/19 ≈ 0.52). The
    mean curvature does not see a rare row: a standardised one-hot column of a level with 1 row in 8,645
    (ISLP Bikeshare's "heavy rain/snow") is 93 on that row, R² ≈ 8,600, while tr(H) ≈ d + 1.

    >>> from linsgd.data.synthetic import make_regression
    >>> X, _ = make_regression(10_000, [2, -3.4], 4.2, seed=0)
    >>> round(stable_lr(X, 10), 2)
    0.38
    """
    return _stable(*curvature(X), batch_size, largest_row(X))


def auto_lr(X: np.ndarray, batch_size: int, *, noise_fraction: float = 0.005) -> float:
    """The learning rate of ``lr="auto"``: stable, and with a stationary noise of ``noise_fraction``.

    ``η = min(1 / (2(λ_max + tr(H)/B)), 2B·ρ / tr(H))`` with ρ = ``noise_fraction``: the first is
    :func:`stable_lr`, the second keeps SGD's stationary excess loss η tr(H)/(2B) at ρ times the optimum.
    Meant for standardised features (see :func:`standardized`), where λ_max and tr(H) = d + 1 do not
    depend on the units of the columns. For the chapter's data (d = 2, B = 10) it is ≈ 0.033, the
    chapter's own 0.03.

    Args:
        X: features (n, d). batch_size: B ≥ 1. noise_fraction: ρ > 0.

    Returns:
        η > 0 (nan when the curvature is not finite).
    """
    lam, trace = curvature(X)  # one power iteration serves both bounds
    return min(_stable(lam, trace, batch_size, largest_row(X)), 2.0 * batch_size * noise_fraction / trace)


def auto_step(Z: np.ndarray, batch_size: int, *, averaged: bool) -> float:
    """The step of ``lr="auto"`` on standardised features Z: :func:`~linsgd.sgd.lr.stable_lr` when averaging
    (the average removes the stationary noise, so the largest safe step converges fastest: raw diabetes,
    100 epochs, relative gap 5.8e-4 at stable_lr 0.098 against 5.9e-3 at auto_lr 0.0091), else
    :func:`~linsgd.sgd.lr.auto_lr` (stable, and its stationary noise capped at 0.5 % of the optimum)."""
    return stable_lr(Z, batch_size) if averaged else auto_lr(Z, batch_size)
