"""Continuing a run in memory (train_arrays with init and first_epoch) against the uninterrupted run: what
mutation testing of sgd/loop.py found unpinned."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

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


def test_a_huber_run_long_enough_for_the_loss_statistics_reports_the_huber_loss():
    """The loss from the statistics of [X y] is the squared loss: a huber run, with as many rows and epochs
    as make the statistics pay off for squared runs, reports each epoch's mean huber loss, by hand."""
    from linsgd.data.views import InMemory
    from linsgd.lstsq.loss import MIN_ROWS, pays_off
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(2)
    n, eps = MIN_ROWS, 0.5
    X = rng.standard_normal((n, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 + rng.standard_t(2, n)  # heavy tails: many residuals beyond ε
    config = TrainConfig(solver="sgd", seed=1, lr=0.01, batch_size=4096, epochs=4, average=False, dtype="float64",
                         engine="reference", loss="huber", epsilon=eps)
    assert pays_off(config.epochs, 3)
    result = train_data(InMemory(X, y), config)
    r = np.abs(y - X @ result.w - result.b)
    huber = np.mean(np.where(r <= eps, 0.5 * r * r, eps * r - 0.5 * eps * eps))
    assert result.history[-1] == pytest.approx(huber, rel=1e-9)
    assert huber < 0.5 * np.mean(r * r) / 2  # far from the squared loss it must not be


def test_continuing_an_auto_run_extends_its_epoch_cap_by_max_epochs():
    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.001, batch_size=8, average=False, dtype="float64",
                         epochs="auto", max_epochs=5, tol=0.0)  # a slow step: the loss falls every epoch
    whole = train_arrays(X, y, config)
    assert len(whole.history) == 5 and not whole.stopped_epoch  # ran into the cap of 5
    first = train_arrays(X, y, dataclasses.replace(config, max_epochs=3))
    rest = train_arrays(X, y, dataclasses.replace(config, max_epochs=2), init=(first.w, first.b), first_epoch=3)
    assert len(rest.history) == 2  # epochs 3 and 4: the cap is 3 + 2
    np.testing.assert_array_equal(rest.w, whole.w)


def test_train_arrays_takes_its_continuation_by_keyword_only():
    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.02, batch_size=8, dtype="float64", epochs=1)
    with pytest.raises(TypeError):
        train_arrays(X, y, config, (np.zeros(3), 0.0))


def test_a_streamed_run_that_diverges_raises_the_divergence_error(tmp_path):
    from linsgd.config import DataConfig
    from linsgd.data.first_pass import encode
    from linsgd.data.rows import load_rows
    from linsgd.data.views import Streamed
    from linsgd.errors import DivergenceError
    from linsgd.sgd.loop import train_data

    X, y = _data()
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X * 1e3, y]))
    cfg = DataConfig(target="3", max_memory=2000)
    table = load_rows(encode(path, cfg, dtype="float64"), cfg, seed=0).train
    config = TrainConfig(solver="sgd", seed=0, lr=10.0, batch_size=8, average=False, dtype="float64", epochs=3)
    with pytest.raises(DivergenceError):
        train_data(Streamed(table, window_rows=16), config)
    table.close()


def _epoch_by_hand(X, y, w, b, order, lr: float = 0.02, batch: int = 8):
    """One epoch of the chapter's minibatch step in ``order``: w ← w − η·mean(r·x), b ← b − η·mean(r)."""
    for a in range(0, len(y), batch):
        i = order[a:a + batch]
        r = X[i] @ w + b - y[i]
        w, b = w - lr * (X[i].T @ r) / len(i), b - lr * r.mean()
    return w, b


