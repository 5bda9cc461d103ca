"""SGD on the huber, epsilon-insensitive and quantile losses: the fused kernel follows torch autograd's
trajectory (the oracle), its full-data loss is the losses' definition, and the scale-ups keep their
equivalences (2 threads with K = 1 ≡ 1 thread with double batch; streamed ≡ in memory over the same order;
resumed ≡ uninterrupted); SGD approaches the trusted optimum."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_resume import _recorder

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory, Streamed
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule
from linsgd.lstsq.losses import objective
from linsgd.lstsq.robust import trusted_optimum
from linsgd.lstsq.rows import array_chunks
from linsgd.sgd.loop import train_data

from test_views import _table, streamed_epoch, streamed_order

LOSSES = {"huber": ("huber", 0.5, 0.5), "epsilon_insensitive": ("epsilon_insensitive", 0.2, 0.5),
          "quantile": ("quantile", 0.1, 0.8)}
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


def heavy(n=3_000, d=5, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.linspace(-2, 2, d) + 1.0 + rng.standard_t(2, n)
    return X.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("d", [5, 20])  # 20: the wide rows summed four at a time (batches of 10: 4 + 4 + 2)
@pytest.mark.parametrize("name", LOSSES)
def test_the_fused_kernel_follows_the_reference_engine(name, d):
    pytest.importorskip("torch")
    loss, eps, q = LOSSES[name]
    X, y = heavy(d=d)
    v = np.random.default_rng(1).uniform(0.5, 1.5, len(y))
    v /= v.mean()
    order = np.random.default_rng(2).permutation(len(y))
    rule = StepRule(0.05, schedule="invscaling", total_steps=600, l1=0.01, l2=0.02, average_from=50, loss=loss,
                    epsilon=eps, quantile=q)
    fused, ref = (get_engine(e, loss=LOSSES[name]) for e in ("fused", "reference"))
    a = fused.run_epoch(X, y, np.zeros(d), 0.0, order, rule, 10, weight=v)
    b = ref.run_epoch(X, y, np.zeros(d), 0.0, order, rule, 10, weight=v)
    np.testing.assert_allclose(a.w, b.w, atol=1e-12)
    np.testing.assert_allclose(a.avg[0], b.avg[0], atol=1e-12)
    assert abs(a.b - b.b) < 1e-12 and np.abs(a.w).max() > 0.5  # and it moved
    expected = objective(X, y, a.w, a.b, loss=loss, epsilon=eps, quantile=q, sample_weight=v)
    assert fused.loss(X, y, a.w, a.b, v) == pytest.approx(expected, rel=1e-12)
    assert ref.loss(X, y, a.w, a.b, v) == pytest.approx(expected, rel=1e-12)
    squared = get_engine("fused").run_epoch(X, y, np.zeros(d), 0.0, order, StepRule(0.05), 10)
    assert np.abs(squared.w - a.w).max() > 1e-3  # the loss changes the steps


@pytest.mark.parametrize("name", LOSSES)
def test_one_step_is_the_mean_slope(name):
    """A closed form: one batch of all rows from w = 0, b = 0 steps by −lr · mean ψ(−y)·[x, 1]."""
    loss, eps, q = LOSSES[name]
    X, y = heavy(n=64)
    out = get_engine("fused", loss=LOSSES[name]).run_epoch(X, y, np.zeros(5), 0.0, np.arange(64),
                                                           StepRule(0.1, loss=loss, epsilon=eps, quantile=q), 64)
    r = -y  # ŷ − y at the start
    psi = {"huber": np.clip(r, -eps, eps), "epsilon_insensitive": np.where(np.abs(r) >= eps, np.sign(r), 0.0),
           "quantile": np.where(r >= 0, 1 - q, -q)}[name]
    np.testing.assert_allclose(out.w, -0.1 * X.T @ psi / 64, atol=1e-14)
    assert out.b == pytest.approx(-0.1 * psi.mean(), abs=1e-14)


@pytest.mark.parametrize("name", ["huber", "quantile"])
def test_two_threads_every_step_equal_one_thread_with_double_batch(name):
    loss, eps, q = LOSSES[name]
    X, y = heavy(n=70_003, d=3, seed=4)
    kw = dict(lr=0.01, epochs=2, seed=3, loss=loss, epsilon=eps, quantile=q, average=True, penalty="l2",
              alpha=1e-3, schedule="invscaling", dtype="float64")
    two = linsgd.fit(X, y, batch_size=5, threads=2, sync_every=1, **kw)
    one = linsgd.fit(X, y, batch_size=10, threads=1, **kw)
    assert two.config.threads == 2 and two.config.solver == "sgd"
    np.testing.assert_allclose(two.w, one.w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two.history, one.history, rtol=1e-10)


@pytest.mark.parametrize("name", ["epsilon_insensitive", "quantile"])
def test_a_streamed_epoch_equals_in_memory_over_the_same_order(name, tmp_path):
    loss, eps, q = LOSSES[name]
    X, y = heavy(n=2003, d=3, seed=5, dtype="float32")
    data = Streamed(_table(X, y, tmp_path), window_rows=300, piece_rows=64)
    eng = get_engine("fused", loss=LOSSES[name])
    rule = StepRule(0.03, loss=loss, epsilon=eps, quantile=q)
    w, b = np.zeros(3, np.float32), 0.0
    for epoch in range(2):
        expected = eng.run_epoch(X, y, w, b, streamed_order(data, 7, epoch), rule, 10)
        got = streamed_epoch(eng, data, w, b, (7, epoch), rule, 10)
        np.testing.assert_allclose(got.w, expected.w, rtol=1e-5, atol=1e-6)
        w, b = got.w, got.b
    assert data.loss(eng, w, b) == pytest.approx(eng.loss(X, y, w, b), rel=1e-5)
    assert data.loss(eng, w, b) == pytest.approx(objective(X, y, w, b, loss=loss, epsilon=eps, quantile=q), rel=1e-5)


def test_resuming_a_huber_run_equals_the_uninterrupted_run():
    X, y = heavy(n=503, d=3, seed=6, dtype="float32")
    config = TrainConfig(lr=0.03, epochs=3, batch_size=10, seed=5, dtype="float32", average=True, loss="huber",
                         epsilon=0.5)
    rec = _recorder(7, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    for state in rec.states[::5]:
        resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b
        assert resumed.history == full.history


@pytest.mark.parametrize("name", LOSSES)
def test_averaged_sgd_approaches_the_trusted_optimum(name):
    loss, eps, q = LOSSES[name]
    X, y = heavy(n=20_000, d=5, seed=8)
    r = linsgd.fit(X, y, lr=0.02, epochs=8, batch_size=10, seed=1, average="auto", loss=loss, epsilon=eps,
                   quantile=q, dtype="float64")
    t = trusted_optimum(lambda: array_chunks(X, y, None, 1 << 16), 5, loss=loss, epsilon=eps, quantile=q)
    ours = objective(X, y, r.w, r.b, loss=loss, epsilon=eps, quantile=q)
    assert r.history[-1] == pytest.approx(ours, rel=1e-9)  # the history is this loss
    assert t.optimum <= ours <= t.optimum * (1 + 2e-3), (ours, t.optimum)
