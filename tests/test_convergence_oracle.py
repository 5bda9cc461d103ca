"""The convergence verdict's measurements against independent oracles: the distance of an answer from least
squares against statsmodels OLS (its loss, optimum, ½Var(y), standard errors and the worst coefficient), a file
run's gap dict read back, and the loss-still-falling rule just above and below its documented 0.1 %."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.sgd.convergence import GAP_WORK, Distance, capped, diagnose, distance
from linsgd.sgd.result import FitResult


def _problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) * [1.0, 10.0, 0.1] + [2.0, -5.0, 1.0]
    return X, X @ [1.0, 0.2, -3.0] + 0.7 + 0.5 * rng.standard_normal(n)


def test_the_distance_is_statsmodels_ols_in_standard_errors():
    import statsmodels.api as sm

    X, y = _problem()
    ols = sm.OLS(y, sm.add_constant(X, prepend=False)).fit()
    mean, names = X.mean(axis=0), ["a", "b", "c"]

    def answer(se_w, se_centre):
        """Coefficients se_w standard errors (OLS's) from the optimum, the prediction at the mean of X (the
        centred intercept, se s/√n) se_centre of its standard errors from the optimum's."""
        w = ols.params[:3] + np.asarray(se_w) * ols.bse[:3]
        return w, ols.params[3] - (w - ols.params[:3]) @ mean + se_centre * np.sqrt(ols.scale / len(y))

    w, b = answer([0.3, -0.4, 0.2], 0.5)  # the intercept is the worst
    found = distance(X, y, w, b, names=names)
    r = X @ w + b - y
    assert found.loss == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-12)
    assert found.optimum == pytest.approx(0.5 * ols.ssr / len(y), rel=1e-10)
    assert found.null == pytest.approx(0.5 * np.var(y), rel=1e-12)
    assert found.max_se == pytest.approx(0.5, rel=1e-6) and found.worst == "intercept"
    found = distance(X, y, *answer([0.3, -0.8, 0.2], 0.5), names=names)  # now the second coefficient, by name
    assert found.max_se == pytest.approx(0.8, rel=1e-6) and found.worst == "b"
    assert distance(X, y, *answer([0.3, -0.8, 0.2], 0.5)).worst == "x1"  # without names
    assert distance(X, y, *answer([0.3, 0.1, 1.3], -0.2)).max_se == pytest.approx(1.3, rel=1e-6)


def test_the_distance_has_no_standard_errors_without_residual_degrees_of_freedom_or_a_residual():
    X, y = _problem(n=4)  # n = d + 1: no residual degree of freedom
    found = distance(X, y, np.zeros(3), 0.0)
    assert found.max_se is None and found.worst is None and found.loss > 0
    X, y = _problem(n=5)  # n = d + 2: one
    assert distance(X, y, np.zeros(3), 0.0).max_se is not None
    exact = distance(X, X @ [1.0, 2.0, 3.0], np.zeros(3), 0.0)  # y exactly linear: L* = 0 up to rounding
    assert exact.perfect and exact.optimum <= 1e-20


def test_the_distance_is_not_computed_past_its_work_budget():
    d = 3
    n = GAP_WORK // (d + 1) ** 2  # exactly the budget: computed; one row more: not
    X = np.zeros((n + 1, d))
    X[:, 0] = np.arange(n + 1) % 7
    y = X[:, 0] * 2.0 + 1.0
    assert distance(X[:n], y[:n], np.zeros(d), 0.0) is not None
    assert distance(X, y, np.zeros(d), 0.0) is None
    assert distance(np.zeros((0, d)), np.zeros(0), np.zeros(d), 0.0) is None


def test_a_file_runs_gap_dict_reads_back_with_its_worst_coefficient():
    gap = {"loss": 2.0, "optimum": 1.5, "max_se_units": 3.0, "se_units": [0.5, None, -3.0, 1.0],
           "names": ["a", "b", "c", "intercept"]}
    found = Distance.from_gap(gap, 4.0)
    assert (found.loss, found.optimum, found.null, found.max_se, found.worst) == (2.0, 1.5, 4.0, 3.0, "c")
    small = {**gap, "se_units": [0.5, None, -0.8, 0.2], "max_se_units": 0.8}  # a missing unit never wins
    assert Distance.from_gap(small, 4.0).worst == "c"
    assert Distance.from_gap({**gap, "names": None}, 4.0).worst is None
    assert Distance.from_gap({**gap, "se_units": []}, 4.0).worst is None
    assert Distance.from_gap({"loss": None, "optimum": 1.0}, 4.0) is None
    assert Distance.from_gap({"loss": 1.0}, 4.0) is None


