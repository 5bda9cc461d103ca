"""Averaged SGD (Polyak–Ruppert): one step in closed form, the optimum on real data, parity, resume."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from support.rule_cases import PATHS, run
from test_resume import _recorder

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.batching import epoch_order
from linsgd.data.views import InMemory, Streamed
from linsgd.engines.rule import StepRule
from linsgd.sgd.convergence import relative_gap
from linsgd.sgd.loop import train_data

from test_views import _table

X4 = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]])
Y4 = np.array([1.0, -2.0, 3.0, 0.5])


@pytest.mark.parametrize("path", PATHS)
def test_averaged_steps_equal_the_closed_form(path):
    """Two steps of batch 2, averaged from step 1: w̄ = (w₁ + w₂)/2, b̄ = (b₁ + b₂)/2."""
    w0, b0, lr, order = np.array([0.1, -0.2]), 0.3, 0.1, np.array([2, 0, 3, 1])
    w, b, iterates = w0.copy(), b0, []
    for rows in (order[:2], order[2:]):
        r = X4[rows] @ w + b - Y4[rows]
        w, b = w - lr / 2 * X4[rows].T @ r, b - lr / 2 * r.sum()
        iterates.append((w, b))
    out = run(path, X4, Y4, w0, b0, order, StepRule(lr, average_from=1), 2)
    np.testing.assert_allclose(out.w, iterates[1][0], rtol=1e-12)
    np.testing.assert_allclose(out.avg[0], (iterates[0][0] + iterates[1][0]) / 2, rtol=1e-12)
    assert out.avg[1] == pytest.approx((iterates[0][1] + iterates[1][1]) / 2, rel=1e-12)
    late = run(path, X4, Y4, w0, b0, order, StepRule(lr, average_from=2), 2)  # from step 2: w̄ = w₂
    np.testing.assert_allclose(late.avg[0], iterates[1][0], rtol=1e-12)


def test_averaged_sgd_reaches_the_optimum_on_the_chapter_data_and_on_diabetes(chapter_data):
    from sklearn.datasets import load_diabetes

    for X, y in (chapter_data, load_diabetes(return_X_y=True, scaled=False)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # converged: no ConvergenceWarning either
            r = linsgd.fit(X, y, lr="auto", epochs="auto", average="auto", seed=0, dtype="float64")
        assert relative_gap(X, y, r.w, r.b) < 1e-3


def test_constant_sgd_without_averaging_stalls_at_its_noise_floor():
    """The same lr="auto" without averaging stays ~0.5 % above the optimum however long it runs."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, scaled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaps = [relative_gap(X, y, r.w, r.b) for r in (
            linsgd.fit(X, y, lr="auto", epochs=e, seed=0, dtype="float64") for e in (10, 50))]
    assert min(gaps) > 3e-3


@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-5), ("float64", 1e-10)])
@pytest.mark.parametrize("n", [1000, 5000])
def test_fused_equals_reference_with_every_option(n, dtype, rtol):
    """Averaging, elastic net, sample weights and a decaying schedule: both fused paths follow the oracle."""
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 3)).astype(dtype)
    y = (X @ [1.0, -2.0, 0.0] + 0.5 + 0.1 * rng.standard_normal(n)).astype(dtype)
    v = (rng.integers(0, 4, n) * (n / rng.integers(0, 4, n).sum())).astype(dtype)
    rule = StepRule(0.05, schedule="invscaling", total_steps=3 * n // 10, l1=0.02, l2=0.01, average_from=30)
    ends = {}
    for path in PATHS:
        w, b, avg = np.array([0.1, 0.0, -0.1], dtype=dtype), 0.0, None
        for epoch in range(2):
            out = run(path, X, y, w, b, epoch_order(1, epoch, n), rule, 10, t0=epoch * (n // 10), avg=avg,
                      weight=v)
            w, b, avg = out.w, out.b, out.avg
        ends[path] = np.concatenate([w, [b], avg[0], [avg[1]]])
    np.testing.assert_allclose(ends["fused-numpy"], ends["reference"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ends["fused-numba"], ends["reference"], rtol=rtol, atol=rtol)


@pytest.mark.parametrize("streamed", [False, True])
def test_resume_with_averaging_and_a_schedule_is_bit_identical(engine, streamed, tmp_path):
    X, y = linsgd.make_regression(503, [2, -3.4, 1.0], 4.2, seed=5)
    data = Streamed(_table(X, y, tmp_path), window_rows=64, piece_rows=16) if streamed else InMemory(X, y)
    config = TrainConfig(lr=0.05, epochs=3, batch_size=10, engine=engine, seed=5, average=True,
                         schedule="cosine", penalty="l2", alpha=0.01)
    rec = _recorder(7, "steps")
    full = train_data(data, config, checkpoints=rec)
    for state in rec.states[::5]:
        assert state.wa is not None and state.step > 0
        resumed = train_data(data, config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history
