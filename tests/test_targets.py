"""Several targets: Y of shape (n, k). The exact solution from one pass over [X Y] equals scikit-learn's
LinearRegression on the 2-D y and each target solved alone; SGD on Y equals k single-target runs with the
same seed; LinearRegressor follows scikit-learn's shapes (1-D y ⇒ 1-D predictions, 2-D y ⇒ (n, k))."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.lstsq.multi import MultiLeastSquares

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import ElasticNet, LinearRegression  # noqa: E402


@pytest.fixture
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    Y = np.column_stack([y, 100 * X[:, 0] + 0.1 * y, np.log(y)])
    return X[:, 1:], Y


def test_exact_on_y_of_k_columns_equals_linear_regression_and_each_target_alone(diabetes):
    X, Y = diabetes
    s = linsgd.exact(X, Y)
    lr = LinearRegression().fit(X, Y)
    np.testing.assert_allclose(s.w, lr.coef_.T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s.b, lr.intercept_, rtol=1e-10)
    for j, one in enumerate(s.solutions):
        alone = linsgd.exact(X, Y[:, j])
        np.testing.assert_allclose(one.w, alone.w, rtol=1e-10)
        assert one.rss == pytest.approx(alone.rss, rel=1e-10) and one.tss == pytest.approx(alone.tss, rel=1e-10)
    np.testing.assert_allclose(s.predict(X), lr.predict(X), rtol=1e-10)


def test_the_streamed_factor_of_x_y_merges_chunks_and_weights_exactly(diabetes):
    X, Y = diabetes
    wts = np.random.default_rng(0).uniform(0, 2, len(X))
    state = MultiLeastSquares.empty(X.shape[1], Y.shape[1])
    for a in range(0, len(X), 50):  # chunks of 50 rows, folded in one by one
        state = state.update(X[a:a + 50], Y[a:a + 50], wts[a:a + 50])
    lr = LinearRegression().fit(X, Y, sample_weight=wts)
    np.testing.assert_allclose(np.column_stack([s.w for s in state.solutions()]), lr.coef_.T, rtol=1e-8)
    np.testing.assert_allclose([s.b for s in state.solutions()], lr.intercept_, rtol=1e-9)


def test_a_penalty_solves_every_target_as_elastic_net_does(diabetes):
    X, Y = diabetes
    s = linsgd.exact(X, Y[:, :2], alpha=0.01, l1_ratio=0.5)
    for j in range(2):
        en = ElasticNet(alpha=0.01, l1_ratio=0.5, tol=1e-12, max_iter=100_000).fit(X, Y[:, j])
        np.testing.assert_allclose(s.solutions[j].w, en.coef_, atol=1e-6 * np.abs(en.coef_).max())


@pytest.mark.filterwarnings("ignore::linsgd.ConvergenceWarning")  # three short epochs, on purpose
def test_sgd_on_y_of_k_columns_equals_k_single_target_runs_with_the_same_seed():
    X, y = linsgd.make_regression(2000, [2.0, -3.4, 0.5], 4.2, seed=2)
    Y = np.column_stack([y, 1 - y + X[:, 1]])
    both = linsgd.fit(X, Y, lr=0.05, epochs=3, batch_size=16, seed=7, average=True)
    for j in range(2):
        alone = linsgd.fit(X, Y[:, j], lr=0.05, epochs=3, batch_size=16, seed=7, average=True)
        np.testing.assert_array_equal(both.results[j].w, alone.w)
        assert both.b[j] == alone.b and both.results[j].history == alone.history
    drawn = linsgd.fit(X, Y, lr=0.05, epochs=1)  # no seed: one is drawn, the same for every target
    assert drawn.results[0].seed == drawn.results[1].seed


def test_sgd_on_y_of_k_columns_lands_on_the_exact_solution():
    X, y = linsgd.make_regression(20_000, [2.0, -3.4, 0.5], 4.2, noise=0.5, seed=3)
    Y = np.column_stack([y, 1 - 2 * y + X[:, 0]])
    m = linsgd.fit(X, Y, lr="auto", epochs="auto", average="auto", seed=1)
    exact = linsgd.exact(X, Y)
    for j, s in enumerate(exact.solutions):
        gap = linsgd.optimality_gap(s, m.w[:, j], m.b[j])  # target j's own exact solution from the one pass
        assert gap.relative < 1e-3 and np.abs(gap.se_units).max() < 1, (j, gap)


@pytest.mark.parametrize("solver", ["exact", "auto", "sgd"])
def test_linear_regressor_follows_scikit_learns_shapes(diabetes, solver):
    X, Y = diabetes
    lr = LinearRegression().fit(X, Y[:, :2])
    m = linsgd.LinearRegressor(solver=solver, random_state=0).fit(X, Y[:, :2])
    assert m.coef_.shape == (2, X.shape[1]) and m.intercept_.shape == (2,) and m.predict(X).shape == (len(X), 2)
    if solver != "sgd":
        np.testing.assert_allclose(m.coef_, lr.coef_, rtol=1e-9, atol=1e-9)
        single = linsgd.LinearRegressor(solver=solver).fit(X, Y[:, 1]).coef_table()
        assert m.coef_table()["target 1"] == pytest.approx(single, rel=1e-9)
    else:  # SGD: each target as its single-target fit with the same seed
        for j in range(2):
            alone = linsgd.LinearRegressor(solver="sgd", random_state=0).fit(X, Y[:, j])
            np.testing.assert_array_equal(m.coef_[j], alone.coef_)
    column = linsgd.LinearRegressor(solver=solver, random_state=0).fit(X, Y[:, :1])
    assert column.predict(X).shape == (len(X), 1) and column.coef_.shape == (1, X.shape[1])
    flat = linsgd.LinearRegressor(solver=solver, random_state=0).fit(X, Y[:, 0])
    assert flat.predict(X).shape == (len(X),) and flat.coef_.shape == (X.shape[1],)


@pytest.mark.parametrize("settings,needle", [
    ({"loss": "huber"}, "loss='huber' is not allowed: squared with several targets"),
])
def test_options_without_several_targets_refuse_in_one_line(diabetes, settings, needle):
    X, Y = diabetes
    with pytest.raises(linsgd.LinsgdError, match=needle.replace("(", r"\(")):
        linsgd.LinearRegressor(**settings).fit(X, Y[:, :2])
    with pytest.raises(linsgd.LinsgdError, match=needle.replace("(", r"\(")):
        linsgd.fit(X, Y[:, :2], **settings, solver="exact")
    import scipy.sparse as sp

    with pytest.raises(linsgd.DataError, match="several targets need a dense X"):
        linsgd.LinearRegressor().fit(sp.csr_matrix(X), Y[:, :2])


@pytest.fixture
def two_targets(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 800
    df = pd.DataFrame({"area": rng.uniform(20, 200, n), "rooms": rng.integers(1, 6, n).astype(float),
                       "city": rng.choice(["Lyon", "Nice", "Paris"], n)})
    df["price"] = 30 * df.area + 200 * df.rooms + (df.city == "Paris") * 900 + rng.normal(0, 50, n)
    df["rent"] = df.price / 200 + 3 * df.rooms + rng.normal(0, 2, n)
    df.to_csv(tmp_path / "h.csv", index=False)
    return df, tmp_path / "h.csv"


def test_cli_several_targets_equal_linear_regression_on_the_2d_target(cli, two_targets, tmp_path):
    import pandas as pd

    df, path = two_targets
    code, out, err = cli("train", path, "--target", "price,rent", "--solver", "exact", "--out", tmp_path / "run")
    assert code == 0, err
    X = pd.get_dummies(df[["area", "rooms", "city"]], columns=["city"], drop_first=True).astype(float)
    lr = LinearRegression().fit(X, df[["price", "rent"]])
    for j, target in enumerate(["price", "rent"]):
        model = linsgd.load_model(tmp_path / "run" / target / "model.safetensors")
        assert model.target == target and model.feature_names == ["area", "rooms", "city=Nice", "city=Paris"]
        np.testing.assert_allclose(model.w, lr.coef_[j], rtol=1e-9)
        assert model.b == pytest.approx(lr.intercept_[j], rel=1e-9)
        assert f"target {target} ({j + 1} of 2)" in out
        assert f"  {target:<5}  train r2 {model.metrics['train']['r2']:.6g}, rmse" in out.split("targets:")[1]
    assert "rent   excluded" in out and "price  excluded" in out  # each target left out of the other's features
    code, out, err = cli("train", path, "--target", "price,rent", "--solver", "sgd", "--epochs", "2",
                         "--out", tmp_path / "sgd")
    assert code == 0, err
    seeds = {linsgd.load_model(tmp_path / "sgd" / t / "model.safetensors").config["seed"] for t in ("price", "rent")}
    assert len(seeds) == 1  # one seed drawn for both: the same order of rows


@pytest.mark.parametrize("flags,needle", [
    (["--target", "price,nope"], "--target: column 'nope' not found"),
    (["--target", "price,rent", "--loss", "huber"], "--loss=huber is not allowed: squared with several targets"),
    (["--target", "price,rent", "--features", "area,rent"], "--features=area,rent is not allowed"),
    (["--target", "price,price"], "listed more than once"),
    (["--target", "price,rent"], "none for svmlight files"),
])
def test_cli_several_targets_refuse_in_one_line_before_writing(cli, two_targets, tmp_path, flags, needle):
    _, path = two_targets
    if "svmlight" in needle:
        path = tmp_path / "d.svm"
        path.write_text("1 1:0.5\n2 1:1.5\n")
    code, _, err = cli("train", path, *flags, "--solver", "exact", "--out", tmp_path / "run")
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()


def test_per_target_summaries_equal_statsmodels_ols_of_each_column(diabetes):
    sm = pytest.importorskip("statsmodels.api")
    X, Y = diabetes
    tables = linsgd.exact(X, Y, target_names=["y", "mix", "log_y"]).summaries()
    assert list(tables) == ["y", "mix", "log_y"]
    for j, table in enumerate(tables.values()):
        ols = sm.OLS(Y[:, j], sm.add_constant(X)).fit()
        np.testing.assert_allclose(table.se, np.append(ols.bse[1:], ols.bse[0]), rtol=1e-8)
        np.testing.assert_allclose(table.p, np.append(ols.pvalues[1:], ols.pvalues[0]), rtol=1e-6, atol=1e-300)
        assert table.r2 == pytest.approx(ols.rsquared, rel=1e-10)


@pytest.mark.filterwarnings("ignore::linsgd.ConvergenceWarning")
def test_several_targets_without_a_unique_optimum_take_sgd_under_auto_and_refuse_under_exact(diabetes):
    X, Y = diabetes
    twice = np.column_stack([X, X[:, 0]])  # a duplicated column: no unique least-squares answer
    with pytest.raises(linsgd.DataError, match="linear combination"):
        linsgd.LinearRegressor(solver="exact").fit(twice, Y[:, :2])
    m = linsgd.LinearRegressor(solver="auto", random_state=0).fit(twice, Y[:, :2])
    assert m.solver_.startswith("sgd") and m.coef_.shape == (2, twice.shape[1])
    alone = linsgd.LinearRegressor(solver="auto", random_state=0).fit(twice, Y[:, 1])
    assert alone.solver_ == m.solver_
    np.testing.assert_array_equal(m.coef_[1], alone.coef_)
