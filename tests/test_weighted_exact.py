"""``--weight`` with ``--solver exact`` (in memory, streamed, under torchrun) solves weighted least squares, and
a weighted run's metrics and optimality gap are weighted: checked against the closed form, statsmodels WLS
and the same rows repeated (an integer weight k ≡ k copies of the row)."""

from __future__ import annotations

import numpy as np
import pytest
from support.torchrun_util import torchrun

from linsgd.metrics import Metrics, regression_metrics
from linsgd.model import load_model

N = 400


def _rows(seed=3, n=N):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) * [1.0, 3.0] + [0.5, -1.0]
    # a shift on part of the rows, which weigh little: weighted and unweighted least squares differ a lot
    y = X @ [1.5, -0.7] + 2.0 + 3.0 * (X[:, 0] > 0.5) + 0.3 * rng.standard_normal(n)
    s = rng.integers(0, 4, n)
    s[X[:, 0] > 0.5] = np.minimum(s[X[:, 0] > 0.5], 1)  # the noisy rows weigh little
    return X, y, s


def _csv(path, X, y, s=None):
    head = "a,b,y" + (",s" if s is not None else "")
    cols = [X[:, 0], X[:, 1], y] + ([s] if s is not None else [])
    lines = (",".join(repr(float(v)) for v in r) for r in zip(*cols, strict=True))
    path.write_text(head + "\n" + "\n".join(lines) + "\n")
    return path


def _wls(X, y, s):
    """Weighted least squares in closed form: the normal equations of √s-scaled [X 1]."""
    A = np.column_stack([X, np.ones(len(y))]) * np.sqrt(s)[:, None]
    theta = np.linalg.solve(A.T @ A, A.T @ (np.sqrt(s) * y))
    return theta[:-1], theta[-1]


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


def test_exact_solver_with_a_weight_column_solves_weighted_least_squares(cli, tmp_path):
    import statsmodels.api as sm

    X, y, s = _rows()
    data = _csv(tmp_path / "d.csv", X, y, s)
    code, out, err = cli("train", data, "--target", "y", "--weight", "s", "--solver", "exact", "--out", tmp_path / "r")
    assert code == 0, err
    w, b = _wls(X, y, s)
    got = _params(tmp_path / "r")
    np.testing.assert_allclose(got, np.append(w, b), rtol=1e-9)
    wls = sm.WLS(y, sm.add_constant(X, prepend=False), weights=s).fit()
    np.testing.assert_allclose(got, wls.params, rtol=1e-9)
    ols = sm.OLS(y, sm.add_constant(X, prepend=False)).fit()
    assert np.max(np.abs(got - ols.params) / ols.bse) > 3  # the weights matter here: not the unweighted answer
    # integer weights ≡ the rows repeated, unweighted
    rep = _csv(tmp_path / "rep.csv", np.repeat(X, s, axis=0), np.repeat(y, s))
    assert cli("train", rep, "--target", "y", "--solver", "exact", "--out", tmp_path / "rep")[0] == 0
    np.testing.assert_allclose(got, _params(tmp_path / "rep"), rtol=1e-9)
    # the training metrics are the weighted ones (those of the repeated rows), the gap is 0
    metrics = load_model(tmp_path / "r" / "model.safetensors").metrics["train"]
    repeated = load_model(tmp_path / "rep" / "model.safetensors").metrics["train"]
    r = X @ w + b - y
    assert metrics["mse"] == pytest.approx((s * r) @ r / s.sum(), rel=1e-9)
    for key in ("mse", "mae", "r2"):
        assert metrics[key] == pytest.approx(repeated[key], rel=1e-9), key
    assert metrics["r2"] == pytest.approx(wls.rsquared, rel=1e-9)
    assert metrics["optimality_gap"]["relative"] == 0.0


def test_weighted_exact_streamed_equals_in_memory(cli, tmp_path):
    X, y, s = _rows(4, 3000)
    data = _csv(tmp_path / "d.csv", X, y, s)
    flags = ("--target", "y", "--weight", "s", "--solver", "exact")
    assert cli("train", data, *flags, "--out", tmp_path / "mem")[0] == 0
    code, out, err = cli("train", data, *flags, "--max-memory", "16K", "--out", tmp_path / "str")
    assert code == 0, err
    assert load_model(tmp_path / "str" / "model.safetensors").metrics["train"]["n"] == 3000
    w, b = _wls(X, y, s)
    for name in ("mem", "str"):
        np.testing.assert_allclose(_params(tmp_path / name), np.append(w, b), rtol=1e-9)


