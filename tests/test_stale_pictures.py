"""A run folder trained again holds no picture of the run it held before (each would show another model)."""

from __future__ import annotations

import pytest


@pytest.fixture
def data(tmp_path, cli):
    path = tmp_path / "d.csv"
    assert cli("generate", path, "--num-examples", 200, "--num-features", 2, "--seed", 3)[0] == 0
    return path


def _train(cli, data, out, *flags):
    return cli("train", data, "--target", "y", "--solver", "exact", "--seed", 1, "--out", out, *flags)


def test_training_again_without_pictures_removes_the_earlier_runs_pictures_and_says_so(cli, data, tmp_path):
    out = tmp_path / "run"
    assert _train(cli, data, out, "--plots")[0] == 0
    drawn = {"loss.png", "fit.png", "residuals.png", "coef.png"}
    assert drawn <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")  # not a picture of a run: kept
    code, out_text, _ = _train(cli, data, out)
    assert code == 0
    assert not {p.name for p in out.iterdir()} & drawn
    assert (out / "notes.txt").read_text() == "mine"
    assert out_text.splitlines()[-1] == (f"removed {out}'s loss.png, fit.png, residuals.png, coef.png: "
                                         "they showed the run the folder held before")


def test_a_cross_validated_runs_curve_is_removed_by_a_run_without_one(cli, data, tmp_path):
    out = tmp_path / "run"
    assert _train(cli, data, out, "--plots", "--penalty", "l2", "--alpha", "auto", "--cv-folds", 3)[0] == 0
    assert (out / "cv.png").exists()
    code, out_text, _ = _train(cli, data, out, "--plots")
    assert code == 0 and not (out / "cv.png").exists() and (out / "loss.png").exists()
    assert out_text.splitlines()[-1].startswith(f"removed {out}'s cv.png:")


def test_a_first_run_removes_nothing(cli, data, tmp_path):
    code, out_text, _ = _train(cli, data, tmp_path / "run")
    assert code == 0 and "removed" not in out_text
