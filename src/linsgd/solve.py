"""What the data says about the problem itself: curvature and a learning rate that is stable on it."""

from __future__ import annotations

import numpy as np

_SAMPLE_ROWS = 65_536


def curvature(X: np.ndarray, *, iters: int = 50, seed: int = 0) -> tuple[float, float]:
    """Largest eigenvalue and trace of H = E[x̃ x̃ᵀ], x̃ = (x, 1), the Hessian of the mean ½-squared loss.

    Estimated by power iteration on an evenly spaced sample of at most 65,536 rows, in float64.

    Returns:
        ``(lambda_max, trace)``.
    """
    step = max(1, len(X) // _SAMPLE_ROWS)
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


def stable_lr(X: np.ndarray, batch_size: int) -> float:
    """A learning rate at which minibatch SGD on the squared loss is stable and still fast.

    Full-batch gradient descent diverges above 2/λ_max; the noise of a minibatch of B examples lowers
    the mean-square stability bound to about ``1 / (λ_max + tr(H)/B)``. linsgd suggests half of that,
    ``1 / (2(λ_max + tr(H)/B))``, because near the bound the stationary noise of the parameters (∝ lr)
    is as large as the estimation error. For the chapter's data (unit-variance features, d = 2, B = 10)
    that is ≈ 0.38, where lr = 2 diverges.
    """
    lam, trace = curvature(X)
    denom = 2.0 * (lam + trace / batch_size)
    return 1.0 / denom if denom > 0 and np.isfinite(denom) else float("nan")
