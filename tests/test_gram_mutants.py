"""The Gram path's refinement step and its defaults against numpy's SVD least squares on the centred rows
(what mutation testing of lstsq/gram.py found unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.lstsq.gram import centred_gram, gram_factor, refine_centred
from linsgd.lstsq.qr import LeastSquares


def _near_the_bound(n=5000, k=90.0):
    """Two columns of condition number k (just inside the Gram path's bound of 100), far from the origin."""
    rng = np.random.default_rng(5)
    Q = np.linalg.qr(rng.normal(size=(n, 2)) - rng.normal(size=(n, 2)).mean(axis=0))[0]
    rho = (k * k - 1) / (k * k + 1)
    X = np.column_stack([Q[:, 0], rho * Q[:, 0] + np.sqrt(1 - rho * rho) * Q[:, 1]]) * 50 + 1000.0
    return X, X @ [2.0, -1.0] + 5.0 + rng.normal(size=n)


def test_one_refinement_step_takes_the_gram_solution_tenfold_closer_to_the_least_squares_one():
    X, y = _near_the_bound()
    n, mean, R, lo, hi = gram_factor(X, y)
    raw = LeastSquares(True, n, mean, R, lo, hi, float(n)).solution()
    refined = refine_centred(raw, X, y)
    Xc = X - X.mean(axis=0)
    w = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]  # SVD: error ≈ κε, the Gram matrix's ≈ κ²ε
    before, after = (np.max(np.abs(s.w - w) / np.abs(w)) for s in (raw, refined))
    assert before > 1e-13  # the squared condition number shows
    assert after < before / 10 and after < 5e-13, (before, after)
    assert refined.b == pytest.approx(y.mean() - X.mean(axis=0) @ w, rel=1e-12)


def test_the_gram_matrix_is_centred_by_default():
    rng = np.random.default_rng(6)
    X = rng.normal(3.0, 1.0, size=(500, 3))
    y = rng.normal(-2.0, 1.0, 500)
    n, mean, G, _, _ = centred_gram(X, y)
    A = np.column_stack([X, y])
    assert n == 500
    np.testing.assert_allclose(mean, A.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(G, (A - A.mean(axis=0)).T @ (A - A.mean(axis=0)), rtol=1e-10)


@pytest.mark.parametrize("n", range(8, 31))
def test_blocks_of_seven_rows_with_any_last_block_give_the_gram_matrix_by_hand(n):
    """Blocks of 7 rows of [X y 1] (d + 2 = 5 columns): whatever size the last block of each half has."""
    rng = np.random.default_rng(n)
    X, y = rng.normal(size=(n, 3)), rng.normal(size=n)
    count, mean, G, lo, hi = centred_gram(X, y, rows=7)
    A = np.column_stack([X, y])
    assert count == n
    np.testing.assert_allclose(G, (A - A.mean(axis=0)).T @ (A - A.mean(axis=0)), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(lo, X.min(axis=0))
    np.testing.assert_array_equal(hi, X.max(axis=0))


@pytest.mark.parametrize("k, taken", [(99.5, True), (100.5, False)])
def test_the_gram_path_takes_every_condition_number_up_to_a_hundred(k, taken):
    """The documented bound κ²ε ≤ 2.2e-12 is κ ≤ 100: two unit, centred columns at correlation ρ have
    κ = √((1+ρ)/(1−ρ)); κ = 99.5 is taken, 100.5 is not."""
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(2000, 2))
    Q = np.linalg.qr(Z - Z.mean(axis=0))[0]
    rho = (k * k - 1) / (k * k + 1)
    X = np.column_stack([Q[:, 0], rho * Q[:, 0] + np.sqrt(1 - rho * rho) * Q[:, 1]]) + 7.0
    assert k * k * np.finfo(np.float64).eps <= 2.2e-12 or not taken
    assert (gram_factor(X, rng.normal(size=2000)) is not None) == taken


def test_refine_centred_takes_its_block_rows_by_keyword_only():
    X, y = _near_the_bound(n=300)
    n, mean, R, lo, hi = gram_factor(X, y)
    raw = LeastSquares(True, n, mean, R, lo, hi, float(n)).solution()
    with pytest.raises(TypeError):
        refine_centred(raw, X, y, 7)


def test_centred_gram_takes_its_settings_by_keyword_only():
    X, y = _near_the_bound(n=300)
    with pytest.raises(TypeError):
        centred_gram(X, y, False)


def test_gram_factor_takes_its_settings_by_keyword_only():
    X, y = _near_the_bound(n=300)
    assert gram_factor(X, y, fit_intercept=True, rows=7) is not None
    with pytest.raises(TypeError):
        gram_factor(X, y, False)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_refinement_step_corrects_a_known_error_in_w_b_and_the_rss(fit_intercept):
    """The step is exact for an error that is linear in the rows: a solution whose w is off by e (and, with an
    intercept, whose ȳ is off by δ and b = ȳ − x̄·w) is taken by δw = (RxxᵀRxx)⁻¹Σ x̃r, δb = Σr/n − x̄·δw and
    RSS = Σr² − gᵀδw − (Σr)²/n to the least-squares answer and its RSS (numpy's, by SVD)."""
    import dataclasses

    from linsgd.lstsq.qr import exact

    rng = np.random.default_rng(8)
    X = rng.normal(2.0, 1.0, size=(400, 3))
    y = X @ [1.0, -0.5, 0.25] + 3.0 * fit_intercept + rng.normal(size=400)
    A = np.column_stack([X, np.ones(400)]) if fit_intercept else X
    theta, rss = np.linalg.lstsq(A, y, rcond=None)[:2]
    solution = exact(X, y, fit_intercept=fit_intercept)
    e, delta = np.array([0.2, -0.1, 0.05]), 0.3 * fit_intercept
    b = solution.b + (delta - solution.mean @ e if fit_intercept else 0.0)  # b = ȳ − x̄·w, as a solution's is
    off = dataclasses.replace(solution, w=solution.w + e, b=b, y_mean=solution.y_mean + delta, rss=0.0)
    refined = refine_centred(off, X, y)
    np.testing.assert_allclose(refined.w, theta[:3], rtol=1e-10)
    assert refined.b == pytest.approx(theta[3] if fit_intercept else 0.0, rel=1e-10, abs=1e-12)
    assert refined.rss == pytest.approx(float(rss[0]), rel=1e-10)


def test_the_refined_rss_of_an_exact_fit_is_never_below_zero():
    """On rows that a linear model fits exactly the RSS is 0, and a sum of squares is never negative. A solution
    off by a large e makes the step's RSS Σr² − gᵀδw (both ~10⁸) cancel to rounding of either sign: the refined
    RSS is that rounding floored at 0, never a negative number (over 40 draws some roundings are negative)."""
    import dataclasses

    from linsgd.lstsq.qr import exact

    rss = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(200, 3))
        y = X @ [1.0, -2.0, 0.5]  # exact: the least-squares RSS is 0
        solution = exact(X, y, fit_intercept=False)
        off = dataclasses.replace(solution, w=solution.w + rng.normal(0.0, 1e3, 3), rss=0.0)
        rss.append(refine_centred(off, X, y).rss)
    assert min(rss) >= 0.0
    assert max(rss) < 1e-4  # rounding of sums of ~10⁸ (seen: up to 5e-7), not a residual
