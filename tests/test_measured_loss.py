"""The full-data loss measured by the next epoch's kernel: of dense threads in lockstep (no core left for a pass
beside them), or of one thread over wide rows read from memory (a core idle all the same): the pass's number to the
rounding of a residual, the same trajectory as an epoch that measures nothing, the same history as a run that sums
each loss right after its epoch, and never where something must see the loss first."""

from __future__ import annotations

import numpy as np
import pytest
from support.measuring import count_measured

from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.engines import fused as fused_module
from linsgd.engines import get_engine
from linsgd.engines.fused import FusedEngine
from linsgd.engines.measured import MeasuredLoss
from linsgd.engines.rule import StepRule
from linsgd.engines.threaded import ThreadedEngine
from linsgd.sgd import loop, loss_later

N, D = MIN_SPLIT_ROWS + 1001, 24  # above the narrow kernel's 16 features; a short last process batch
TOL = {"float64": 1e-13, "float32": 2e-7}  # float32: the residuals in float32 (the pass's in float64)
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 1.5 + 0.3 * rng.standard_normal(N)
    v = rng.uniform(0.2, 1.8, N)
    return X, y, v / v.mean()


def _typed(data, dtype, weighted):
    X, y, v = data
    return X.astype(dtype), y.astype(dtype), (v.astype(dtype) if weighted else None)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("threads, batch, far", [(2, 7, False), (3, 4, False), (2, 7, True)])  # rows left over
def test_lockstep_epochs_measure_the_loss_of_another_model_as_the_pass_and_train_the_same(  # after groups of four
        data, dtype, weighted, threads, batch, far, monkeypatch):
    if far:  # these rows count as read from memory (sgd_epoch_lockstep_far)
        monkeypatch.setattr(fused_module, "FAR_BYTES", 0)
    X, y, v = _typed(data, dtype, weighted)
    rng = np.random.default_rng(5)
    w0, b0 = rng.standard_normal(D), float(rng.standard_normal())  # the model measured: not the one trained
    rule = StepRule(lr=0.01, schedule="invscaling", power_t=0.25, total_steps=10**5, average_from=3)
    order = rng.permutation(N)
    cut = threads * batch * 1000  # two calls (the loop's segments): their sums add up
    engine = ThreadedEngine(get_engine("fused"), threads, lockstep=True)
    measure = engine.row_losses(X, y, w0, b0, v)
    first = engine.run_epoch(X, y, np.zeros(D), 0.0, order[:cut], rule, threads * batch, weight=v, measure=measure)
    out = engine.run_epoch(X, y, first.w, first.b, order[cut:], rule, threads * batch, t0=1000, avg=first.avg,
                           weight=v, measure=measure)
    plain = ThreadedEngine(get_engine("fused"), threads, lockstep=True)
    p1 = plain.run_epoch(X, y, np.zeros(D), 0.0, order[:cut], rule, threads * batch, weight=v)
    p2 = plain.run_epoch(X, y, p1.w, p1.b, order[cut:], rule, threads * batch, t0=1000, avg=p1.avg, weight=v)
    np.testing.assert_array_equal(out.w, p2.w)  # measuring changes nothing of the trajectory
    assert out.b == p2.b
    np.testing.assert_array_equal(out.avg[0], p2.avg[0])
    assert measure.result() == pytest.approx(engine.loss(X, y, w0, b0, v), rel=TOL[dtype], abs=0)
    r = X.astype(np.float64) @ w0.astype(dtype) + np.float64(X.dtype.type(b0)) - y  # independent of the engines
    manual = 0.5 * np.mean((1.0 if v is None else v.astype(np.float64)) * r ** 2)
    assert measure.result() == pytest.approx(manual, rel=TOL[dtype], abs=0)


def test_only_lockstep_measures(data):
    X, y, _ = data
    assert ThreadedEngine(get_engine("fused"), 2, lockstep=True).measures_loss("constant")
    averaging = ThreadedEngine(get_engine("fused"), 2)
    assert not averaging.measures_loss("constant")
    with pytest.raises(ValueError, match="only in lockstep"):
        averaging.run_epoch(X, y, np.zeros(D), 0.0, np.arange(N), 0.01, 8, measure=MeasuredLoss(X, np.zeros(D), 0, N))


@pytest.fixture
def measured(monkeypatch):
    """Two cores whatever the machine, and the count of the losses the kernel measured."""
    return count_measured(monkeypatch, MeasuredLoss)


def _fit(data, val=None, **kw):
    X, y, v = data
    config = TrainConfig(**{"lr": 0.02, "epochs": 4, "seed": 3, "dtype": "float64", "batch_size": 4, "threads": 2,
                            "sync_every": 1, "average": False, **kw})
    return loop.train_data(InMemory(X, y, v), config, val=val)


@pytest.mark.parametrize("more", [{}, {"average": True, "penalty": "elasticnet", "alpha": 1e-3}])
def test_two_threads_in_lockstep_measure_each_loss_in_the_next_epoch_with_the_same_history(
        data, measured, monkeypatch, more):
    fused = _fit(data, **more)
    assert (fused.config.threads, fused.config.sync_every) == (2, 1)
    assert len(measured) == 3  # epochs 1-3 measured, the last one a pass
    monkeypatch.setattr(ThreadedEngine, "measures_loss", lambda self, schedule: False)
    passes = _fit(data, **more)
    assert len(measured) == 3
    np.testing.assert_allclose(fused.history, passes.history, rtol=1e-13)
    np.testing.assert_allclose(fused.objective, passes.objective, rtol=1e-13)
    np.testing.assert_array_equal(fused.w, passes.w)
    assert len(set(fused.history)) == 4 and len(fused.epoch_seconds) == 4


