"""The largest learning rate at which minibatch SGD on the squared loss stays stable, computed for the batch size.

For the mean ½-squared loss, with x̃ = (x, 1), H = E[x̃x̃ᵀ] and θ* the least-squares optimum, one step on a
minibatch 𝓑 of B examples moves the error e = θ − θ* by ``e ← (I − η H_𝓑) e + η g`` (H_𝓑 the batch's
Hessian, g the batch's gradient at θ*, zero on average). The second moment P = E[eeᵀ] then evolves by the
linear map

    M(P) = P − η (HP + PH) + η² Q(P),   Q(P) = E[H_𝓑 P H_𝓑],

which maps positive semidefinite matrices to positive semidefinite ones. SGD is *mean-square stable* when
the spectral radius of M is below 1; it crosses 1 where M(P) = P for a semidefinite P, i.e. where
``(HP + PH) = η Q(P)``. So the limit is ``η_ms = 1 / ρ(L⁻¹Q)`` with L(P) = HP + PH, found by power
iteration on semidefinite matrices (L⁻¹ solves a Lyapunov equation in H's eigenbasis). For a batch of B
distinct examples drawn from the n of the data (as an epoch's shuffled slices are)::

    Q(P) = (1/B) S(P) + (1 − 1/B) · n/(n − 1) · (HPH − S(P)/n),   S(P) = (1/n) Σᵢ x̃ᵢx̃ᵢᵀ P x̃ᵢx̃ᵢᵀ,

which is HPH for B = n: full-batch gradient descent, whose limit is exactly 2/λ_max(H). Smaller batches
lower it. Above η_ms the *mean* squared error grows; a single run there may still settle for a while (the
typical run grows more slowly than the mean), so the runs that blow up for certain start somewhat above
it, and a step well below it (half of it: :func:`safe_lr`) is what a learner should pick.

>>> from linsgd.data.synthetic import make_regression
>>> X, _ = make_regression(1000, [2, -3.4], 4.2, seed=0)
>>> round(mean_square_limit(X, 10), 2), round(mean_square_limit(X, 1000), 2)
(1.46, 1.89)
"""

from __future__ import annotations

import numpy as np

_SAMPLE_ROWS = 4096  # rows used, evenly spaced (100,000 rows of the chapter's data, B = 10: 1.483 vs 1.471 from all)


def mean_square_limit(X: np.ndarray, batch_size: int, *, iters: int = 500, rtol: float = 1e-9) -> float:
    """The largest step η at which minibatch SGD with ``batch_size`` is mean-square stable on features X.

    Args:
        X: (n, d) features (the intercept's column of ones is added here). batch_size: B >= 1; a B above n
            is n (every minibatch is the whole data). iters, rtol: the power iteration's budget and stop.

    Returns:
        η_ms > 0, or nan when H is singular (a constant or duplicated column, n <= d): a direction of zero
        curvature is never pulled back, so no step is stable in the mean-square sense there.
    """
    step = max(1, len(X) // _SAMPLE_ROWS)
    A = np.hstack([np.asarray(X[::step], dtype=np.float64), np.ones((len(X[::step]), 1))])
    n, B = len(A), min(int(batch_size), len(A))
    H = A.T @ A / n
    lam, U = np.linalg.eigh(H)
    if lam[0] <= 1e-12 * max(lam[-1], 1e-300):
        return float("nan")
    denom = lam[:, None] + lam[None, :]
    with_others = 0.0 if n == 1 else (1.0 - 1.0 / B) * n / (n - 1)

    def Q(P: np.ndarray) -> np.ndarray:
        q = np.einsum("ij,jk,ik->i", A, P, A)  # x̃ᵢᵀ P x̃ᵢ
        S = (A * q[:, None]).T @ A / n
        return S / B + with_others * (H @ P @ H - S / n)

    P, rho = np.eye(len(H)), 0.0
    for _ in range(iters):
        R = U.T @ Q(P) @ U
        P_next = U @ (R / denom) @ U.T  # L⁻¹: solves HP + PH = Q(P)
        new = float(np.linalg.norm(P_next))
        P = P_next / new
        if abs(new - rho) <= rtol * new:
            rho = new
            break
        rho = new
    return 1.0 / rho


def safe_lr(X: np.ndarray, batch_size: int) -> float:
    """Half the mean-square limit (:func:`mean_square_limit`): stable, and with room for the noise."""
    return 0.5 * mean_square_limit(X, batch_size)


def full_batch_limit(X: np.ndarray) -> float:
    """2/λ_max(H): no step above it is stable for any batch size (full-batch gradient descent's limit)."""
    A = np.hstack([np.asarray(X, dtype=np.float64), np.ones((len(X), 1))])
    return 2.0 / float(np.linalg.eigvalsh(A.T @ A / len(A))[-1])
