"""The loop's bookkeeping against closed forms: the monitored objective of a penalised run (loss plus
α(ρ‖w‖₁ + (1−ρ)/2‖w‖²)), the rule it builds from the config, the initialisation, FitResult's helpers, and
the returned averaged parameters."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.batching import INIT_STREAM
from linsgd.data.views import InMemory
from linsgd.sgd.loop import init_params, penalty_value, step_rule, train_data


def _data(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return InMemory(X, X @ [1.0, -0.5, 0.0] + 0.3 + 0.1 * rng.standard_normal(n))


@pytest.mark.parametrize("penalty,rho", [("l1", 1.0), ("l2", 0.0), ("elasticnet", 0.3)])
def test_a_penalised_runs_objective_is_its_loss_plus_the_penalty(penalty, rho):
    data, alpha = _data(), 0.05
    config = TrainConfig(lr=0.05, epochs=3, seed=1, dtype="float64", engine="reference", penalty=penalty, average=False,
                         alpha=alpha, l1_ratio=rho if penalty == "elasticnet" else 0.15)
    r = train_data(data, config)
    w = r.w
    pen = alpha * (rho * np.abs(w).sum() + 0.5 * (1 - rho) * w @ w)
    assert pen > 1e-4
    assert penalty_value(w, config) == pytest.approx(pen, rel=1e-12)
    assert r.objective[-1] == pytest.approx(r.history[-1] + pen, rel=1e-12)
    res = data.X @ w + r.b - data.y
    assert r.history[-1] == pytest.approx(0.5 * res @ res / len(res), rel=1e-12)
    assert penalty_value(w, TrainConfig()) == 0.0


def test_the_rule_built_from_the_config():
    config = TrainConfig(lr=0.2, epochs=4, schedule="cosine", power_t=0.4, penalty="elasticnet", alpha=0.1,
                         l1_ratio=0.25, average=7)
    rule = step_rule(config, 30)
    assert (rule.lr, rule.schedule, rule.power_t, rule.total_steps) == (0.2, "cosine", 0.4, 120)
    assert rule.l1 == pytest.approx(0.025) and rule.l2 == pytest.approx(0.075) and rule.average_from == 7
    assert step_rule(TrainConfig(lr=0.03, epochs=0), 30).total_steps == 1  # never a division by zero in cosine
    assert step_rule(TrainConfig(lr=0.03, epochs=3, average="auto"), 30).average_from == 31  # from the second epoch


def test_the_initialisation_is_the_chapters_normal_draw():
    w, b = init_params(5, 4, 0.01, "float32")
    expected = np.random.default_rng([5, INIT_STREAM]).normal(0.0, 0.01, 4)
    assert w.dtype == np.float32 and b == 0.0
    np.testing.assert_array_equal(w, expected.astype(np.float32))


def test_fit_result_predicts_and_names_its_coefficients():
    r = train_data(_data(1), TrainConfig(lr=0.05, epochs=2, seed=2, dtype="float64", engine="reference", average=False))
    X = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(r.predict(X), X @ r.w + r.b, rtol=1e-15)
    table = r.coef_table()
    assert list(table) == ["x0", "x1", "x2", "(intercept)"]
    assert table["x1"] == r.w[1] and table["(intercept)"] == r.b
    assert r.stopped_epoch == 0 and len(r.history) == len(r.epoch_seconds) == 2 and r.lr == 0.05


def test_an_averaged_run_returns_the_running_average_of_its_iterates():
    """average=k: the mean of the iterates after steps k, k+1, …; with one step per epoch it is the mean of
    the per-epoch iterates, recomputed here from runs cut after each epoch (average off)."""
    data = _data(2, n=10)
    base = dict(lr=0.05, batch_size=10, seed=3, dtype="float64", engine="reference")
    iterates = [train_data(data, TrainConfig(epochs=k, average=False, **base)) for k in range(1, 7)]
    averaged = train_data(data, TrainConfig(epochs=6, average=3, **base))
    np.testing.assert_allclose(averaged.w, np.mean([r.w for r in iterates[2:]], axis=0), rtol=1e-12)
    assert averaged.b == pytest.approx(np.mean([r.b for r in iterates[2:]]), rel=1e-12)
    plain = iterates[-1]
    assert not np.allclose(averaged.w, plain.w)


def test_the_growth_guard_reports_the_end_of_the_epoch_and_one_process_never_syncs():
    import linsgd
    from linsgd.data.synthetic import make_regression
    from linsgd.sgd.loop import NoSync

    X, y = make_regression(1000, [2.0, -3.4], 4.2, seed=0)
    with pytest.raises(linsgd.DivergenceError) as info:
        train_data(InMemory(X, y), TrainConfig(lr=2.0, epochs=3, seed=0, engine="reference"))
    e = info.value
    assert e.step == 0 and "the loss grew from" in e.reason and f"the end of epoch {e.epoch}" in str(e)
    # the epoch is the first whose loss exceeds 1000 × the best before it (the same run without the guard)
    free = train_data(InMemory(X, y), TrainConfig(lr=2.0, epochs=3, seed=0, engine="reference",
                                                  max_loss_growth=None)).history
    first = next(k for k in range(2, 4) if free[k - 1] > 1e3 * min(free[:k - 1]))
    assert e.epoch == first
    sync = NoSync()
    assert (sync.calls, sync.seconds, sync.every) == (0, 0.0, None)  # what a one-process run reports
    w = np.ones(2)
    assert sync.average(w, 0.5, 10) == (w, 0.5) and sync.drain(w, 0.5, 10) == (w, 0.5)


def test_a_loss_that_overflows_only_over_all_rows_is_divergence_at_the_end_of_epoch_1():
    """Every batch's loss ½r² = 5e307 is finite; their sum over 50 rows is not: the end-of-epoch check."""
    import linsgd

    X, y = np.zeros((50, 1)), np.full(50, 1e154)
    with pytest.raises(linsgd.DivergenceError) as info:
        train_data(InMemory(X, y), TrainConfig(lr=1e-300, epochs=2, batch_size=1, seed=0, dtype="float64",
                                               engine="reference"))
    assert (info.value.epoch, info.value.step) == (1, 0) and "the end of epoch 1" in str(info.value)