def test_weighted_sgd_run_reports_weighted_metrics_and_gap(cli, tmp_path):
    X, y, s = _rows(5)
    data = _csv(tmp_path / "d.csv", X, y, s)
    code, out, err = cli("train", data, "--target", "y", "--weight", "s", "--lr", 0.01, "--epochs", 3,
                         "--seed", 0, "--dtype", "float64", "--val-fraction", 0.25, "--out", tmp_path / "r")
    assert code == 0, err
    m = load_model(tmp_path / "r" / "model.safetensors")
    from linsgd.data.rows import split_mask

    val = split_mask(0, 0, N, 0.25)
    for part, rows in (("train", ~val), ("val", val)):
        Xp, yp, sp = X[rows], y[rows], s[rows]
        expected = regression_metrics(np.repeat(yp, sp), np.repeat(Xp @ m.w + m.b, sp))
        for key in ("mse", "mae", "r2"):
            assert m.metrics[part][key] == pytest.approx(expected[key], rel=1e-9), (part, key)
        assert m.metrics[part]["n"] == rows.sum()
    # the gap: the weighted objective of (w, b) against that of the weighted least-squares optimum
    Xt, yt, st = X[~val], y[~val], s[~val]
    wo, bo = _wls(Xt, yt, st)
    f = lambda w, b: 0.5 * (st * (Xt @ w + b - yt)) @ (Xt @ w + b - yt) / st.sum()  # noqa: E731
    gap = m.metrics["train"]["optimality_gap"]
    assert gap["optimum"] == pytest.approx(f(wo, bo), rel=1e-9)
    assert gap["loss"] == pytest.approx(f(m.w, m.b), rel=1e-9)
    assert gap["relative"] > 0


def test_weighted_metrics_equal_repeated_rows_in_any_chunking():
    rng = np.random.default_rng(0)
    y, y_hat, s = rng.standard_normal(50), rng.standard_normal(50), rng.integers(0, 5, 50)
    whole = regression_metrics(y, y_hat, s)
    repeated = regression_metrics(np.repeat(y, s), np.repeat(y_hat, s))
    acc = Metrics()
    for a in range(0, 50, 7):
        acc.update(y[a:a + 7], y_hat[a:a + 7], s[a:a + 7])
    chunked = acc.result()
    for key in ("mse", "rmse", "mae", "r2"):
        assert whole[key] == pytest.approx(repeated[key], rel=1e-12), key
        assert chunked[key] == pytest.approx(repeated[key], rel=1e-12), key
    assert whole["n"] == 50
    with pytest.raises(ValueError, match="no rows"):
        regression_metrics(y[:3], y_hat[:3], np.zeros(3))


def test_two_ranks_solve_the_weighted_problem_of_one_process(tmp_path, cli):
    X, y, s = _rows(6, 1001)
    data = _csv(tmp_path / "d.csv", X, y, s)
    flags = ("--target", "y", "--weight", "s", "--solver", "exact")
    proc = torchrun(2, "-m", "linsgd", "train", data, *flags, "--out", tmp_path / "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    w, b = _wls(X, y, s)
    np.testing.assert_allclose(_params(tmp_path / "two"), np.append(w, b), rtol=1e-9)


def test_the_default_solver_of_a_weighted_file_run_is_the_weighted_exact_solve(cli, tmp_path):
    X, y, s = _rows(seed=5)
    data = _csv(tmp_path / "d.csv", X, y, s)
    code, out, err = cli("train", data, "--target", "y", "--weight", "s", "--out", tmp_path / "r")
    assert code == 0, err
    assert "solver: exact" in out
    np.testing.assert_allclose(_params(tmp_path / "r"), np.append(*_wls(X, y, s)), rtol=1e-9)


def test_metrics_of_a_constant_target_have_no_r2_and_weight_zero_rows_count_as_rows():
    y = np.full(5, 2.0)
    got = regression_metrics(y, y + [0.0, 1.0, 0.0, -1.0, 0.0], np.array([1, 1, 0, 2, 1]))
    assert np.isnan(got["r2"]) and got["n"] == 5 and got["mse"] == pytest.approx(3 / 5)


def test_metrics_of_one_row_and_of_weights_summing_below_one():
    one = regression_metrics(np.array([2.0]), np.array([3.0]))
    assert one["n"] == 1 and one["mse"] == 1.0 and one["mae"] == 1.0 and np.isnan(one["r2"])
    y, y_hat = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    small = regression_metrics(y, y_hat, np.array([0.1, 0.2, 0.1]))  # only their ratios matter
    scaled = regression_metrics(y, y_hat, np.array([1.0, 2.0, 1.0]))
    for key in ("mse", "mae", "r2"):
        assert small[key] == pytest.approx(scaled[key], rel=1e-12), key
