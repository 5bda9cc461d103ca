"""Continuing a run in memory (train_arrays with init and first_epoch) against the uninterrupted run: what
mutation testing of sgd/loop.py found unpinned."""

from __future__ import annotations

import dataclasses

import numpy as np

from linsgd.config import TrainConfig
from linsgd.sgd.loop import train_arrays


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 + 0.1 * rng.standard_normal(64)


def test_continuing_after_three_epochs_for_two_more_equals_five_epochs_at_once():
    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.02, batch_size=8, average=False, dtype="float64", epochs=5)
    whole = train_arrays(X, y, config)
    first = train_arrays(X, y, dataclasses.replace(config, epochs=3))
    rest = train_arrays(X, y, dataclasses.replace(config, epochs=2), init=(first.w, first.b), first_epoch=3)
    assert len(rest.history) == 2  # epochs 3 and 4: two more, not none
    np.testing.assert_array_equal(rest.w, whole.w)
    assert rest.b == whole.b
    np.testing.assert_array_equal(first.history + rest.history, whole.history)


def test_the_epoch_bar_is_off_by_default(capsys):
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    X, y = _data()
    train_data(InMemory(X, y), TrainConfig(lr=0.05, epochs=2, seed=3, dtype="float64", average=False))
    assert capsys.readouterr().err == ""