class RecordingSync:
    """A sync every ``every`` steps that changes nothing and records the examples run since the last one."""

    def __init__(self, every):
        self.every, self.calls, self.seconds, self.counts = every, 0, 0.0, []

    def average(self, w, b, examples):
        self.counts.append(("average", examples))
        return w, b

    def drain(self, w, b, examples):
        self.counts.append(("drain", examples))
        return w, b


def test_each_sync_gets_the_examples_run_since_the_last_one():
    data = _data(3, n=107)  # 11 steps of 10 per epoch, the last one of 7
    sync = RecordingSync(4)
    r = train_data(data, TrainConfig(lr=0.05, epochs=2, batch_size=10, seed=1, dtype="float64",
                                     engine="reference", sync_every=4), sync=sync)
    one_epoch = [("average", 40), ("average", 40), ("drain", 27)]
    assert sync.counts == one_epoch * 2
    plain = train_data(data, TrainConfig(lr=0.05, epochs=2, batch_size=10, seed=1, dtype="float64",
                                         engine="reference"))
    np.testing.assert_array_equal(r.w, plain.w)  # a sync that changes nothing changes nothing


def test_the_growth_guard_is_relative_to_the_best_loss_and_epoch_times_add_up():
    """A converging run on a large-scale target (loss ~1e6) is no divergence: the guard compares with
    max_loss_growth × the best loss so far, whatever the scale of the loss."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 2))
    y = 1000.0 * (X @ [1.0, -1.0]) + 1500.0 * rng.standard_normal(200)
    r = train_data(InMemory(X, y), TrainConfig(lr=0.01, epochs=4, seed=0, dtype="float64", engine="reference"))
    assert min(r.history) > 1e6 and r.history[-1] <= r.history[0]
    assert all(t >= 0 for t in r.epoch_seconds) and sum(r.epoch_seconds) <= r.seconds


def test_before_averaging_starts_the_loop_reports_the_iterate():
    """average="auto" starts after the first epoch: epoch 1's loss is the plain iterate's."""
    data = _data(5)
    base = dict(lr=0.05, epochs=1, seed=6, dtype="float64", engine="reference")
    plain = train_data(data, TrainConfig(**base))
    auto = train_data(data, TrainConfig(average="auto", **(base | {"epochs": 3})))
    assert auto.history[0] == plain.history[0]
