"""--alpha auto's cross-validation summary and its standardised view, against hand-written expectations (what
mutation testing of sgd/alpha_search.py found unpinned)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.lstsq.path import Path
from linsgd.sgd.alpha_search import choose_alpha, cv_lines, cv_metrics


def _path(mse):
    mse = np.asarray(mse, dtype=float)
    k = len(mse)
    return Path(np.geomspace(1.0, 1e-3, k) if k > 1 else np.array([0.5]), 1.0, np.ones((2, k)), np.zeros(k),
                ["a", "b"], mse)


@pytest.mark.parametrize("k, step", [(100, 10), (15, 1)])
def test_the_curve_shows_every_tenth_alpha_the_chosen_one_and_the_last(k, step):
    mse = np.column_stack([np.linspace(3.0, 1.0, k), np.linspace(3.2, 1.2, k)])
    mse[7] = [0.1, 0.2]  # the least mean error: index 7
    lines = cv_lines(_path(mse))
    rows = lines[2:]
    shown = sorted(set(range(0, k, step)) | {7, k - 1})  # every ⌊k/10⌋-th (at least every one), the chosen, the last
    assert len(rows) == len(shown)
    assert [r.endswith("<- chosen") for r in rows] == [i == 7 for i in shown]
    assert all(f"{np.geomspace(1.0, 1e-3, k)[i]:<12.5g}" in r for i, r in zip(shown, rows, strict=True))
    assert not any(line.startswith("note:") for line in lines)


@pytest.mark.parametrize("mse, note", [([[2.0], [1.0]], True), ([[1.0]], False), ([[1.0], [2.0]], False)])
def test_the_grid_end_note_only_when_the_smallest_of_two_or_more_alphas_wins(mse, note):
    assert any(line.startswith("note: the chosen alpha is the smallest") for line in cv_lines(_path(mse))) == note


def test_the_metrics_keep_each_alphas_spread_over_the_folds():
    mse = np.array([[1.0, 3.0, 2.0], [4.0, 4.0, 4.0]])
    got = cv_metrics(_path(mse))
    assert got["folds"] == 3 and got["mean_mse"] == [2.0, 4.0]
    assert got["sd_mse"] == pytest.approx([np.sqrt(2 / 3), 0.0])


def test_a_standardised_view_chooses_the_alpha_of_the_raw_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(5.0, 3.0, size=(120, 3))
    y = X @ [0.5, 0.0, -1.0] + 2.0 + rng.normal(size=120)
    config = TrainConfig(solver="sgd", penalty="l1", alpha=0.1)
    raw = choose_alpha(InMemory(X, y), config, 4, ["a", "b", "c"])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    standardised = choose_alpha(InMemory((X - mean) / scale, y), config, 4, ["a", "b", "c"],
                                SimpleNamespace(mean=mean, scale=scale))
    assert standardised.alpha == pytest.approx(raw.alpha, rel=1e-9)
    np.testing.assert_allclose(standardised.mse, raw.mse, rtol=1e-7)
    np.testing.assert_allclose(standardised.intercepts, raw.intercepts, rtol=1e-9)  # the raw rows' b