def test_starting_at_a_later_epoch_without_init_steps_from_the_seeds_initial_weights_in_that_epochs_order():
    """The chapter's minibatch step replayed by hand: epoch 2's order, w ← w − η·mean(r·x), from init_params."""
    from linsgd.data.batching import epoch_order
    from linsgd.sgd.loop import init_params

    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.02, batch_size=8, average=False, dtype="float64", epochs=1)
    got = train_arrays(X, y, config, first_epoch=2)
    w, b = init_params(4, 3, config.init_std, "float64")
    w, b = _epoch_by_hand(X, y, w, b, epoch_order(4, 2, len(y)))
    np.testing.assert_allclose(got.w, w, rtol=1e-12)
    assert got.b == pytest.approx(b, rel=1e-12)


def test_with_tol_zero_an_equal_loss_is_no_improvement():
    """y ≡ 0 from w = 0, b = 0: every epoch's loss is exactly 0; the first is the best, and the run stops
    AUTO_PATIENCE = 3 epochs later (the documented rule: an improvement must exceed tol · |best|)."""
    X = np.random.default_rng(0).standard_normal((40, 2))
    config = TrainConfig(solver="sgd", seed=0, lr=0.05, batch_size=8, average=False, dtype="float64", init_std=0.0,
                         epochs="auto", max_epochs=10, tol=0.0)
    result = train_arrays(X, np.zeros(40), config)
    assert result.history == [0.0] * 4
    assert (result.best_epoch, result.stopped_epoch) == (1, 4)


def test_the_run_time_is_measured_from_its_start():
    import time

    X, y = _data()
    before = time.perf_counter()
    result = train_arrays(X, y, TrainConfig(solver="sgd", seed=0, lr=0.02, batch_size=8, dtype="float64", epochs=3))
    elapsed = time.perf_counter() - before
    assert sum(result.epoch_seconds) <= result.seconds <= elapsed


def test_a_large_in_memory_run_with_validation_records_every_epochs_validation_loss():
    """With validation rows every epoch's validation loss is recorded before the next epoch (early stopping
    reads it), also in a run large enough for a training loss to be summed on the idle core (2¹⁶ rows, one
    thread, huber: no statistics): one validation loss per epoch, the objective it monitors, the last one the
    returned model's mean huber loss on the validation rows, by hand."""
    from linsgd._parallel import MIN_SPLIT_ROWS
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(6)
    n, eps = MIN_SPLIT_ROWS, 0.5
    X, Xv = rng.standard_normal((n, 2)), rng.standard_normal((500, 2))
    y = X @ [1.0, -2.0] + 0.3 + rng.standard_t(3, n)
    yv = Xv @ [1.0, -2.0] + 0.3 + rng.standard_t(3, 500)
    for engine in ("reference", "fused"):  # (the compiled engine is the one whose loss may go to the idle core)
        config = TrainConfig(solver="sgd", seed=2, lr=0.01, batch_size=1024, epochs=3, average=False,
                             dtype="float64", engine=engine, loss="huber", epsilon=eps, threads=1)
        result = train_data(InMemory(X, y), config, val=InMemory(Xv, yv))
        assert len(result.history) == len(result.val_history) == 3, engine
        assert result.objective == result.val_history  # the monitored objective is the validation loss
        r = np.abs(yv - Xv @ result.w - result.b)
        huber = np.mean(np.where(r <= eps, 0.5 * r * r, eps * r - 0.5 * eps**2))
        assert result.val_history[-1] == pytest.approx(huber, rel=1e-9)


def test_an_adagrad_run_starts_new_sums_and_a_resumed_one_needs_its_own():
    """A fresh AdaGrad run (sparse rows) starts from zero sums of squares; a run resumed after its first step
    continues its sums (equal to the uninterrupted run) and, without them, is an internal error, even one step
    in (never a silent restart of the sums)."""
    import copy

    import scipy.sparse as sp
    from test_resume import _recorder

    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(1)
    X = sp.random(60, 8, density=0.3, format="csr", random_state=1, dtype=np.float64)
    y = X @ rng.standard_normal(8) + 0.5
    config = TrainConfig(lr=0.2, epochs=2, batch_size=4, seed=5, dtype="float64", schedule="adagrad",
                         average=False)
    rec = _recorder(1, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    first = rec.states[0]
    assert first.step == 1
    resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(first))
    assert np.array_equal(resumed.w, full.w) and resumed.b == full.b
    lost = copy.deepcopy(first)
    lost.sumsq = None
    with pytest.raises(ValueError, match="sums of squares"):
        train_data(InMemory(X, y), config, resume=lost)


