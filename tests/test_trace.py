"""linsgd.sgd.trace: the same SGD as linsgd.fit, step by step, with the path it took."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.config import CHAPTER, TrainConfig
from linsgd.data.synthetic import make_regression
from linsgd.sgd.trace import trace


def chapter(**settings) -> TrainConfig:
    """The chapter's settings (linsgd.fit's defaults), with these changed."""
    return TrainConfig(**{**CHAPTER, **settings})


@pytest.mark.parametrize("batch_size,lr,max_points", [(10, 0.03, 2000), (7, 0.03, 50), (1000, 0.1, 2000),
                                                      (3, 0.05, 40)])
def test_the_trace_ends_where_fit_ends(engine, batch_size, lr, max_points):
    X, y = make_regression(1000, [2, -3.4], 4.2, seed=3)
    r = linsgd.fit(X, y, lr=lr, epochs=3, batch_size=batch_size, seed=5, engine=engine)
    t = trace(X, y, chapter(lr=lr, epochs=3, batch_size=batch_size, seed=5, engine=engine),
              max_points=max_points)
    w, b = t.final
    np.testing.assert_allclose(w, r.w, rtol=0, atol=1e-6)
    assert b == pytest.approx(r.b, abs=1e-6)
    np.testing.assert_allclose(t.history, r.history, rtol=1e-5)
    per_epoch = -(-1000 // batch_size)
    assert t.epoch_ends == [per_epoch, 2 * per_epoch, 3 * per_epoch] and t.steps[-1] == 3 * per_epoch
    assert t.steps[0] == 0 and np.all(np.diff(t.steps) > 0) and len(t.steps) <= max_points + 4
    assert t.loss[0] > t.loss[-1]  # from the initial parameters' loss down towards the fitted one's
    assert t.diverged is None
    # examples seen: whole epochs of 1000, then B per step of the epoch (its short last batch as it is)
    expected = [(s // per_epoch) * 1000 + min((s % per_epoch) * batch_size, 1000) for s in t.steps.tolist()]
    assert t.examples.tolist() == expected and t.examples[-1] == 3000


def test_every_step_is_recorded_when_there_are_few(engine):
    X, y = make_regression(95, [1.5], -1.0, seed=0)
    t = trace(X, y, chapter(lr=0.1, epochs=2, batch_size=10, seed=1, engine=engine))
    assert t.steps.tolist() == list(range(21)) and t.epoch_ends == [10, 20]
    # each recorded loss is the full-data loss of the recorded parameters
    k = 7
    expected = 0.5 * np.mean((X.astype(np.float64) @ t.w[k] + t.b[k] - y) ** 2)
    assert t.loss[k] == pytest.approx(expected, rel=1e-5)


def test_a_diverging_run_ends_the_trace_at_its_last_finite_step():
    X, y = make_regression(1000, [2, -3.4], 4.2, seed=1)
    with pytest.raises(linsgd.DivergenceError) as info:
        linsgd.fit(X, y, lr=3, seed=1)
    t = trace(X, y, chapter(lr=3, seed=1))
    assert t.diverged is not None and t.diverged[:2] == (info.value.epoch, info.value.step)
    assert t.blowup_step == t.steps[-1] + 1 and np.all(np.isfinite(t.w)) and np.all(np.isfinite(t.loss))


def test_lr_auto_traces_on_the_raw_scale():
    X, y = make_regression(500, [2, -3.4], 4.2, seed=2)
    X = X * np.array([10.0, 0.1], dtype=np.float32)  # columns of different units
    r = linsgd.fit(X, y, lr="auto", seed=4)
    t = trace(X, y, chapter(lr="auto", seed=4))
    np.testing.assert_allclose(t.final[0], r.w, rtol=1e-5)
    assert t.final[1] == pytest.approx(r.b, abs=1e-5) and t.lr == pytest.approx(r.lr)


def test_the_exact_solver_has_no_steps_to_trace():
    X, y = make_regression(50, [1.0], 0.0, seed=0)
    with pytest.raises(linsgd.ConfigError, match="solver"):
        trace(X, y, chapter(solver="exact"))


def test_epochs_auto_stops_as_fit_does(engine):
    X, y = make_regression(1000, [2, -3.4], 4.2, seed=3)
    r = linsgd.fit(X, y, lr=0.03, epochs="auto", seed=5, engine=engine, average=False)
    t = trace(X, y, chapter(lr=0.03, epochs="auto", seed=5, engine=engine))
    assert r.stopped_epoch > 3 and t.stopped_epoch == r.stopped_epoch == len(t.history)
    np.testing.assert_allclose(t.history, r.history, rtol=1e-5)
    assert t.epoch_ends[-1] == 100 * t.stopped_epoch and t.steps[-1] == t.epoch_ends[-1]
    # a fixed number of epochs never stops early
    assert trace(X, y, chapter(lr=0.03, epochs=2, seed=5, engine=engine)).stopped_epoch == 0
