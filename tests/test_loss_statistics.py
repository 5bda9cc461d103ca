"""The per-epoch full-data loss from the statistics of the centred [X y]: equal to a data pass to float
rounding, and what the SGD loop reports for large in-memory data without a pass per epoch."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.engines import get_engine
from linsgd.lstsq.loss import MIN_ROWS, loss_statistics, pays_off

EPS = np.finfo(np.float64).eps


def _chapter(n, seed=0, noise=0.01, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, 2))
    return X, X @ np.array([2.0, -3.4]) + 4.2 + rng.normal(0, noise, n)


def _oracle(X, y, w, b) -> float:
    """½ mean squared residual, every residual in long double."""
    r = np.asarray(X, np.longdouble) @ np.asarray(w, np.longdouble) + np.longdouble(b) - np.asarray(y, np.longdouble)
    return float(np.mean(r * r) / 2)


@pytest.mark.parametrize("loc", [0.0, 1e4])
@pytest.mark.parametrize("w, b", [([2.0, -3.4], 4.2), ([1.7, -3.0], 3.5), ([0.0, 0.0], 0.0), ([-5.0, 9.0], 40.0)])
def test_the_loss_from_statistics_equals_the_data_pass_to_float_rounding(w, b, loc):
    """The bound: float64 rounding of the sums, amplified by the loss's own condition Var(y)·(1+‖w‖²)/loss
    (near the optimum the loss is a small difference of large sums)."""
    X, y = _chapter(MIN_ROWS, loc=loc)
    b = b - loc * (w[0] + w[1]) if loc else b  # the same residuals whatever the columns' means
    stats = loss_statistics(X, y)
    truth = _oracle(X, y, w, b)
    spread = (np.var(y) + np.sum(np.var(X, axis=0)) * (1 + np.dot(w, w))) / 2
    assert stats.loss(np.array(w), b) == pytest.approx(truth, rel=64 * EPS * (1 + spread / truth))
    # the fused engine's float64 pass agrees with the same oracle
    assert get_engine("fused").loss(X, y, np.array(w), b) == pytest.approx(truth, rel=1e-12)


def test_far_from_the_optimum_the_statistics_agree_to_a_few_ulps():
    X, y = _chapter(MIN_ROWS, seed=3)
    stats = loss_statistics(X, y)
    truth = _oracle(X, y, [0.5, 0.5], -1.0)
    assert stats.loss([0.5, 0.5], -1.0) == pytest.approx(truth, rel=1e-13)


def test_no_statistics_where_a_pass_is_cheaper_or_the_loss_is_weighted_or_the_gram_is_singular():
    X, y = _chapter(MIN_ROWS)
    assert loss_statistics(X[:-1], y[:-1]) is None  # fewer rows than MIN_ROWS
    assert loss_statistics(X, y, np.ones(len(y))) is None
    assert loss_statistics(X, X @ [1.0, 2.0] + 3.0) is None  # y exactly linear in X: not positive definite
    X[5, 1] = np.inf
    assert loss_statistics(X, y) is None
    assert loss_statistics(*_chapter(MIN_ROWS)) is not None


def test_a_diverged_model_has_a_non_finite_loss_as_a_data_pass_does():
    stats = loss_statistics(*_chapter(MIN_ROWS))
    assert not np.isfinite(stats.loss(np.array([np.inf, 1.0]), 0.0))
    assert not np.isfinite(stats.loss(np.array([1.0, 1.0]), np.nan))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_loop_reports_the_statistics_loss_of_each_epochs_model(dtype, monkeypatch):
    """Large data in memory: the history is the statistics' loss of the returned model (no pass per epoch:
    the engine's data-pass loss is never called), equal to a float64 data pass to rounding."""
    X, y = _chapter(MIN_ROWS + 10, seed=1)
    X, y = X.astype(dtype), y.astype(dtype)
    calls = []
    fused = type(get_engine("fused"))
    original = fused.loss
    monkeypatch.setattr(fused, "loss", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    r = linsgd.fit(X, y, lr=0.01, epochs=4, batch_size=10, seed=0, solver="sgd", dtype=dtype)
    assert calls == [] and len(r.history) == 4
    truth = _oracle(X, y, r.w, r.b)
    assert r.history[-1] == pytest.approx(truth, rel=1e-9)
    assert r.history[-1] < 2 * 0.5 * 0.01**2  # the floor σ²/2 = 5e-5, reached


def test_small_data_and_short_runs_keep_the_data_pass(monkeypatch):
    """The statistics cost a few loss passes (more with more features): a run gathers them when its epochs
    (all of them: a resumed run decides as the uninterrupted one) repay that. (One or two features get them
    free while the fused engine packs the rows: tests/test_loss_moments.py; three here.)"""
    assert not pays_off(3, 2) and pays_off(4, 2) and not pays_off(15, 100) and pays_off(16, 100)
    assert pays_off(16, 104) and not pays_off(15, 104)  # at the bound itself (3 + 104/8 = 16): it pays off
    calls = []
    fused = type(get_engine("fused"))
    original = fused.loss
    monkeypatch.setattr(fused, "loss", lambda self, *a, **k: calls.append(len(a[0])) or original(self, *a, **k))
    X, y = _chapter(MIN_ROWS + 10, seed=2)
    X = np.column_stack([X, np.random.default_rng(2).normal(size=len(y))])
    assert not pays_off(3, 3)
    linsgd.fit(X, y, lr=0.01, epochs=3, seed=0, solver="sgd")
    linsgd.fit(X[:5000], y[:5000], lr=0.01, epochs=4, seed=0, solver="sgd")
    assert calls == [MIN_ROWS + 10] * 3 + [5000] * 4
