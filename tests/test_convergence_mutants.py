"""The convergence verdict's sentences and edge cases that mutation testing of sgd/convergence.py found
unpinned, each against a hand-written expectation."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.sgd.convergence import Distance, diagnose
from linsgd.sgd.result import FitResult


def _run(objective, **settings):
    config = TrainConfig(**{"solver": "sgd", "seed": 0, "lr": 0.01, **settings})
    return FitResult(w=np.zeros(2), b=0.0, history=list(objective), seed=0, config=config, objective=list(objective))


@pytest.mark.parametrize("epochs,said", [(1, "after 1 epoch (loss"), (2, "after 2 epochs (loss"),
                                         (3, "after 3 epochs (loss")])
def test_the_gap_sentence_counts_the_epochs_in_words(epochs, said):
    far = Distance(loss=2.0, optimum=1.0, null=10.0)  # 100 % above the optimum
    why = diagnose(_run([3.0, 2.0, 1.0][:epochs]), far)
    assert why.startswith("relative optimality gap 1 " + said), why


def test_a_distance_is_frozen():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        Distance(loss=2.0, optimum=1.0, null=10.0).loss = 1.0


def test_the_warning_takes_its_rule_by_keyword_and_its_subjects_by_name():
    from linsgd.errors import ConvergenceWarning
    from linsgd.sgd.convergence import warn_if_not_converged

    far = Distance(loss=1.0001, optimum=1.0, null=10.0, max_se=5.0, worst="a")
    with pytest.warns(ConvergenceWarning, match="5 standard errors"):
        warn_if_not_converged(result=_run([3.0, 2.0, 1.0]), found=far, se_rule=True)
    with pytest.raises(TypeError):
        warn_if_not_converged(_run([3.0, 2.0, 1.0]), far, ConvergenceWarning, True)


def test_two_epochs_of_a_flat_loss_are_converged_and_a_fall_is_relative_to_the_last_loss():
    assert diagnose(_run([2.0, 2.0]), None) is None  # two epochs: the rule compares them, not "a single epoch"
    why = diagnose(_run([5.0, 3.0, 2.0]), None)  # (3 − 2) / 2
    assert "the loss fell by 0.5 (relative) in the last epoch when the 3 epochs ran out" in why, why


def test_the_relative_gap_is_the_excess_over_the_least_squares_loss():
    from linsgd.sgd.convergence import relative_gap

    rng = np.random.default_rng(6)
    X = rng.standard_normal((100, 2))
    y = X @ [1.0, -1.0] + 0.3 + rng.standard_normal(100)
    A = np.column_stack([X, np.ones(100)])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    optimum = 0.5 * np.mean((A @ theta - y) ** 2)
    w, b = theta[:2] + [0.1, -0.2], theta[2] + 0.05
    loss = 0.5 * np.mean((X @ w + b - y) ** 2)
    assert relative_gap(X, y, w, b) == pytest.approx((loss - optimum) / optimum, rel=1e-9)


def test_a_run_of_no_epochs_gets_no_verdict_even_far_from_the_optimum():
    assert diagnose(_run([]), Distance(loss=2.0, optimum=1.0, null=10.0)) is None


def test_the_warning_points_at_the_line_that_called_the_public_function():
    """stacklevel 3: warn_if_not_converged, the public function that calls it, then the user's line."""
    import warnings

    from linsgd.sgd.convergence import warn_if_not_converged

    def public_function():
        warn_if_not_converged(_run([3.0, 2.0, 1.0]), Distance(loss=2.0, optimum=1.0, null=10.0))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line_here() + 1
        public_function()
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def _line_here() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno


def test_the_warning_applies_the_standard_error_rule_only_when_asked():
    import warnings

    from linsgd.sgd.convergence import warn_if_not_converged

    close_in_loss_far_in_se = Distance(loss=1.0001, optimum=1.0, null=10.0, max_se=5.0, worst="a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        warn_if_not_converged(_run([3.0, 2.0, 1.0]), close_in_loss_far_in_se)


def test_the_standard_error_rule_at_exactly_one_standard_error_is_converged_and_just_above_is_not():
    """The documented rule: not converged when a coefficient is *more than* SE_THRESHOLD standard errors away."""
    from linsgd.sgd.convergence import SE_THRESHOLD

    def at(max_se):
        return Distance(loss=1.0001, optimum=1.0, null=10.0, max_se=max_se, worst="a")  # gap 0.01 %: close

    assert SE_THRESHOLD == 1.0
    assert diagnose(_run([3.0, 2.0, 1.0]), at(1.0), se_rule=True) is None
    why = diagnose(_run([3.0, 2.0, 1.0]), at(float(np.nextafter(1.0, 2.0))), se_rule=True)
    assert why.startswith("a coefficient (a) is 1 standard errors from the exact least-squares one"), why


def test_the_verdicts_settings_are_keywords_only():
    far = Distance(loss=2.0, optimum=1.0, null=10.0)
    with pytest.raises(TypeError):
        diagnose(_run([3.0, 2.0, 1.0]), far, True)
    with pytest.raises(TypeError):
        diagnose(_run([3.0, 2.0, 1.0]), far, False, True)


def test_a_fall_of_exactly_a_tenth_of_a_percent_is_not_still_falling():
    """The documented rule: still falling when the last epoch improved the loss by *more than* 0.1 %."""
    from linsgd.sgd.convergence import FALLING_THRESHOLD

    assert FALLING_THRESHOLD * 1000.0 == 1001.0 - 1000.0  # the threshold to the last bit
    assert diagnose(_run([1002.0, 1001.0, 1000.0]), None) is None
    assert diagnose(_run([1002.0, float(np.nextafter(1001.0, 2000.0)), 1000.0]), None) is not None


def test_two_epochs_of_a_falling_loss_say_how_much_it_fell():
    why = diagnose(_run([4.0, 2.0]), None)  # (4 − 2) / 2
    assert "the loss fell by 1 (relative) in the last epoch when the 2 epochs ran out" in why, why


def test_a_missing_unit_loses_even_to_a_coefficient_exactly_at_the_optimum():
    """se_units of a file run's gap: None (nan in JSON) never names the worst coefficient, even when every
    known unit is 0 (the answer equal to the exact one)."""
    gap = {"loss": 1.0, "optimum": 1.0, "max_se_units": 0.0, "se_units": [None, 0.0, None], "names": ["a", "b", "c"]}
    assert Distance.from_gap(gap, 4.0).worst == "b"
