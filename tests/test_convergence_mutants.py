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