def test_early_stopping_on_the_training_loss_of_a_large_run_stops_by_the_documented_rule():
    """Early stopping without validation rows reads each epoch's training loss before the next epoch, also in a
    run large enough for the loss to go to the idle core (2¹⁶ rows, one thread, huber): with patience 2 and a
    tol of 0.5 no epoch improves enough after the first, so it keeps epoch 1 and stops at epoch 3 — the rule
    replayed on the recorded losses — returning epoch 1's model."""
    from linsgd._parallel import MIN_SPLIT_ROWS
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(7)
    X = rng.standard_normal((MIN_SPLIT_ROWS, 2))
    y = X @ [1.0, -2.0] + 0.3 + rng.standard_t(3, MIN_SPLIT_ROWS)
    for engine in ("reference", "fused"):
        config = TrainConfig(solver="sgd", seed=2, lr=0.01, batch_size=1024, epochs=10, average=False,
                             dtype="float64", engine=engine, loss="huber", epsilon=0.5, threads=1, patience=2,
                             tol=0.5)
        result = train_data(InMemory(X, y), config)
        losses = result.history
        assert all(loss >= losses[0] * (1 - 0.5) for loss in losses[1:])  # no relative improvement > tol
        assert (result.best_epoch, result.stopped_epoch, len(losses)) == (1, 3, 3), engine
        one = train_data(InMemory(X, y), dataclasses.replace(config, epochs=1, patience=None))
        np.testing.assert_array_equal(result.w, one.w)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_before_averaging_starts_the_model_and_its_loss_are_the_plain_iterates(engine):
    """average="auto" averages from the second epoch on: a one-epoch run returns the plain SGD iterate, the
    model of average=False, and records its loss, ½·mean((Xw + b − y)²) by hand."""
    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.02, batch_size=8, dtype="float64", epochs=1,
                         engine="fused" if engine == "compiled" else engine)
    auto = train_arrays(X, y, dataclasses.replace(config, average="auto"))
    plain = train_arrays(X, y, dataclasses.replace(config, average=False))
    np.testing.assert_array_equal(auto.w, plain.w)
    assert auto.b == plain.b
    assert auto.history[0] == pytest.approx(0.5 * np.mean((X @ plain.w + plain.b - y) ** 2), rel=1e-12)


def test_the_epoch_bar_is_cleared_when_the_run_ends(capsys):
    """The bar is a transient line: drawn while the epochs run, erased at the end (tqdm's leave=False), so the
    run's report that follows starts on a clean line and no finished bar is left on the terminal."""
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    X, y = _data()
    train_data(InMemory(X, y), TrainConfig(lr=0.05, epochs=2, seed=3, dtype="float64", average=False), progress=True)
    err = capsys.readouterr().err
    assert "epochs" in err and "\n" not in err  # no line left behind: only carriage returns


def test_a_run_from_given_weights_at_epoch_zero_starts_from_them():
    """init without first_epoch: epoch 0 from the given (w, b), the chapter's minibatch step replayed by hand."""
    from linsgd.data.batching import epoch_order

    X, y = _data()
    config = TrainConfig(solver="sgd", seed=4, lr=0.02, batch_size=8, average=False, dtype="float64", epochs=1)
    w, b = np.array([3.0, 1.0, -1.0]), 2.0
    got = train_arrays(X, y, config, init=(w, b))
    w, b = _epoch_by_hand(X, y, w, b, epoch_order(4, 0, len(y)))
    np.testing.assert_allclose(got.w, w, rtol=1e-12)
    assert got.b == pytest.approx(b, rel=1e-12)


