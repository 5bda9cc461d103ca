"""Sample weights: the weighted objective, integer weights as repeated rows, streamed ≡ in memory, and the
weight column of a file (``--weight``) with its errors."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.data.views import Streamed, normalized_weights
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule
from linsgd.model import load_model

from test_views import _table, streamed_order


def _problem(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 + 0.5 * rng.standard_normal(n), rng.integers(0, 4, n)


def _weighted_objective(X, y, s, w, b):
    r = X @ w + b - y
    return 0.5 * (s * r) @ r / s.sum()


def test_integer_weights_equal_repeated_rows_for_the_objective(engine):
    X, y, s = _problem()
    kw = dict(lr=0.05, epochs=200, average="auto", seed=0, dtype="float64", engine=engine)
    weighted = linsgd.fit(X, y, sample_weight=s, **kw)
    repeated = linsgd.fit(np.repeat(X, s, axis=0), np.repeat(y, s), **kw)
    a, b = (_weighted_objective(X, y, s, r.w, r.b) for r in (weighted, repeated))
    assert abs(a - b) <= 1e-4 * b
    assert weighted.history[-1] == pytest.approx(a, rel=1e-9)  # the history is the weighted loss


def test_streamed_epoch_with_weights_and_every_option_equals_in_memory(engine, tmp_path):
    X, y, s = _problem(1, 1003)
    data = Streamed(_table(X, y, tmp_path, s=s.astype(np.float64)), window_rows=300, piece_rows=64)
    eng, v = get_engine(engine), normalized_weights(s, len(y), np.float64)
    rule = StepRule(0.03, schedule="cosine", total_steps=300, l1=0.01, l2=0.01, average_from=20)
    w, b = np.zeros(3), 0.0
    expected = eng.run_epoch(X, y, w, b, streamed_order(data, 7, 0), rule, 10, weight=v)
    t0, avg = 0, None
    for Xw, yw, idx, vw in data.epoch_runs((7, 0), 10):  # as the loop runs it: steps and average carried on
        got = eng.run_epoch(Xw, yw, w, b, idx, rule, 10, t0=t0, avg=avg, weight=vw)
        w, b, avg, t0 = got.w, got.b, got.avg, t0 + -(-len(idx) // 10)
    np.testing.assert_allclose(got.w, expected.w, rtol=1e-10)
    np.testing.assert_allclose(got.avg[0], expected.avg[0], rtol=1e-10)
    assert data.loss(eng, got.w, got.b) == pytest.approx(eng.loss(X, y, got.w, got.b, v), rel=1e-10)


def test_sample_weight_errors():
    X, y, s = _problem()
    for bad, match in (([-1.0] + [1.0] * 299, "sample_weight\\[0\\]"), ([np.nan] * 300, "finite"),
                       ([0.0] * 300, "zero"), ([1.0] * 3, "shape")):
        with pytest.raises(linsgd.DataError, match=match):
            linsgd.fit(X, y, sample_weight=bad)


def _csv(path, s_values):
    X, y, _ = _problem(2, len(s_values))
    lines = ["a,b,c,y,s"] + [f"{r[0]},{r[1]},{r[2]},{t},{w}" for r, t, w in zip(X, y, s_values, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_weight_column_trains_weighted_and_is_never_a_feature(cli, tmp_path):
    s = [1.0, 2.0, 0.0] * 100
    data = _csv(tmp_path / "d.csv", s)
    code, out, err = cli("train", data, "--target", "y", "--weight", "s", "--out", tmp_path / "r", "--seed", 0,
                         "--dtype", "float64")
    assert code == 0, err
    m = load_model(tmp_path / "r" / "model.safetensors")
    assert m.feature_names == ["a", "b", "c"] and m.config["lr"] == "auto"
    X, y, _ = _problem(2, 300)
    sw = np.array(s)
    ref = linsgd.fit(X, y, sample_weight=sw, lr="auto", epochs="auto", average="auto", seed=0, dtype="float64")
    assert _weighted_objective(X, y, sw, m.w, m.b) == pytest.approx(_weighted_objective(X, y, sw, ref.w, ref.b),
                                                                    rel=1e-3)


@pytest.mark.parametrize("value,line,problem", [(-2.0, 5, "negative sample weight"), ("nan", 5, "NaN")])
def test_cli_bad_weight_is_exit_2_naming_file_line_and_column(cli, tmp_path, value, line, problem):
    s = [1.0] * 50
    s[3] = value  # data row 3 is line 5 (the header is line 1)
    data = _csv(tmp_path / "d.csv", s)
    code, _, err = cli("train", data, "--target", "y", "--weight", "s", "--out", tmp_path / "r")
    assert code == 2 and f"d.csv:{line}: column 's':" in err and problem in err and len(err.splitlines()) == 1


def test_cli_all_zero_weights_is_exit_2(cli, tmp_path):
    data = _csv(tmp_path / "d.csv", [0.0] * 50)
    code, _, err = cli("train", data, "--target", "y", "--weight", "s", "--out", tmp_path / "r")
    assert code == 2 and "d.csv" in err and "column 's'" in err and "0" in err