def test_threads_that_average_or_have_a_core_beside_them_measure_nothing(data, measured, monkeypatch):
    _fit(data, sync_every=8)
    _fit(data, threads=1)
    monkeypatch.setattr(loss_later, "available_cores", lambda: 3)
    _fit(data)
    assert measured == []


def test_something_that_must_see_the_loss_first_gets_a_pass(data, measured):
    X, y, _ = data
    _fit(data, epochs="auto", max_epochs=3)  # early stopping
    _fit(data, epochs=3, val=InMemory(X[:5000], y[:5000]))
    assert measured == []


def test_threads_in_lockstep_on_every_core_draw_each_order_between_epochs(data, measured, monkeypatch):
    asked = []
    real = InMemory.epoch_orders

    def spy(self, *args, **kw):
        asked.append(kw.get("ahead", True))
        return real(self, *args, **kw)

    monkeypatch.setattr(InMemory, "epoch_orders", spy)
    _fit(data, epochs=2)  # lockstep, the loss measured: no background thread beside the two
    _fit(data, epochs=2, sync_every=8)  # averaging threads, the loss by a pass: the order prepared ahead
    assert asked == [False, True]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batch", [8, 11])  # whole fours, and a short last four in every batch
def test_one_thread_over_rows_from_memory_measures_the_loss_of_another_model_and_trains_the_same(
        data, dtype, weighted, batch, monkeypatch):
    monkeypatch.setattr(fused_module, "FAR_BYTES", 0)  # these rows count as read from memory (sgd_epoch_far)
    X, y, v = _typed(data, dtype, weighted)
    rng = np.random.default_rng(6)
    w0, b0 = rng.standard_normal(D), float(rng.standard_normal())
    rule = StepRule(lr=0.01, schedule="invscaling", power_t=0.25, total_steps=10**5, average_from=3,
                    l1=np.full(D, 1e-4), l2=np.full(D, 1e-3))
    order = rng.permutation(N)
    cut = batch * 1000 + 3  # two calls (the loop's segments), the first ending in a short batch
    engine = get_engine("fused")
    engine.prepare(X, y)
    assert engine.measures_loss("invscaling")
    measure = engine.row_losses(X, y, w0, b0, v)
    first = engine.run_epoch(X, y, np.zeros(D), 0.0, order[:cut], rule, batch, weight=v, measure=measure)
    out = engine.run_epoch(X, y, first.w, first.b, order[cut:], rule, batch, t0=1000, avg=first.avg, weight=v,
                           measure=measure)
    p1 = engine.run_epoch(X, y, np.zeros(D), 0.0, order[:cut], rule, batch, weight=v)
    p2 = engine.run_epoch(X, y, p1.w, p1.b, order[cut:], rule, batch, t0=1000, avg=p1.avg, weight=v)
    np.testing.assert_array_equal(out.w, p2.w)  # measuring changes nothing of the trajectory
    assert out.b == p2.b
    np.testing.assert_array_equal(out.avg[0], p2.avg[0])
    assert measure.result() == pytest.approx(engine.loss(X, y, w0, b0, v), rel=TOL[dtype], abs=0)
    r = X.astype(np.float64) @ w0.astype(dtype) + np.float64(X.dtype.type(b0)) - y
    manual = 0.5 * np.mean((1.0 if v is None else v.astype(np.float64)) * r ** 2)
    assert measure.result() == pytest.approx(manual, rel=TOL[dtype], abs=0)


def test_one_thread_measures_only_wide_rows_from_memory(data, monkeypatch):
    X, y, _ = data
    engine = get_engine("fused")
    engine.prepare(X, y)
    assert not engine.measures_loss("constant")  # these rows fit the last-level cache: a pass beside the epoch
    with pytest.raises(ValueError, match="only on wide rows read from memory"):
        engine.run_epoch(X, y, np.zeros(D), 0.0, np.arange(N), 0.01, 8, measure=MeasuredLoss(X, np.zeros(D), 0, N))
    monkeypatch.setattr(fused_module, "FAR_BYTES", 0)
    assert engine.measures_loss("constant")
    narrow = X[:, :16].copy()
    engine.prepare(narrow, y)
    assert not engine.measures_loss("constant")
    assert not get_engine("fused", loss=("huber", 0.1, 0.5)).measures_loss("constant")


@pytest.mark.parametrize("more", [{}, {"average": True, "penalty": "elasticnet", "alpha": 1e-3}])
def test_one_thread_over_rows_from_memory_measures_each_loss_in_the_next_epoch_with_the_same_history(
        data, measured, monkeypatch, more):
    monkeypatch.setattr(fused_module, "FAR_BYTES", 0)
    fused = _fit(data, threads=1, **more)
    assert fused.config.threads == 1
    assert len(measured) == 3  # epochs 1-3 measured (a core idle beside it all the same), the last one a pass
    monkeypatch.setattr(FusedEngine, "measures_loss", lambda self, schedule: False)
    passes = _fit(data, threads=1, **more)
    assert len(measured) == 3
    np.testing.assert_allclose(fused.history, passes.history, rtol=1e-13)
    np.testing.assert_allclose(fused.objective, passes.objective, rtol=1e-13)
    np.testing.assert_array_equal(fused.w, passes.w)
    assert len(set(fused.history)) == 4 and len(fused.epoch_seconds) == 4
