"""Threads in lockstep (K = 1 on the fused engine): each process batch split over the threads, the partial
gradients added at one barrier per step — the trajectory of one thread with batch N·B, for every rule."""

from __future__ import annotations

import copy
import faulthandler

import numpy as np
import pytest
from test_resume import _recorder

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.engines import _lockstep, get_engine
from linsgd.engines import fused as fused_module
from linsgd.engines.rule import StepRule
from linsgd.engines.threaded import THREAD_MIN_ROWS, ThreadedEngine
from linsgd.sgd.loop import train_data

D = 24  # wide: above the narrow kernel's 16 features
N_ROWS = THREAD_MIN_ROWS + 1_001  # a short last process batch
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _no_hang():
    """Threads that wait at a barrier for one that never comes would hang the run: end it instead."""
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N_ROWS, D))
    w = rng.standard_normal(D)
    return X, X @ w + 4.2 + 0.1 * rng.standard_normal(N_ROWS), w


RULES = {"plain": {}, "averaged + invscaling": {"average": True, "schedule": "invscaling"},
         "elasticnet": {"penalty": "elasticnet", "alpha": 1e-2, "l1_ratio": 0.5}}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_threads_in_lockstep_equal_one_thread_with_double_batch(wide, dtype, rule):
    X, y, w_true = wide
    X, y = X.astype(dtype), y.astype(dtype)
    kw = {"lr": 0.01, "epochs": 2, "seed": 3, "dtype": dtype, **RULES[rule]}
    two = linsgd.fit(X, y, batch_size=8, threads=2, sync_every=1, **kw)
    one = linsgd.fit(X, y, batch_size=16, threads=1, **kw)
    assert (two.config.threads, two.config.sync_every) == (2, 1)
    tol = 1e-12 if dtype == "float64" else 2e-5  # float32: the two halves' sums round differently
    np.testing.assert_allclose(two.w, one.w, rtol=tol, atol=tol)
    np.testing.assert_allclose(two.b, one.b, rtol=tol, atol=tol)
    np.testing.assert_allclose(two.history, one.history, rtol=100 * tol)
    if rule == "plain":  # not trivially the start: the exact solution's neighbourhood
        assert abs(two.w - w_true).max() < 0.02


def _engine_case(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) - 1.0, rng.permutation(n)


def _far(monkeypatch, far):
    """Rows counted as read from memory (``far``: the kernels of _row_groups._accumulate_far); the lockstep kernels
    the threads run, as they are called."""
    kernels = []
    if far:
        monkeypatch.setattr(fused_module, "FAR_BYTES", 0)
    for name in ("sgd_epoch_lockstep", "sgd_epoch_lockstep_far"):
        kernel = getattr(_lockstep, name)
        monkeypatch.setattr(_lockstep, name, lambda *a, _k=kernel, _n=name: kernels.append(_n) or _k(*a))
    return kernels


@pytest.mark.parametrize("far", [False, True], ids=["in cache", "far"])
@pytest.mark.parametrize("threads, n", [(3, 3 * 2 * 40 * 50 + 1), (2, 70_000)])
def test_lockstep_engine_equals_one_thread_per_step_with_weights(threads, n, far, monkeypatch):
    # 3 threads and a last process batch of 1 row (two threads get none); sample weights; steps from t0 > 0
    kernels = _far(monkeypatch, far)
    X, y, order = _engine_case(n, D)
    v = np.random.default_rng(1).uniform(0.5, 1.5, n)
    rule = StepRule(lr=0.01, schedule="invscaling", power_t=0.25, total_steps=10_000, average_from=3)
    lock = ThreadedEngine(get_engine("fused"), threads, lockstep=True)
    kw = {"t0": 5, "avg": (np.full(D, 0.1), 0.2), "weight": v}
    got = lock.run_epoch(X, y, np.zeros(D), 0.5, order, rule, threads * 40, **kw)
    want = get_engine("fused").run_epoch(X, y, np.zeros(D), 0.5, order, rule, threads * 40, **kw)
    assert got.diverged_at == want.diverged_at == 0
    np.testing.assert_allclose(got.w, want.w, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got.b, want.b, rtol=1e-12)
    np.testing.assert_allclose(got.avg[0], want.avg[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got.avg[1], want.avg[1], rtol=1e-12)
    assert abs(got.w).max() > 0.1  # it moved
    assert kernels == ["sgd_epoch_lockstep_far" if far else "sgd_epoch_lockstep"] * threads


@pytest.mark.parametrize("far", [False, True], ids=["in cache", "far"])
def test_lockstep_diverges_at_the_same_step_as_one_thread_with_the_parameters_before_it(far, monkeypatch):
    kernels = _far(monkeypatch, far)
    X, y, order = _engine_case(70_000, D, seed=2)
    lock = ThreadedEngine(get_engine("fused"), 2, lockstep=True)
    got = lock.run_epoch(X, y, np.zeros(D), 0.0, order, 50.0, 64)
    want = get_engine("fused").run_epoch(X, y, np.zeros(D), 0.0, order, 50.0, 64)
    assert got.diverged_at == want.diverged_at > 1
    np.testing.assert_allclose(got.w, want.w, rtol=1e-12)
    assert np.isfinite(got.w).all()
    assert set(kernels) == {"sgd_epoch_lockstep_far" if far else "sgd_epoch_lockstep"}


def test_the_loop_runs_a_lockstep_epoch_in_one_call_per_thread(wide, monkeypatch):
    calls = []
    original = ThreadedEngine._lockstep
    monkeypatch.setattr(ThreadedEngine, "_lockstep", lambda self, *a: calls.append(len(a[4])) or original(self, *a))
    X, y, _ = wide
    linsgd.fit(X, y, lr=0.01, epochs=2, seed=3, batch_size=8, threads=2, sync_every=1, dtype="float64")
    assert calls == [N_ROWS, N_ROWS]  # one segment per epoch, not one per step


def test_resuming_a_lockstep_run_from_its_checkpoints_is_bit_identical(wide):
    X, y, _ = wide
    config = TrainConfig(lr=0.01, epochs=2, batch_size=8, seed=3, dtype="float64", threads=2, sync_every=1,
                         average=True)
    rec = _recorder(1_000, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    # checkpoints every 1,000 steps of 16 rows (and at each epoch's end): the loop cut the lockstep there
    assert [s.position for s in rec.states[:3]] == [16_000, 32_000, 48_000]
    for state in rec.states[1::2]:  # checkpointed as the full run (else each loss is measured by the next
        # epoch's kernel instead of a pass: the same to rounding, tests/test_measured_loss.py)
        resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(state), checkpoints=_recorder(1_000, "steps"))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history
