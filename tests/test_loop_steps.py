"""The loop's step count against a plain replay of the documented rule: a decaying step η_t = η₀/(1 + t)^p
counts t from the start of the run across epochs and across the pieces a checkpointer cuts an epoch into,
and the first epoch starts at its first example (batch 1: every example is a step)."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.runs.checkpoint import Checkpointer, Identity
from linsgd.sgd.loop import FitResult, init_params, train_data


def _replay(X, y, orders, lr, power_t, B, w, b):
    """Plain minibatch SGD over the given epoch orders: η_t = lr/(1 + t)^p for the t-th step of the run
    (0-based), a short last batch normalised by its real size. Returns w, b and the steps taken."""
    w, b, t = np.array(w, dtype=np.float64), float(b), 0
    for order in orders:
        for a in range(0, len(order), B):
            idx = order[a:a + B]
            r = X[idx] @ w + b - y[idx]
            eta = lr / (1.0 + t) ** power_t
            w, b, t = w - eta / len(idx) * (X[idx].T @ r), b - eta / len(idx) * r.sum(), t + 1
    return w, b, t


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, X @ [2.0, -1.0] + 0.5 + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("every", [None, 3, 7])
def test_a_decaying_step_counts_every_step_of_the_run_across_epochs_and_checkpoint_pieces(tmp_path, batch_size,
                                                                                          every):
    X, y = _data()
    config = TrainConfig(lr=0.2, epochs=3, batch_size=batch_size, seed=4, dtype="float64", schedule="invscaling",
                         power_t=0.7, average=False)
    ckpt = every and Checkpointer(tmp_path / "c.safetensors", Identity({}, ""), every, "steps")
    result = train_data(InMemory(X, y), config, checkpoints=ckpt)
    orders = list(InMemory(X, y).epoch_orders(4, 3))
    w0, b0 = init_params(4, 2, config.init_std, "float64")
    w, b, steps = _replay(X, y, orders, 0.2, 0.7, batch_size, w0, b0)
    assert steps == 3 * -(-50 // batch_size)
    np.testing.assert_allclose(result.w, w, rtol=1e-12)
    assert result.b == pytest.approx(b, rel=1e-12)
    # the step count matters here: a constant step from the same start ends elsewhere
    w_const, _, _ = _replay(X, y, orders, 0.2, 0.0, batch_size, w0, b0)
    assert np.max(np.abs(w_const - w)) > 1e-3


def test_a_result_made_without_early_stopping_says_it_never_stopped():
    X, y = _data()
    exact = linsgd.fit(X, y, solver="exact")
    assert (exact.stopped_epoch, exact.best_epoch) == (0, 0)
    bare = FitResult(w=np.zeros(2), b=0.0, history=[], seed=0, config=TrainConfig())
    assert (bare.stopped_epoch, bare.best_epoch, bare.seconds) == (0, 0, 0.0)
    assert bare.epoch_seconds == [] and bare.val_history == [] and bare.objective == []


class _Recorder(Checkpointer):
    """A checkpointer that records (epoch, position, step) of each save instead of writing a file."""

    def save(self, state) -> None:
        SAVED.append((state.epoch, state.position, state.step))


class _EveryTwo:
    """A sync every 2 steps that leaves the parameters as they are (one process standing in for ranks)."""

    every, calls, seconds = 2, 0, 0.0

    def average(self, w, b, examples):
        return w, b

    drain = average


SAVED: list[tuple[int, int, int]] = []


def test_with_syncs_every_two_steps_a_checkpoint_every_five_falls_on_the_first_sync_at_or_after_it():
    SAVED.clear()
    X, y = _data(n=12)
    config = TrainConfig(lr=0.05, epochs=2, batch_size=1, seed=1, dtype="float64", average=False)
    train_data(InMemory(X, y), config, sync=_EveryTwo(), checkpoints=_Recorder(None, Identity({}, ""), 5, "steps"))
    # the documented rule: after every 5th step of an epoch, at the first sync (a multiple of 2) at or after it
    # (steps 5 → 6 and 10 → 10), and at the end of every epoch
    within = [next(s for s in range(k, 13) if s % 2 == 0) for k in (5, 10)]
    expected = [(e, p, 12 * e + p) for e in (0, 1) for p in within] + [(1, 0, 12), (2, 0, 24)]
    assert sorted(SAVED) == sorted(expected)


class _Sync(_EveryTwo):
    def __init__(self, every):
        self.every = every


class _Chosen(Exception):
    """Raised by the stand-in for get_engine once it has recorded what the loop asked for."""


@pytest.mark.parametrize("sync_every,sync,lockstep", [(1, None, True), (1, 1, True), (1, 2, False), (4, None, False)])
def test_threads_run_in_lockstep_exactly_when_every_step_is_a_sync(monkeypatch, sync_every, sync, lockstep):
    """The documented choice: K = 1 (and ranks, if any, syncing every step) runs the fused engine's threads in
    lockstep; any other K averages the threads' parameters every K steps."""
    import linsgd.sgd.loop as loop

    asked = {}

    def record(name, **kw):
        asked.update(kw)
        raise _Chosen

    monkeypatch.setattr(loop, "get_engine", record)
    X = np.zeros((70_000, 2))  # above the rows below which a run uses one thread
    config = TrainConfig(lr=0.01, epochs=1, batch_size=5, threads=2, sync_every=sync_every, seed=0)
    with pytest.raises(_Chosen):
        train_data(InMemory(X, np.zeros(70_000)), config, sync=None if sync is None else _Sync(sync))
    assert {k: asked[k] for k in ("device", "threads", "lockstep")} == {"device": "cpu", "threads": 2,
                                                                         "lockstep": lockstep}
    assert asked["sparse"] is False and asked["loss"][0] == "squared"


