"""The huber solver's documented cap and its default penalty against hand-written conditions (what mutation
testing of lstsq/robust.py found unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.lstsq.robust import trusted_optimum


def _rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -2.0] + 0.5 + rng.standard_t(2, n)


def test_irls_stops_at_one_thousand_passes_and_says_it_did_not_converge():
    X, y = _rows(12)
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=0.5, quantile=0.5,
                            tol=-1.0)  # a tolerance no pass can meet: the documented cap of 1,000 passes ends it
    assert (found.steps, found.converged) == (1000, False)
    assert found.method.endswith("stopped after 1000 passes")


def test_a_penalty_without_l1_ratio_is_ridge():
    """Stationarity of mean huber(r) + α/2‖w‖²: −Xᵀψ(r)/n + αw = 0 and Σψ(r) = 0, ψ(r) = clip(r, −ε, ε)."""
    X, y = _rows()
    eps, alpha = 0.5, 0.2
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=eps, quantile=0.5, alpha=alpha)
    psi = np.clip(y - X @ found.w - found.b, -eps, eps)
    assert found.converged and np.all(found.w != 0)
    np.testing.assert_allclose(-X.T @ psi / len(y) + alpha * found.w, 0.0, atol=1e-5)  # the stop: moves below √tol
    assert abs(psi.mean()) < 1e-5


def test_the_linear_program_reports_a_converged_solution_of_no_irls_passes():
    X, y = _rows()
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.1, quantile=0.5)
    assert (found.converged, found.steps) == (True, 0)
    r = y - X @ found.w - found.b
    assert found.optimum == pytest.approx(np.mean(np.maximum(0.5 * r, -0.5 * r)), rel=1e-12)  # pinball, q = ½
