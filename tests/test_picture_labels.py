"""loss.png says which loss it shows: ½ r² for least squares, the run's own loss otherwise; an exact run's one
point is that of the least-squares solution or of the loss's trusted optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from linsgd.model import LinearModel
from linsgd.runs.pictures import calls


def _loss_labels(loss: str, exact: bool) -> dict:
    model = LinearModel(w=np.array([1.0]), b=0.0, feature_names=["x"], target="y")
    sample = (np.zeros(3), np.zeros(3))
    first = calls([1.0], None, model, sample, Path("out"), exact=exact, kept=None, loss=loss)[0]
    assert first[1][1] == Path("out") / "loss.png"
    return first[2]


@pytest.mark.parametrize("exact", [True, False])
def test_the_squared_loss_keeps_the_default_axis(exact):
    labels = _loss_labels("squared", exact)
    assert "ylabel" not in labels  # loss_curve's own: mean ½(ŷ − y)²
    if exact:
        assert labels["title"] == "loss of the exact least-squares solution (no epochs)"


@pytest.mark.parametrize("loss, said", [("huber", "huber"), ("quantile", "quantile"),
                                        ("epsilon_insensitive", "epsilon-insensitive")])
def test_another_loss_names_itself_on_the_axis_and_the_exact_title(loss, said):
    assert _loss_labels(loss, exact=False)["ylabel"] == f"mean {said} loss"
    exact = _loss_labels(loss, exact=True)
    assert exact["ylabel"] == f"mean {said} loss"
    assert exact["title"] == f"loss of the exact {loss} optimum (no epochs)"