def test_a_large_run_with_epoch_checkpoints_writes_one_at_every_epochs_end():
    """A checkpointer sees every epoch's end (with its loss recorded), also in a run large enough for the loss
    to go to the idle core (2¹⁶ rows, one thread, huber, the compiled engine): epochs 1, 2, 3, and epoch 1's
    state holds the model of a one-epoch run."""
    from test_resume import _recorder

    from linsgd._parallel import MIN_SPLIT_ROWS
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(8)
    X = rng.standard_normal((MIN_SPLIT_ROWS, 2))
    y = X @ [1.0, -2.0] + 0.3 + rng.standard_t(3, MIN_SPLIT_ROWS)
    config = TrainConfig(solver="sgd", seed=2, lr=0.01, batch_size=1024, epochs=3, average=False, dtype="float64",
                         engine="fused", loss="huber", epsilon=0.5, threads=1)
    rec = _recorder(1, "epochs")
    result = train_data(InMemory(X, y), config, checkpoints=rec)
    assert [s.epoch for s in rec.states] == [1, 2, 3]
    assert [len(s.history) for s in rec.states] == [1, 2, 3]
    np.testing.assert_array_equal(rec.states[-1].w, result.w)
    one = train_data(InMemory(X, y), dataclasses.replace(config, epochs=1))
    np.testing.assert_array_equal(rec.states[0].w, one.w)


def test_the_epoch_times_of_a_large_run_lie_within_its_wall_time():
    """Each epoch's time is measured from its own start, also when its loss is summed on the idle core while the
    next epoch trains (2¹⁶ rows, one thread, huber, the compiled engine): every epoch time is positive and
    they add up to at most the wall time around the call."""
    import time

    from linsgd._parallel import MIN_SPLIT_ROWS
    from linsgd.data.views import InMemory
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(9)
    X = rng.standard_normal((MIN_SPLIT_ROWS, 2))
    y = X @ [1.0, -2.0] + 0.3 + rng.standard_t(3, MIN_SPLIT_ROWS)
    config = TrainConfig(solver="sgd", seed=2, lr=0.01, batch_size=1024, epochs=3, average=False, dtype="float64",
                         engine="fused", loss="huber", epsilon=0.5, threads=1)
    train_data(InMemory(X[:100], y[:100]), dataclasses.replace(config, epochs=1))  # compile outside the timing
    start = time.perf_counter()
    result = train_data(InMemory(X, y), config)
    wall = time.perf_counter() - start
    assert len(result.epoch_seconds) == 3
    assert all(t > 0 for t in result.epoch_seconds) and sum(result.epoch_seconds) <= wall


def test_a_sparse_run_long_enough_for_the_loss_statistics_reports_its_loss_by_a_pass():
    """The statistics of [X y] are gathered for dense rows only: a sparse run of as many epochs as make them pay
    off for dense rows trains and reports its last epoch's loss, ½·mean((Xw + b − y)²) by hand."""
    import scipy.sparse as sp

    from linsgd.data.views import InMemory
    from linsgd.lstsq.loss import pays_off
    from linsgd.sgd.loop import train_data

    rng = np.random.default_rng(1)
    X = sp.random(2000, 8, density=0.3, format="csr", random_state=1, dtype=np.float64)
    y = X @ rng.standard_normal(8) + 0.5 + rng.standard_normal(2000)
    config = TrainConfig(lr=0.01, epochs=20, batch_size=64, seed=5, dtype="float64", average=False)
    assert pays_off(config.epochs, 8)
    result = train_data(InMemory(X, y), config)
    assert result.history[-1] == pytest.approx(0.5 * np.mean((X @ result.w + result.b - y) ** 2), rel=1e-12)
