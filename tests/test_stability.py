"""linsgd.sgd.stability: the mean-square stability limit of minibatch SGD, against its definition and runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import linsgd
from linsgd.data.synthetic import make_regression
from linsgd.sgd.stability import full_batch_limit, mean_square_limit, safe_lr


def second_moment_radius(X: np.ndarray, B: int, lr: float) -> float:
    """ρ of E[(I − ηH_𝓑) ⊗ (I − ηH_𝓑)] for a batch of B distinct rows, built densely by enumerating
    the pairs of rows (an oracle independent of the module's power iteration)."""
    A = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
    n, D = A.shape
    G = np.einsum("ij,ik->ijk", A, A)  # x̃ᵢx̃ᵢᵀ
    # E[H_𝓑 ⊗ H_𝓑] = (1/B²)(B·E_i[Gᵢ⊗Gᵢ] + B(B−1)·E_{i≠j}[Gᵢ⊗Gⱼ])
    same = sum(np.kron(g, g) for g in G) / n
    total = np.kron(G.sum(0), G.sum(0))
    pairs = (total - same * n) / (n * (n - 1))
    E2 = (B * same + B * (B - 1) * pairs) / B**2
    H = G.mean(0)
    eye = np.eye(D)
    M = np.kron(eye, eye) - lr * (np.kron(H, eye) + np.kron(eye, H)) + lr**2 * E2
    return float(np.max(np.abs(np.linalg.eigvals(M))))


@pytest.mark.parametrize("B", [1, 4, 10, 60])
def test_the_limit_is_where_the_second_moment_stops_shrinking(B):
    X, _ = make_regression(60, [2, -3.4], 4.2, seed=1)
    lim = mean_square_limit(X, B)
    assert second_moment_radius(X, B, 0.98 * lim) < 1 < second_moment_radius(X, B, 1.02 * lim)


def test_full_batch_is_two_over_the_largest_curvature_and_smaller_batches_lower_it():
    X, _ = make_regression(1000, [2, -3.4], 4.2, seed=0)
    A = np.hstack([X.astype(np.float64), np.ones((1000, 1))])
    two_over = 2 / np.linalg.eigvalsh(A.T @ A / 1000)[-1]
    assert mean_square_limit(X, 1000) == pytest.approx(two_over, rel=1e-6)
    assert mean_square_limit(X, 5000) == mean_square_limit(X, 1000)  # a batch above n is n
    assert full_batch_limit(X) == pytest.approx(two_over, rel=1e-9)
    limits = [mean_square_limit(X, B) for B in (1, 10, 100, 1000)]
    assert limits == sorted(limits) and limits[0] < 0.5 * limits[-1]
    assert safe_lr(X, 10) == pytest.approx(limits[1] / 2)
    assert np.isnan(mean_square_limit(X[:2], 10))  # 2 rows, 3 parameters: a flat direction


def _final_loss(X, y, lr, B, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return linsgd.fit(X, y, lr=lr, epochs=20, batch_size=B, seed=seed).history[-1]
        except linsgd.DivergenceError:
            return np.inf


@pytest.mark.parametrize("B", [10, 1000])
def test_runs_below_the_limit_settle_and_runs_above_it_blow_up(B):
    X, y = make_regression(1000, [2, -3.4], 4.2, seed=0)
    lim, start = mean_square_limit(X, B), 0.5 * float(np.mean(y.astype(np.float64) ** 2))
    best = linsgd.exact(X, y).loss
    for seed in range(3):
        assert _final_loss(X, y, 0.9 * lim, B, seed) < 10 * best
        # above it the error grows: past the starting loss (full batch: slowly), or to inf
        assert _final_loss(X, y, 1.3 * lim, B, seed) > start
    assert _final_loss(X, y, 1.1 * mean_square_limit(X, 1000), 1000, 0) > start  # GD: sharp at 2/λ_max
