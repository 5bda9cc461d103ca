"""``linsgd evaluate`` weighs its metrics by the model's training weight column (or ``--weight COL``) and says
which column it used; checked against the weighted MSE, MAE and R² computed by hand and against the same rows
repeated (an integer weight k ≡ k copies of the row, unweighted)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linsgd.model import load_model


def _rows(seed, n=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = X @ [1.0, -2.0] + 0.5 + (0.3 + 2.0 * (X[:, 0] > 0)) * rng.standard_normal(n)  # noisier where x1 > 0
    s = rng.integers(0, 5, n).astype(float)
    return X, y, s


def _csv(path, X, y, s=None, weight="s"):
    cols = {"a": X[:, 0], "b": X[:, 1], "y": y, **({weight: s} if s is not None else {})}
    lines = (",".join(repr(float(v)) for v in r) for r in zip(*cols.values(), strict=True))
    path.write_text(",".join(cols) + "\n" + "\n".join(lines) + "\n")
    return path


def _by_hand(X, y, s, w, b):
    r = X @ w + b - y
    ybar = s @ y / s.sum()
    mse = (s * r) @ r / s.sum()
    return {"mse": mse, "rmse": np.sqrt(mse), "mae": s @ np.abs(r) / s.sum(),
            "r2": 1 - (s * r) @ r / ((s * (y - ybar)) @ (y - ybar)), "n": len(y)}


@pytest.fixture(scope="module")
def weighted_model(tmp_path_factory):
    from linsgd.cli import main

    tmp = tmp_path_factory.mktemp("evalw")
    X, y, s = _rows(0)
    data = _csv(tmp / "train.csv", X, y, s)
    assert main(["train", str(data), "--target", "y", "--weight", "s", "--solver", "exact", "--quiet",
                 "--out", str(tmp / "run")]) == 0
    return tmp / "run" / "model.safetensors"


def _evaluate(cli, *args):
    code, out, err = cli("evaluate", *args, "--json")
    assert code == 0, err
    return json.loads(out), err


def test_evaluate_weighs_by_the_models_weight_column_as_computed_by_hand(cli, tmp_path, weighted_model):
    m = load_model(weighted_model)
    X, y, s = _rows(1)
    got, err = _evaluate(cli, weighted_model, _csv(tmp_path / "test.csv", X, y, s))
    expected = _by_hand(X, y, s, m.w, m.b)
    assert got.pop("weight") == "s"
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6), key
    # the same rows repeated s times, without a weight column: the same metrics but n
    k = s.astype(int)
    rep, err = _evaluate(cli, weighted_model, _csv(tmp_path / "rep.csv", np.repeat(X, k, axis=0), np.repeat(y, k)))
    assert "does not have" in err and "'s'" in err and "unweighted" in err  # the note: no column 's' there
    assert "weight" not in rep and rep["n"] == k.sum()
    for key in ("mse", "rmse", "mae", "r2"):
        assert rep[key] == pytest.approx(got[key], rel=1e-6), key
    # unweighted on request: every row counts 1, and the weights did change the numbers
    plain, _ = _evaluate(cli, weighted_model, tmp_path / "test.csv", "--weight", "none")
    ones = _by_hand(X, y, np.ones_like(s), m.w, m.b)
    assert "weight" not in plain
    for key in ("mse", "mae", "r2"):
        assert plain[key] == pytest.approx(ones[key], rel=1e-6), key
        assert abs(plain[key] - got[key]) > 1e-3 * abs(got[key]), key


def test_evaluate_with_a_weight_column_the_model_was_not_trained_with(cli, tmp_path):
    X, y, s = _rows(2)
    data = _csv(tmp_path / "d.csv", X, y, s, weight="importance")
    code, _, err = cli("train", data, "--target", "y", "--exclude", "importance", "--solver", "exact",
                       "--out", tmp_path / "r")
    assert code == 0, err
    model = tmp_path / "r" / "model.safetensors"
    m = load_model(model)
    plain, _ = _evaluate(cli, model, data)  # the model has no weight column: unweighted by default
    assert "weight" not in plain
    assert plain["mse"] == pytest.approx(_by_hand(X, y, np.ones_like(s), m.w, m.b)["mse"], rel=1e-6)
    text_code, text, _ = cli("evaluate", model, data, "--weight", "importance")
    assert text_code == 0 and "weight   importance" in text
    got, _ = _evaluate(cli, model, data, "--weight", "importance")
    assert got["weight"] == "importance"
    assert got["r2"] == pytest.approx(_by_hand(X, y, s, m.w, m.b)["r2"], rel=1e-6)


def test_evaluate_refuses_bad_weights_with_file_line_and_column(cli, tmp_path, weighted_model):
    X, y, s = _rows(3, n=6)
    s[3] = -1.0
    code, out, err = cli("evaluate", weighted_model, _csv(tmp_path / "neg.csv", X, y, s), "--json")
    assert (code, out) == (2, "")
    assert f"{tmp_path / 'neg.csv'}:5: column 's': negative sample weight" in err and err.count("\n") == 1, err
    code, out, err = cli("evaluate", weighted_model, _csv(tmp_path / "zero.csv", X, y, np.zeros(6)), "--json")
    assert (code, out) == (2, "")
    assert "column 's': every sample weight is 0" in err and err.count("\n") == 1, err
    code, out, err = cli("evaluate", weighted_model, tmp_path / "zero.csv", "--weight", "nope")
    assert (code, out) == (2, "") and "column 'nope': not found" in err, err
