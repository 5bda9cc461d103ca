"""Early stopping against independent oracles: the epoch it keeps is the best of the recorded validation
losses (the documented rule: an improvement must beat the best by more than a relative ``tol``), it stops
exactly ``patience`` epochs later, it returns that epoch's (w, b) (those of a run cut at that epoch), and
each validation loss is ½·mean((Xw + b − y)²) over the validation rows, recomputed here from (w, b)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.sgd.loop import train_data


def _views(seed=0, n=200):
    """Training rows of y = 2x, validation rows of y = x: from w = 0 training passes the validation
    optimum w ≈ 1 on its way to w ≈ 2, so the validation loss falls, then rises."""
    rng = np.random.default_rng(seed)
    X, Xv = rng.standard_normal((n, 1)), rng.standard_normal((n // 2, 1))
    y = 2.0 * X[:, 0] + 0.05 * rng.standard_normal(n)
    yv = 1.0 * Xv[:, 0] + 0.05 * rng.standard_normal(n // 2)
    return InMemory(X, y), InMemory(Xv, yv)


def _config(**kw):
    base = dict(lr=0.002, epochs=40, batch_size=10, seed=3, dtype="float64", init_std=0.0, engine="reference",
                average=False)
    return TrainConfig(**(base | kw))


def _rule(losses, patience, tol):
    """The documented stopping rule, replayed on the recorded losses: (kept epoch, stopped epoch)."""
    best, kept = np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        if not np.isfinite(best) or loss < best - tol * abs(best):
            best, kept = loss, epoch
        elif epoch - kept >= patience:
            return kept, epoch
    return kept, 0


@pytest.mark.parametrize("patience", [1, 3])
def test_keeps_the_best_validation_epoch_and_stops_patience_epochs_later(patience):
    train, val = _views()
    result = train_data(train, _config(patience=patience, tol=0.0), val=val)
    vh = result.val_history
    assert result.stopped_epoch and len(vh) == result.stopped_epoch < 40
    kept = int(np.argmin(vh)) + 1
    assert 1 < kept < result.stopped_epoch  # the validation loss fell, then rose
    assert result.best_epoch == kept
    assert result.stopped_epoch - result.best_epoch == patience
    assert all(v > vh[kept - 1] for v in vh[kept:])  # every later epoch is worse: patience was used up
    # the returned parameters are the kept epoch's: those of the same run cut after that epoch
    cut = train_data(train, _config(epochs=kept), val=val)
    np.testing.assert_array_equal(result.w, cut.w)
    assert result.b == cut.b
    assert cut.val_history == vh[:kept]


def test_validation_loss_is_computed_on_the_validation_rows():
    train, val = _views(1)
    for k in (1, 2, 5):
        r = train_data(train, _config(epochs=k), val=val)
        res_v = val.X @ r.w + r.b - val.y
        res_t = train.X @ r.w + r.b - train.y
        assert r.val_history[-1] == pytest.approx(0.5 * np.mean(res_v ** 2), rel=1e-12)
        assert r.history[-1] == pytest.approx(0.5 * np.mean(res_t ** 2), rel=1e-12)
        assert r.objective[-1] == r.val_history[-1]  # what early stopping watches: the validation loss
        assert abs(r.val_history[-1] - r.history[-1]) > 1e-3  # the two data sets really differ


def test_tol_counts_only_improvements_larger_than_a_relative_tol():
    """Train and validate on the same law: the loss keeps falling by shrinking steps, so with tol the run
    stops when the relative improvements drop below tol; without tol it runs on."""
    rng = np.random.default_rng(2)
    X, Xv = rng.standard_normal((200, 1)), rng.standard_normal((100, 1))
    train, val = InMemory(X, 2.0 * X[:, 0] + rng.standard_normal(200)), InMemory(Xv, 2.0 * Xv[:, 0])
    tol, patience = 0.05, 2
    with_tol = train_data(train, _config(patience=patience, tol=tol, lr=0.01), val=val)
    kept, stopped = _rule(with_tol.val_history, patience, tol)
    assert stopped and (with_tol.best_epoch, with_tol.stopped_epoch) == (kept, stopped)
    # the last kept epoch improved by more than tol; the epochs after it, which still improved, by less
    vh = with_tol.val_history
    assert vh[kept - 1] < vh[kept - 2] * (1 - tol)
    assert any(v < vh[kept - 1] for v in vh[kept:])  # an improvement that tol did not count
    strict = train_data(train, _config(patience=patience, tol=0.0, lr=0.01), val=val)
    assert strict.stopped_epoch == 0 or strict.stopped_epoch > with_tol.stopped_epoch


def test_without_patience_the_last_epoch_is_returned_even_when_an_earlier_one_was_better():
    train, val = _views()
    full = train_data(train, _config(epochs=30), val=val)
    assert int(np.argmin(full.val_history)) + 1 < 30 and full.stopped_epoch == 0
    again = train_data(train, _config(epochs=30), val=val)
    np.testing.assert_array_equal(full.w, again.w)
    res = val.X @ full.w + full.b - val.y
    assert full.val_history[-1] == pytest.approx(0.5 * np.mean(res ** 2), rel=1e-12)  # the last epoch's w