def test_resuming_a_finished_run_trains_no_more_and_reports_no_early_stop():
    X, y = _data()
    config = TrainConfig(lr=0.05, epochs=2, seed=3, dtype="float64", average=False, patience=5)
    states = []

    class Keep(Checkpointer):
        def save(self, state) -> None:
            import copy

            states.append(copy.deepcopy(state))

    done = train_data(InMemory(X, y), config, checkpoints=Keep(None, Identity({}, ""), 1, "epochs"))
    assert done.stopped_epoch == 0 and states[-1].epoch == 2 and states[-1].best_w is not None
    again = train_data(InMemory(X, y), config, resume=states[-1])
    assert again.stopped_epoch == 0 and again.history == done.history
    np.testing.assert_array_equal(again.w, done.w)


def test_the_epoch_bar_is_drawn_only_when_asked(capsys):
    X, y = _data()
    config = TrainConfig(lr=0.05, epochs=2, seed=3, dtype="float64", average=False)
    train_data(InMemory(X, y), config, progress=False)
    assert capsys.readouterr().err == ""
    train_data(InMemory(X, y), config, progress=True)
    assert "epochs" in capsys.readouterr().err


def test_a_coefficient_table_refuses_names_that_do_not_match_the_coefficients():
    r = FitResult(w=np.array([1.0, 2.0]), b=3.0, history=[], seed=0, config=TrainConfig(), feature_names=["a"])
    with pytest.raises(ValueError):
        r.coef_table()
    r.feature_names = ["a", "b"]
    assert r.coef_table() == {"a": 1.0, "b": 2.0, "(intercept)": 3.0}


def test_the_loops_settings_after_the_config_are_keywords():
    X, y = _data()
    with pytest.raises(TypeError):
        train_data(InMemory(X, y), TrainConfig(lr=0.05, epochs=1), InMemory(X, y))


class _ScriptedLoss(InMemory):
    """In-memory rows whose full-data loss after each epoch is read from a script (the guard's input)."""

    def __init__(self, X, y, losses):
        super().__init__(X, y)
        self.losses = iter(losses)

    def loss(self, engine, w, b) -> float:
        return next(self.losses)


def test_the_growth_guard_fires_only_above_max_loss_growth_times_the_best_loss():
    from linsgd.errors import DivergenceError

    X, y = _data()
    config = TrainConfig(lr=0.01, epochs=3, seed=0, dtype="float64", average=False, max_loss_growth=8.0)
    at = train_data(_ScriptedLoss(X, y, [2.0, 0.5, 4.0]), config)  # exactly 8 × the best: no divergence
    assert at.history == [2.0, 0.5, 4.0]
    with pytest.raises(DivergenceError, match="the loss grew from 0.5 to 4"):
        train_data(_ScriptedLoss(X, y, [2.0, 0.5, 4.000000000000001]), config)
