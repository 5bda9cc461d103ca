"""An epoch's full-data loss summed on an idle core while the next epoch trains: the same history, bit for bit,
as the loss summed right after the epoch, the same guards, and never where something must see the loss first."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd.config import TrainConfig
from linsgd.data.synthetic import make_regression
from linsgd.data.views import InMemory
from linsgd.errors import DivergenceError
from linsgd.sgd import loop, loss_later

N = MIN_SPLIT_ROWS + 1001  # a pass in two halves, and a short last batch


@pytest.fixture
def where(monkeypatch):
    """Two cores whatever the machine, and the names of the threads that summed a loss on one core."""
    names = []
    real = loop._loss_on_one_core

    def spy(*args):
        names.append(threading.current_thread().name.rstrip("_0123456789"))
        return real(*args)

    monkeypatch.setattr(loss_later, "available_cores", lambda: 2)
    monkeypatch.setattr(loop, "_loss_on_one_core", spy)
    return names


def _data(d):
    """Too few epochs (4) for the statistics of [X y] to pay off at this d: the loss is a pass."""
    return make_regression(N, np.linspace(-1, 1, d), 0.3, noise=0.2, seed=d, dtype="float32")


def _fit(X, y, epochs, **more):
    config = TrainConfig(lr=0.02, epochs=epochs, batch_size=64, seed=3, dtype="float32", average=False, **more)
    return loop.train_data(InMemory(X, y), config)


@pytest.mark.parametrize("d", [12, 40])  # the narrow and the wide kernel
def test_the_run_equals_one_that_sums_each_loss_right_after_its_epoch(where, monkeypatch, d):
    X, y = _data(d)
    later = _fit(X, y, 4)
    assert where == ["linsgd-loss"] * 3  # epochs 1-3 summed beside the next epoch, the last one at once
    monkeypatch.setattr(loss_later, "available_cores", lambda: 1)  # no idle core: each loss right after its epoch
    now = _fit(X, y, 4)
    assert where == ["linsgd-loss"] * 3
    assert later.history == now.history and later.objective == now.objective
    assert later.best_epoch == now.best_epoch and len(later.epoch_seconds) == 4
    np.testing.assert_array_equal(later.w, now.w)
    assert len(set(later.history)) == 4  # four different models: each epoch's loss is its own


def test_a_loss_that_grew_stops_the_run_naming_its_epoch(where, monkeypatch):
    X, y = _data(12)
    losses = iter([2.0, 0.5, 4.5, 1.0])
    monkeypatch.setattr(InMemory, "loss", lambda self, engine, w, b: next(losses))
    with pytest.raises(DivergenceError, match="end of epoch 3.*the loss grew from 0.5 to 4.5"):
        _fit(X, y, 4, max_loss_growth=8.0)
    assert where == ["linsgd-loss"] * 3


@pytest.mark.parametrize("more", [{"patience": 2}, {"max_epochs": 4, "epochs": "auto"}])
def test_early_stopping_sees_each_loss_before_the_next_epoch(where, more):
    X, y = _data(12)
    config = {"epochs": 3, **more}
    _fit(X, y, config.pop("epochs"), **config)
    assert where == []


def test_one_thread_per_core_leaves_no_idle_core(where):
    X, y = _data(12)
    _fit(X, y, 3, threads=2)
    assert where == []


def test_validation_checkpoints_and_ranks_see_each_loss_before_the_next_epoch(where, tmp_path):
    from linsgd.runs.checkpoint import Checkpointer, Identity

    X, y = _data(12)
    config = TrainConfig(lr=0.02, epochs=3, batch_size=64, seed=3, dtype="float32", average=False)
    loop.train_data(InMemory(X, y), config, val=InMemory(X[:5000], y[:5000]))
    assert where == []
    ckpt = Checkpointer(tmp_path / "c.safetensors", Identity({}, ""), 1, "epochs")
    loop.train_data(InMemory(X, y), config, checkpoints=ckpt)
    assert where == []

    class Ranks(loop.NoSync):  # another process's sync: not the one-process default
        pass

    loop.train_data(InMemory(X, y), config, sync=Ranks())
    assert where == []
    loop.train_data(InMemory(X, y), config)  # the same run alone: beside the next epoch
    assert where == ["linsgd-loss"] * 2
