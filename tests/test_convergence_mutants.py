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
