"""Wide rows: an epoch's full-data loss summed by the next epoch's kernel as it reads the rows (no pass of its
own) — the kernel's sum equals the float64 data pass to float64 rounding, training is unchanged bit for bit,
and the run's history equals one that sums each loss right after its epoch, weighted and averaged too."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd.config import TrainConfig
from linsgd.data.batching import epoch_order
from linsgd.data.synthetic import make_regression
from linsgd.data.views import InMemory
from linsgd.engines import _fused_kernels as kernels
from linsgd.engines.fused import kernel_args
from linsgd.engines.rule import StepRule
from linsgd.sgd import loop

N = MIN_SPLIT_ROWS + 1001  # the numba kernels, a pass in two halves, and a short last batch
D = 40  # wide: the row-group kernel


def _data(d=D, weighted=False):
    X, y = make_regression(N, np.linspace(-1, 1, d), 0.3, noise=0.2, seed=d, dtype="float32")
    v = np.random.default_rng(d).uniform(0.2, 2.0, N).astype("float32") if weighted else None
    return X, y, None if v is None else v * np.float32(N / v.sum())


@pytest.mark.parametrize("weighted", [False, True])
def test_the_kernels_sum_is_the_data_pass_and_training_is_unchanged(weighted):
    X, y, v = _data(weighted=weighted)
    rng = np.random.default_rng(1)
    wp, bp = rng.normal(size=D).astype("float32"), np.float32(0.7)  # the model scored: any model
    order, rule = epoch_order(0, 0, N), StepRule(0.02, "invscaling", power_t=0.3, total_steps=-(-N // 64))
    w, _, o, rest = kernel_args(X, np.zeros(D), 0.0, order, rule, 64, N, 0, None, v)
    plain = kernels.sgd_epoch(X, y, w, np.float32(0.0), o, 64, *rest)
    w2, _, o, rest = kernel_args(X, np.zeros(D), 0.0, order, rule, 64, N, 0, None, v)
    *both, scored = kernels.sgd_epoch_scored(X, y, w2, np.float32(0.0), o, 64, *rest, wp.astype(np.float64),
                                             float(bp))
    np.testing.assert_array_equal(w2, w)  # the same steps, bit for bit
    assert both[:2] == list(plain[:2])
    if v is None:
        passed = kernels.sum_squared_residual(X, y, wp, bp, 0, N)
    else:
        passed = kernels.sum_weighted_squared_residual(X, y, v, wp, bp, 0, N)
    r = X.astype(np.float64) @ wp.astype(np.float64) + float(bp) - y  # the same sum in NumPy, float64
    assert scored == pytest.approx(passed, rel=1e-12)
    assert scored == pytest.approx(float(((1.0 if v is None else v) * r * r).sum()), rel=1e-12)


@pytest.fixture
def passes(monkeypatch):
    """Two cores whatever the machine, and the names of the threads that summed a loss by a pass."""
    names = []
    real = InMemory.loss

    def spy(self, engine, w, b):
        names.append(threading.current_thread().name.rstrip("_0123456789"))
        return real(self, engine, w, b)

    monkeypatch.setattr(loop, "available_cores", lambda: 2)
    monkeypatch.setattr(InMemory, "loss", spy)
    return names


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("average", [False, True])
def test_the_history_is_that_of_a_pass_after_each_epoch(passes, monkeypatch, weighted, average):
    X, y, v = _data(weighted=weighted)
    config = TrainConfig(lr=0.02, epochs=4, batch_size=64, seed=3, dtype="float32", average=average)
    summed = loop.train_data(InMemory(X, y, v), config)
    assert passes == ["MainThread"]  # epochs 1-3 summed by the next epoch's kernel; the last one by a pass
    monkeypatch.setattr(loop, "available_cores", lambda: 1)  # no idle core: each loss by a pass after its epoch
    now = loop.train_data(InMemory(X, y, v), config)
    assert passes == ["MainThread"] * 5
    np.testing.assert_allclose(summed.history, now.history, rtol=1e-12)
    np.testing.assert_allclose(summed.objective, now.objective, rtol=1e-12)
    np.testing.assert_array_equal(summed.w, now.w)
    assert len(set(summed.history)) == 4  # four different models: each epoch's loss is its own


def test_narrow_rows_keep_the_pass_on_the_idle_core(passes):
    X, y, v = _data(d=12)
    loop.train_data(InMemory(X, y, v), TrainConfig(lr=0.02, epochs=3, batch_size=64, seed=3, dtype="float32"))
    assert passes == ["linsgd-loss"] * 2 + ["MainThread"]
