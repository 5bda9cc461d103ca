"""The sparse engine against the dense engines on the same data densified: the same trajectory within float
rounding (every option of the rule it keeps: schedule, L2, averaging, weights, a resumed segment), a closed
form for one step, and the lazy scale folded into the weights once it gets tiny."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from support.rule_cases import run

from linsgd._small import SMALL_STEPS
from linsgd.data.batching import epoch_order
from linsgd.engines.rule import StepRule
from linsgd.engines.sparse import SparseEngine, scalar_l2


def _data(n=600, d=40, density=0.08, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    w_true = rng.standard_normal(d)
    y = X @ w_true + 0.5 + 0.1 * rng.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


RULES = {
    "plain": StepRule(0.05),
    "l2": StepRule(0.05, l2=0.3),
    "averaged": StepRule(0.05, average_from=7),
    "l2-averaged-invscaling": StepRule(0.08, "invscaling", power_t=0.3, l2=0.2, average_from=3),
    "cosine": StepRule(0.05, "cosine", total_steps=200),
}


@pytest.mark.parametrize("path", ["reference", "fused-numba", "fused-numpy"])
@pytest.mark.parametrize("name", list(RULES))
def test_sparse_epoch_equals_the_dense_engines_on_the_densified_data(path, name):
    X, y = _data()
    rule = RULES[name]
    w0, b0 = np.random.default_rng(1).normal(0, 0.01, X.shape[1]), 0.0
    order = epoch_order(3, 0, X.shape[0])
    if path == "fused-numba":  # rule_cases.run makes the run long enough for numba: the same T here
        rule = StepRule(**{**rule.__dict__, "total_steps": max(rule.total_steps, SMALL_STEPS + 1)})
    dense = run(path, X.toarray(), y, w0, b0, order, rule, 7)  # 7: a short last batch
    out = SparseEngine().run_epoch(X, y, w0, b0, order, rule, 7)
    assert not dense.diverged_at and not out.diverged_at
    assert np.abs(out.w - w0).max() > 0.1  # the epoch moved w
    np.testing.assert_allclose(out.w, dense.w, rtol=1e-9, atol=1e-11)
    assert out.b == pytest.approx(dense.b, rel=1e-9, abs=1e-11)
    assert (out.avg is None) == (dense.avg is None)
    if dense.avg is not None:
        np.testing.assert_allclose(out.avg[0], dense.avg[0], rtol=1e-9, atol=1e-11)
        assert out.avg[1] == pytest.approx(dense.avg[1], rel=1e-9, abs=1e-11)


def test_weights_and_two_segments_equal_one_dense_epoch():
    X, y = _data(seed=2)
    v = np.random.default_rng(5).uniform(0.1, 2.0, len(y))
    v *= len(v) / v.sum()
    rule = StepRule(0.05, l2=0.5, average_from=20)
    order = epoch_order(4, 1, X.shape[0])
    w0 = np.zeros(X.shape[1])
    dense = run("fused-numba", X.toarray(), y, w0, 0.0, order, rule, 10, weight=v)
    eng = SparseEngine()
    first = eng.run_epoch(X, y, w0, 0.0, order[:300], rule, 10, weight=v)  # 30 steps: the average has 11
    second = eng.run_epoch(X, y, first.w, first.b, order[300:], rule, 10, t0=30, avg=first.avg, weight=v)
    np.testing.assert_allclose(second.w, dense.w, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(second.avg[0], dense.avg[0], rtol=1e-9, atol=1e-11)
    assert second.avg[1] == pytest.approx(dense.avg[1], rel=1e-9)
    assert second.b == pytest.approx(dense.b, rel=1e-9)


def test_float32_data_agrees_to_float32_rounding():
    X, y = _data(dtype=np.float32, seed=3)
    rule = StepRule(0.05, l2=0.1, average_from=5)
    order = epoch_order(0, 0, X.shape[0])
    w0 = np.zeros(X.shape[1], dtype=np.float32)
    dense = run("fused-numba", X.toarray(), y, w0, 0.0, order, rule, 10)
    out = SparseEngine().run_epoch(X, y, w0, 0.0, order, rule, 10)
    assert out.w.dtype == np.float32
    np.testing.assert_allclose(out.w, dense.w, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(out.avg[0], dense.avg[0], rtol=2e-4, atol=2e-5)


def test_one_step_is_the_closed_form_and_repeated_indices_add_up():
    # row 0 holds column 1 twice (1.0 + 2.0 = 3.0 in X.toarray()); column 2 is never touched
    X = sp.csr_matrix((np.array([1.0, 2.0, 4.0]), np.array([1, 1, 0]), np.array([0, 2, 3])), shape=(2, 3))
    y = np.array([1.0, -2.0])
    w0, b0, lr, l2 = np.array([0.5, -1.0, 2.0]), 0.25, 0.1, 0.4
    D = X.toarray()
    assert D[0, 1] == 3.0
    r = D @ w0 + b0 - y
    expect_w = (w0 - lr / 2 * D.T @ r) / (1 + lr * l2)
    out = SparseEngine().run_epoch(X, y, w0, b0, np.array([0, 1]), StepRule(lr, l2=l2), 2)
    np.testing.assert_allclose(out.w, expect_w, rtol=1e-14)
    assert out.w[2] == pytest.approx(2.0 / (1 + lr * l2), rel=1e-14)  # untouched: only the L2 shrink
    assert out.b == pytest.approx(b0 - lr / 2 * r.sum(), rel=1e-14)


@pytest.mark.parametrize("average_from", [0, 2])
def test_a_strong_l2_folds_the_scale_into_the_weights_and_stays_exact(average_from):
    # (1 + 0.5·1)^-60 ≈ 3e-11 < 1e-9: the scale is folded in during the epoch (averaged: below 1e-3, 3 times)
    X, y = _data(n=600, d=30, seed=4)
    rule = StepRule(0.5, l2=1.0, average_from=average_from)
    order = epoch_order(1, 0, X.shape[0])
    w0 = np.ones(X.shape[1])
    dense = run("fused-numba", X.toarray(), y, w0, 0.0, order, rule, 10)
    out = SparseEngine().run_epoch(X, y, w0, 0.0, order, rule, 10)
    np.testing.assert_allclose(out.w, dense.w, rtol=1e-8, atol=1e-12)
    if average_from:
        np.testing.assert_allclose(out.avg[0], dense.avg[0], rtol=1e-8, atol=1e-12)


def test_divergence_names_the_step_and_returns_the_parameters_before_it():
    X, y = _data(n=200, d=10, density=0.5, seed=6)
    w0 = np.zeros(X.shape[1])
    order = epoch_order(0, 0, X.shape[0])
    dense = run("fused-numba", X.toarray(), y, w0, 0.0, order, StepRule(1e7), 5)
    out = SparseEngine().run_epoch(X, y, w0, 0.0, order, StepRule(1e7), 5)
    assert dense.diverged_at > 1
    assert out.diverged_at == dense.diverged_at
    assert np.all(np.isfinite(out.w)) and np.isfinite(out.b)
    before = SparseEngine().run_epoch(X, y, w0, 0.0, order[:5 * (out.diverged_at - 1)], StepRule(1e7), 5)
    np.testing.assert_allclose(out.w, before.w, rtol=1e-12)
    assert out.b == pytest.approx(before.b, rel=1e-12)


@pytest.mark.parametrize("n", [10, 5000])
def test_loss_is_half_the_weighted_mean_of_squared_residuals(n):
    X, y = _data(n=n, d=20, seed=n)
    w, b = np.random.default_rng(0).standard_normal(20), 0.3
    v = np.random.default_rng(1).uniform(0, 2, n)
    r = X.toarray() @ w + b - y
    assert SparseEngine().loss(X, y, w, b) == pytest.approx(0.5 * np.mean(r * r), rel=1e-12)
    assert SparseEngine().loss(X, y, w, b, v) == pytest.approx(0.5 * np.mean(v * r * r), rel=1e-12)


def test_only_a_scalar_l2_is_kept():
    assert scalar_l2(StepRule(0.1), 3) == 0.0
    assert scalar_l2(StepRule(0.1, l2=0.25), 3) == 0.25
    assert scalar_l2(StepRule(0.1, l2=(0.5, 0.5)), 2) == 0.5
    with pytest.raises(ValueError, match="scalar L2"):
        scalar_l2(StepRule(0.1, l1=0.1), 3)
    with pytest.raises(ValueError, match="scalar L2"):
        scalar_l2(StepRule(0.1, l2=(0.1, 0.2)), 2)


def test_sparse_input_with_another_loss_is_refused_naming_the_loss():
    import scipy.sparse as sp

    import linsgd
    from linsgd.errors import ConfigError

    X = sp.random(50, 4, density=0.5, format="csr", random_state=0)
    with pytest.raises(ConfigError, match="loss"):
        linsgd.fit(X, np.ones(50), loss="huber", solver="sgd")
