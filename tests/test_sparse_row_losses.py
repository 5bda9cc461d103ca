"""The full-data loss measured row by row by the next epoch's sparse kernel (no core left for a pass beside the
threads): the same number as the pass, bit for bit, the same trajectory as an epoch that measures nothing, the
same history as a run that sums each loss right after its epoch, and the same guards."""

from __future__ import annotations

import numpy as np
import pytest
from support.measuring import count_measured
from support.problems import sparse_problem

from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.engines.rule import StepRule
from linsgd.engines.sparse import RowLosses, SparseEngine
from linsgd.engines.sparse_threads import SparseThreadedEngine
from linsgd.errors import DivergenceError
from linsgd.sgd import loop

N, D = MIN_SPLIT_ROWS + 1001, 40  # the pass sums two halves; threads run; a short last batch
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, y, v, _ = sparse_problem(N, D, 0.15, 11)
    return X, y, v / v.mean()


def _typed(data, dtype, weighted):
    X, y, v = data
    return X.astype(dtype), y.astype(dtype), (v.astype(dtype) if weighted else None)


def _model(seed=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(D), float(rng.standard_normal())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batch, averaged", [(1, False), (3, True)])
def test_an_epoch_measures_the_loss_of_another_model_exactly_as_the_pass_and_trains_the_same(
        data, dtype, weighted, batch, averaged):
    X, y, v = _typed(data, dtype, weighted)
    w0, b0 = _model()  # the model whose loss is measured: not the one trained
    w, b = np.zeros(D, dtype=dtype), 0.0
    rule = StepRule(lr=0.01, schedule="constant", l2=1e-3, average_from=1 if averaged else 0)
    order = np.random.default_rng(2).permutation(N)
    engine = SparseEngine()
    measure = engine.row_losses(X, y, w0, b0, v)
    out = engine.run_epoch(X, y, w, b, order, rule, batch, weight=v, measure=measure)
    plain = SparseEngine().run_epoch(X, y, w, b, order, rule, batch, weight=v)
    assert measure.result() == engine.loss(X, y, w0, b0, v)  # the same sum, not merely close
    np.testing.assert_array_equal(out.w, plain.w)
    assert out.b == plain.b
    if averaged:
        np.testing.assert_array_equal(out.avg[0], plain.avg[0])
    r = X.astype(np.float64) @ w0.astype(dtype) + np.float64(X.dtype.type(b0)) - y
    manual = 0.5 * np.mean((1.0 if v is None else v.astype(np.float64)) * r ** 2)  # independent: equal to rounding
    assert measure.result() == pytest.approx(manual, rel=1e-12)


def test_threads_measure_each_their_own_rows(data):
    X, y, v = data
    w0, b0 = _model(6)
    rule = StepRule(lr=0.01, schedule="constant", l2=1e-3)
    order = np.random.default_rng(3).permutation(N)
    engine = SparseThreadedEngine(2)
    measure = engine.row_losses(X, y, w0, b0, v)
    out = engine.run_epoch(X, y, np.zeros(D), 0.0, order, rule, 2, weight=v, measure=measure)
    plain = SparseThreadedEngine(2).run_epoch(X, y, np.zeros(D), 0.0, order, rule, 2, weight=v)
    assert measure.result() == engine.loss(X, y, w0, b0, v)
    np.testing.assert_array_equal(out.w, plain.w)


def test_adagrad_measures_nothing(data):
    X, y, _ = data
    engine = SparseEngine()
    assert not engine.measures_loss("adagrad") and engine.measures_loss("constant")
    with pytest.raises(ValueError, match="measures no loss"):
        engine.run_epoch(X, y, np.zeros(D), 0.0, np.arange(N), StepRule(lr=0.1, schedule="adagrad"), 1,
                         measure=RowLosses(X, y, np.zeros(D), 0.0))


@pytest.fixture
def measured(monkeypatch):
    """Two cores whatever the machine, and the count of the losses the kernel measured."""
    return count_measured(monkeypatch, RowLosses)


def _fit(data, val=None, **kw):
    X, y, v = data
    config = TrainConfig(**{"lr": 0.02, "epochs": 4, "seed": 3, "dtype": "float64", "penalty": "l2", "alpha": 1e-4,
                            "batch_size": 4, "threads": 2, "average": False, **kw})
    return loop.train_data(InMemory(X, y, v), config, val=val)


@pytest.mark.parametrize("more", [{}, {"average": True}])
def test_two_threads_on_two_cores_measure_each_loss_in_the_next_epoch_with_the_same_history(
        data, measured, monkeypatch, more):
    fused = _fit(data, **more)
    assert fused.config.threads == 2 and len(measured) == 3  # epochs 1-3 measured, the last one a pass
    monkeypatch.setattr(SparseEngine, "measures_loss", staticmethod(lambda schedule: False))
    passes = _fit(data, **more)
    assert len(measured) == 3
    assert fused.history == passes.history and fused.objective == passes.objective
    np.testing.assert_array_equal(fused.w, passes.w)
    assert len(set(fused.history)) == 4 and len(fused.epoch_seconds) == 4


def test_one_thread_with_a_core_idle_sums_beside_it_instead(data, measured):
    _fit(data, threads=1)
    assert measured == []


def test_something_that_must_see_the_loss_first_gets_a_pass(data, measured):
    X, y, _ = data
    _fit(data, epochs="auto", max_epochs=3)  # early stopping
    _fit(data, epochs=3, val=InMemory(X[:5000], y[:5000]))
    assert measured == []


def test_a_loss_that_grew_stops_the_run_naming_its_epoch(data, measured, monkeypatch):
    losses = iter([2.0, 0.5, 4.5, 1.0])
    monkeypatch.setattr(RowLosses, "result", lambda self: next(losses))
    monkeypatch.setattr(InMemory, "loss", lambda self, engine, w, b: next(losses))
    with pytest.raises(DivergenceError, match="end of epoch 3.*the loss grew from 0.5 to 4.5"):
        _fit(data, max_loss_growth=8.0)