def test_the_relative_gap_floors_at_a_hundred_thousandth_of_the_null_loss():
    assert Distance(loss=3.0, optimum=2.0, null=10.0).relative == pytest.approx(0.5)
    assert Distance(loss=1.0, optimum=2.0, null=10.0).relative == 0.0  # below the optimum (rounding): no gap
    assert Distance(loss=1e-5, optimum=0.0, null=10.0).relative == pytest.approx(1e-5 / 1e-4)
    assert Distance(loss=0.0, optimum=0.0, null=0.0).relative == 0.0
    assert Distance(loss=1e-9, optimum=0.0, null=0.0).relative == float("inf")
    assert Distance(loss=1.0, optimum=1e-5, null=1.0).perfect  # the boundary itself is perfect
    assert not Distance(loss=1.0, optimum=1.0001e-5, null=1.0).perfect


def _run(objective, stopped=0, **settings):
    config = TrainConfig(**{"solver": "sgd", "seed": 0, "lr": 0.01, **settings})
    return FitResult(w=np.zeros(2), b=0.0, history=list(objective), seed=0, config=config, objective=list(objective),
                     stopped_epoch=stopped)


@pytest.mark.parametrize("drop,falling", [(0.999e-3, False), (1.001e-3, True)])
def test_the_loss_still_falling_rule_fires_above_a_tenth_of_a_percent(drop, falling):
    last = 2.0
    why = diagnose(_run([5.0, last * (1 + drop), last]), None)
    assert (why is not None) == falling
    if falling:
        assert f"the loss fell by {drop:.3g} (relative) in the last epoch when the 3 epochs ran out" in why


def test_the_falling_rule_on_one_epoch_a_stopped_run_and_a_non_finite_loss():
    assert "was measured after a single epoch when the 1 epoch ran out" in diagnose(_run([2.0]), None)
    assert diagnose(_run([5.0, 3.0, 2.0], stopped=3), None) is None  # early stopping: it stopped by itself
    assert diagnose(_run([2.0, float("nan")]), None) is not None
    assert diagnose(_run([3.0, 2.0, float("nan")]), None) is not None  # the last epoch's, not the second's
    assert diagnose(_run([]), None) is None
    # the monitored objective, not the training loss, is what the rule reads
    r = _run([2.0, 2.0, 2.0])
    r.history[:] = [5.0, 3.0, 2.0]
    assert diagnose(r, None) is None


def test_capped_means_epochs_auto_ran_into_max_epochs_without_stopping():
    assert capped(_run([1.0] * 4, epochs="auto", max_epochs=4))
    assert not capped(_run([1.0] * 3, epochs="auto", max_epochs=4))
    assert not capped(_run([1.0] * 4, epochs="auto", max_epochs=4, stopped=4))
    assert not capped(_run([1.0] * 4, epochs=4))
    why = diagnose(_run([4.0, 3.0, 2.0, 1.0], epochs="auto", max_epochs=4), None)
    assert "a larger max_epochs (now 4)" in why and "a smaller tol" not in why


def test_the_standard_error_rule_is_applied_only_when_asked():
    close_in_loss_far_in_se = Distance(loss=1.0001, optimum=1.0, null=10.0, max_se=5.0, worst="a")
    assert diagnose(_run([3.0, 2.0, 1.0]), close_in_loss_far_in_se) is None  # linsgd.fit: the loss rule only
    assert "5 standard errors" in diagnose(_run([3.0, 2.0, 1.0]), close_in_loss_far_in_se, se_rule=True)


def test_the_advice_names_the_exact_solver_only_for_an_unpenalised_objective():
    far = Distance(loss=2.0, optimum=1.0, null=10.0)
    assert "solver exact" in diagnose(_run([3.0, 2.0, 1.0]), far)
    assert "solver" not in diagnose(_run([3.0, 2.0, 1.0], penalty="l2", alpha=0.1), far)


def test_the_gap_rule_at_exactly_five_percent_and_the_perfect_fit_floor_scaled_by_the_null_loss():
    assert Distance(loss=21.0, optimum=20.0, null=1.0).relative == 0.05  # 1/20: the threshold to the last bit
    assert diagnose(_run([3.0, 2.0, 1.0]), Distance(loss=21.0, optimum=20.0, null=1.0)) is None  # not above it
    assert Distance(loss=1.0, optimum=0.9e-4, null=10.0).perfect  # 1e-5 of L₀ = 10
    assert not Distance(loss=1.0, optimum=1.1e-4, null=10.0).perfect


def test_the_advice_never_names_the_exact_solver_after_it_found_no_unique_solution():
    import dataclasses

    from linsgd.sgd.solver import NO_UNIQUE_SOLUTION

    far = Distance(loss=2.0, optimum=1.0, null=10.0)
    run = _run([3.0, 2.0, 1.0])
    run.config = dataclasses.replace(run.config, solver_reason=f"{NO_UNIQUE_SOLUTION} (3 rows, 5 coefficients)")
    why = diagnose(run, far)
    assert "solver" not in why and "lr auto" in why
