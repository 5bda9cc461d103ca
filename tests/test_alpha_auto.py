"""`linsgd train --alpha auto`: α chosen by K-fold cross-validation on the training rows equals scikit-learn's
ElasticNetCV on the same rows, in memory and streamed, on the raw scale whatever --standardize, and reported."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from linsgd.model import load_model

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import ElasticNetCV  # noqa: E402


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    frame = load_diabetes(as_frame=True).frame
    path = tmp_path_factory.mktemp("cv") / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path, frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()


def chosen(out: str) -> float:
    (value,) = re.findall(r"^alpha chosen by 5-fold cross-validation: (\S+) ", out, re.M)
    return float(value)


def test_alpha_auto_chooses_elasticnetcvs_alpha_and_trains_with_it(cli, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    code, out, err = cli("train", path, "--plots", "--target", "target", "--penalty", "elasticnet",
                         "--l1-ratio", 0.5, "--alpha", "auto", "--out", tmp_path / "run")
    assert code == 0, err
    m = ElasticNetCV(l1_ratio=0.5, cv=5, tol=1e-14, max_iter=100_000).fit(X, y)
    alpha = chosen(out)
    assert alpha == pytest.approx(m.alpha_, rel=1e-5)  # printed to 6 digits
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert np.abs(model.w - m.coef_).max() < 1e-6 and abs(model.b - m.intercept_) < 1e-6
    cv = model.metrics["alpha_cv"]
    assert cv["folds"] == 5 and cv["alpha"] == pytest.approx(m.alpha_, rel=1e-12)
    np.testing.assert_allclose(cv["alphas"], m.alphas_, rtol=1e-12)
    np.testing.assert_allclose(cv["mean_mse"], m.mse_path_.mean(axis=1), rtol=1e-8)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["alpha"] == cv["alpha"] and config["penalty"] == "elasticnet"
    assert (tmp_path / "run" / "cv.png").stat().st_size > 0
    assert "<- chosen" in out and "cv.png" in out


def test_streamed_standardized_and_sgd_runs_choose_the_same_alpha(cli, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    flags = ("--target", "target", "--penalty", "l1", "--alpha", "auto")
    code, out, err = cli("train", path, *flags, "--out", tmp_path / "a")
    assert code == 0, err
    first = load_model(tmp_path / "a" / "model.safetensors").metrics["alpha_cv"]
    for extra in (("--max-memory", "4K", "--chunk-bytes", 512), ("--standardize",),
                  ("--solver", "sgd", "--epochs", 2, "--seed", 0)):
        code, out, err = cli("train", path, *flags, *extra, "--out", tmp_path / "b")
        assert code == 0, err
        assert ("train rows; streamed" in out) == ("--max-memory" in extra)
        again = load_model(tmp_path / "b" / "model.safetensors").metrics["alpha_cv"]
        rel = 1e-6 if "sgd" in extra else 1e-12  # SGD reads the rows in float32
        assert again["alpha"] == pytest.approx(first["alpha"], rel=rel), extra
        np.testing.assert_allclose(again["mean_mse"], first["mean_mse"], rtol=rel * 1e3)


def test_a_grid_end_is_reported_as_such(cli, diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv  # diabetes with a ridge-like penalty: the least penalty wins
    code, out, err = cli("train", path, "--target", "target", "--penalty", "elasticnet", "--l1-ratio", 0.5,
                         "--alpha", "auto", "--out", tmp_path / "r")
    assert code == 0 and "the chosen alpha is the smallest of the grid" in out


@pytest.mark.parametrize("flags,named", [
    (("--alpha", "auto"), "--alpha"),                                   # no penalty to tune
    (("--penalty", "l1", "--alpha", "auto", "--cv-folds", 1), "--cv-folds"),
    (("--penalty", "l1", "--cv-folds", 3), "--cv-folds"),               # folds without --alpha auto
])
def test_bad_alpha_auto_flags_exit_2_in_one_line(cli, diabetes_csv, tmp_path, flags, named):
    path, _, _ = diabetes_csv
    code, out, err = cli("train", path, "--target", "target", *flags, "--out", tmp_path / "bad")
    assert code == 2 and err.count("\n") == 1 and named in err, err
    assert not (tmp_path / "bad").exists()


def test_an_alpha_neither_number_nor_auto_is_a_bad_flag(cli, diabetes_csv, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli("train", diabetes_csv[0], "--target", "target", "--alpha", "soon", "--out", tmp_path / "bad")
    assert e.value.code == 2 and "--alpha: 'soon' is not a number >= 0 or auto" in capsys.readouterr().err


def test_more_folds_than_rows_is_bad_input(cli, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("x,y\n1,2\n2,3\n3,5\n")
    code, _, err = cli("train", path, "--target", "y", "--penalty", "l2", "--alpha", "auto", "--out", tmp_path / "o")
    assert code == 2 and "folds" in err and err.count("\n") == 1
