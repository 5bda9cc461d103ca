"""The loss statistics of one or two features summed while the fused engine packs the rows (no pass of their
own): the same statistics as the BLAS pass of ``loss_statistics``, the same loss as a data pass to float
rounding, and what the loop reports from the first epoch on (no loss pass at all)."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.engines import get_engine
from linsgd.engines.fused import FusedEngine
from linsgd.lstsq.loss import MIN_ROWS, from_moments, loss_statistics

EPS = np.finfo(np.float64).eps


def _data(n, d, dtype, seed=0, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d))
    y = X @ np.array([2.0, -3.4][:d]) + 4.2 + rng.normal(0, 0.01, n)
    return X.astype(dtype), y.astype(dtype)


def _oracle(X, y, w, b) -> float:
    """½ mean squared residual, every residual in long double."""
    r = np.asarray(X, np.longdouble) @ np.asarray(w, np.longdouble) + np.longdouble(b) - np.asarray(y, np.longdouble)
    return float(np.mean(r * r) / 2)


def _packed_statistics(X, y):
    engine = FusedEngine()
    engine.prepare(X, y)
    assert engine.moments is not None
    return from_moments(engine.moments, X.shape[1])


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loc", [0.0, 1e3])
def test_the_packing_pass_gathers_the_statistics_of_the_blas_pass(d, dtype, loc):
    X, y = _data(MIN_ROWS + 7, d, dtype, loc=loc)
    got, blas = _packed_statistics(X, y), loss_statistics(X, y)
    assert got.n == blas.n == MIN_ROWS + 7
    scale = np.abs(blas.mean).max()
    np.testing.assert_allclose(got.mean, blas.mean, rtol=0, atol=1e-13 * scale)
    G, G_blas = got.R.T @ got.R, blas.R.T @ blas.R  # R is unique up to its rows' signs: compare RᵀR
    np.testing.assert_allclose(G, G_blas, rtol=0, atol=1e-12 * np.abs(G_blas).max())


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("loc", [0.0, 1e3])
@pytest.mark.parametrize("w, b", [([2.0, -3.4], 4.2), ([1.7, -3.0], 3.5), ([0.0, 0.0], 0.0), ([-5.0, 9.0], 40.0)])
def test_their_loss_equals_the_data_pass_to_float_rounding(d, loc, w, b):
    """The bound of tests/test_loss_statistics.py: float64 rounding of the sums, amplified by the loss's own
    condition Var(y)·(1 + ‖w‖²)/loss."""
    X, y = _data(MIN_ROWS, d, np.float64, seed=5, loc=loc)
    w = np.array(w[:d])
    b = b - loc * w.sum() if loc else b
    truth = _oracle(X, y, w, b)
    spread = (np.var(y) + np.sum(np.var(X, axis=0)) * (1 + w @ w)) / 2
    assert _packed_statistics(X, y).loss(w, b) == pytest.approx(truth, rel=64 * EPS * (1 + spread / truth))


def test_none_where_the_statistics_do_not_hold():
    X, y = _data(MIN_ROWS, 2, np.float64)
    assert _packed_statistics(X[:-1], y[:-1]) is None  # fewer rows than MIN_ROWS: as loss_statistics
    assert _packed_statistics(X, X @ [1.0, 2.0] + 3.0) is None  # y exactly linear in X: not positive definite
    X[70, 1] = np.inf
    assert _packed_statistics(X, y) is None
    engine = FusedEngine()  # three features: packed without the sums
    X3 = np.random.default_rng(0).normal(size=(MIN_ROWS, 3))
    engine.prepare(X3, X3.sum(axis=1))
    assert engine.moments is None and engine._packed is not None


@pytest.mark.parametrize("threads", [1, 2])
def test_a_one_epoch_fit_makes_no_loss_pass(threads, monkeypatch):
    """d ≤ 2 in memory: even one epoch reports the statistics' loss of its model (the engine's data-pass loss
    is never called), equal to a float64 data pass to rounding."""
    X, y = _data(MIN_ROWS + 10, 2, np.float32, seed=1)
    calls = []
    fused = type(get_engine("fused"))
    original = fused.loss
    monkeypatch.setattr(fused, "loss", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    r = linsgd.fit(X, y, lr=0.01, epochs=1, batch_size=10, seed=0, solver="sgd", threads=threads)
    assert calls == [] and len(r.history) == 1 and r.config.threads == threads
    assert r.history[-1] == pytest.approx(_oracle(X, y, r.w, r.b), rel=1e-9)


def test_a_weighted_fit_keeps_the_data_pass(monkeypatch):
    X, y = _data(MIN_ROWS + 10, 2, np.float32, seed=2)
    calls = []
    fused = type(get_engine("fused"))
    original = fused.loss
    monkeypatch.setattr(fused, "loss", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    linsgd.fit(X, y, lr=0.01, epochs=2, seed=0, solver="sgd", sample_weight=np.ones(len(y)))
    assert calls == [1, 1]
