"""K-fold cross-validation (lstsq/cv.py) against independent oracles: scikit-learn's ``KFold`` folds and
``LassoCV``/``lasso_path`` defaults, each fold's state against its rows' weighted moments by numpy, ridge in
closed form on each fold's complement scored by hand on the fold, and the documented refusals (what mutation
testing of cv.py found unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.cv import cross_validate, fold_bounds, fold_states

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LassoCV, lasso_path  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

TIGHT = dict(tol=1e-14, max_iter=100_000)


def _data(n=50, seed=0):
    """Rows with column means away from 0 (the intercept matters) and positive weights of spread 0.2–2."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) + [0.5, -1.0, 2.0]
    y = X @ [1.5, -2.0, 0.5] + 3.0 + rng.normal(size=n)
    return X, y, rng.uniform(0.2, 2.0, n)


def _ridge(X, y, s, alpha, fit_intercept=True):
    """argmin 1/(2Σs) Σ s(x·w + b − y)² + α/2‖w‖² in closed form: (XcᵀSXc/W + αI) w = XcᵀSyc/W, b = ȳ − x̄·w
    with weighted means (none without an intercept)."""
    W = s.sum()
    mx, my = (s @ X / W, s @ y / W) if fit_intercept else (np.zeros(X.shape[1]), 0.0)
    Xc, yc = X - mx, y - my
    w = np.linalg.solve(Xc.T @ (s[:, None] * Xc) / W + alpha * np.eye(X.shape[1]), Xc.T @ (s * yc) / W)
    return w, my - mx @ w


@pytest.mark.parametrize("n,K", [(10, 3), (11, 5), (12, 4), (7, 7), (9, 2), (30, 4)])
def test_fold_bounds_are_kfolds_test_blocks_as_integers(n, K):
    bounds = fold_bounds(n, K)
    assert bounds.dtype.kind == "i" and len(bounds) == K + 1
    for k, (_, test) in enumerate(KFold(K).split(np.zeros(n))):
        np.testing.assert_array_equal(np.arange(bounds[k], bounds[k + 1]), test)


@pytest.mark.parametrize("folds", [1, 0, -2, True, 2.0, "3", None])
def test_a_fold_count_other_than_an_integer_of_at_least_two_is_refused(folds):
    with pytest.raises(ConfigError) as refused:
        fold_bounds(10, folds)
    assert refused.value.param == "cv"


def test_two_folds_and_as_many_folds_as_rows_are_taken_one_row_fewer_is_refused():
    np.testing.assert_array_equal(fold_bounds(5, 2), [0, 3, 5])
    np.testing.assert_array_equal(fold_bounds(5, 5), [0, 1, 2, 3, 4, 5])
    with pytest.raises(DataError, match=r"^4 rows cannot be cut into 5 folds"):
        fold_bounds(4, 5)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_each_folds_state_holds_exactly_its_rows_moments(fit_intercept, weighted):
    """30 rows in 4 folds (8, 8, 7, 7) streamed in chunks of 7 rows, so chunks cross every fold boundary: each
    fold's state has its rows' count, weight Σs, weighted mean of [X y] and Gram RᵀR = Σ s(a − μ)(a − μ)ᵀ
    (Σ s a aᵀ without an intercept), computed here from the fold's rows by numpy."""
    X, y, s = _data(30)
    if weighted:
        chunks = [(X[i:i + 7], y[i:i + 7], s[i:i + 7]) for i in range(0, 30, 7)]
    else:
        chunks, s = [(X[i:i + 7], y[i:i + 7]) for i in range(0, 30, 7)], np.ones(30)
    bounds = fold_bounds(30, 4)
    states = fold_states(iter(chunks), bounds, 3, fit_intercept=fit_intercept)
    assert len(states) == 4
    for k, state in enumerate(states):
        rows = slice(bounds[k], bounds[k + 1])
        A, v = np.column_stack([X[rows], y[rows]]), s[rows]
        mean = v @ A / v.sum()
        C = A - mean if fit_intercept else A
        assert (state.count, state.fit_intercept, state.weighted) == (len(v), fit_intercept, weighted)
        assert state.weight == pytest.approx(v.sum(), rel=1e-14)
        np.testing.assert_allclose(state.mean, mean, rtol=1e-12)
        np.testing.assert_allclose(state.R.T @ state.R, C.T @ (v[:, None] * C), rtol=1e-10, atol=1e-10)


def test_fold_states_has_an_intercept_by_default_and_its_setting_is_keyword_only():
    X, y, _ = _data(12)
    assert all(state.fit_intercept for state in fold_states([(X, y)], fold_bounds(12, 3), 3))
    with pytest.raises(TypeError):
        fold_states([(X, y)], fold_bounds(12, 3), 3, False)


@pytest.mark.parametrize("n", [29, 31])
def test_chunks_of_another_row_count_than_the_folds_are_refused_with_both_counts(n):
    X, y, _ = _data(n)
    with pytest.raises(DataError, match=rf"^the data held {n} rows where 30 were expected"):
        fold_states([(X[:20], y[:20]), (X[20:], y[20:])], fold_bounds(30, 3), 3)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_each_folds_error_is_closed_form_ridge_on_the_other_folds_scored_on_its_rows(fit_intercept):
    """ρ = 0: mse[j, k] is the weighted mean squared error, on fold k's rows, of the ridge solution at α_j on
    the rows of the other folds (closed form); the path's coefficients are ridge on all rows."""
    X, y, s = _data(45)
    bounds, alphas = fold_bounds(45, 4), np.array([2.0, 0.3, 0.05])
    chunks = [(X[i:i + 10], y[i:i + 10], s[i:i + 10]) for i in range(0, 45, 10)]
    p = cross_validate(fold_states(chunks, bounds, 3, fit_intercept=fit_intercept), alphas, 0.0, ["a", "b", "c"])
    assert p.mse.shape == (3, 4) and p.feature_names == ["a", "b", "c"]
    for k in range(4):
        test = np.zeros(45, bool)
        test[bounds[k]:bounds[k + 1]] = True
        for j, a in enumerate(alphas):
            w, b = _ridge(X[~test], y[~test], s[~test], a, fit_intercept)
            r = y[test] - X[test] @ w - b
            assert p.mse[j, k] == pytest.approx(np.average(r ** 2, weights=s[test]), rel=1e-9)
    for j, a in enumerate(alphas):
        w, b = _ridge(X, y, s, a, fit_intercept)
        np.testing.assert_allclose(p.coefs[:, j], w, rtol=1e-9)
        assert p.intercepts[j] == pytest.approx(b, abs=1e-9)


def test_a_fold_without_weight_is_refused_by_its_number():
    X, y, s = _data(30)
    s[10:20] = 0.0  # the second of three folds
    with pytest.raises(DataError, match=r"^fold 2 of 3 has no rows of positive weight"):
        linsgd.path(X, y, cv=3, sample_weight=s)


def test_weights_of_any_scale_give_the_same_cross_validation_and_path():
    """The objective and each fold's error are normalised by the weights' sum: weights a thousand times smaller
    (each fold's sum below 1) give the same errors and coefficients, with and without folds."""
    X, y, s = _data(60)
    big, small = (linsgd.path(X, y, cv=3, sample_weight=v, n_alphas=8) for v in (s, s / 1000))
    np.testing.assert_allclose(small.alphas, big.alphas, rtol=1e-12)
    np.testing.assert_allclose(small.mse, big.mse, rtol=1e-9)
    np.testing.assert_allclose(small.coefs, big.coefs, rtol=1e-9, atol=1e-12)
    plain = linsgd.path(X, y, sample_weight=s / 1000, n_alphas=8)
    np.testing.assert_allclose(plain.coefs, big.coefs, rtol=1e-9, atol=1e-12)


def test_no_rows_of_positive_weight_is_refused():
    X, y, _ = _data(20)
    with pytest.raises(DataError, match="no rows of positive weight"):
        linsgd.path(X, y, sample_weight=np.zeros(20))


def test_the_defaults_are_lasso_paths_grid_with_an_intercept():
    """path(X, y) is the lasso (ρ = 1) on scikit-learn's default grid (100 values down to 1e-3·α_max) with an
    intercept: lasso_path on the centred rows, b = ȳ − x̄·w."""
    X, y, _ = _data(50)
    p = linsgd.path(X, y)
    alphas, coefs, _ = lasso_path(X - X.mean(0), y - y.mean(), **TIGHT)
    assert p.l1_ratio == 1.0 and len(p.alphas) == 100
    np.testing.assert_allclose(p.alphas, alphas, rtol=1e-12)
    np.testing.assert_allclose(p.coefs, coefs, atol=1e-8)
    np.testing.assert_allclose(p.intercepts, y.mean() - X.mean(0) @ p.coefs, atol=1e-9)


def test_cross_validation_by_default_is_lassocv():
    X, y, _ = _data(50)
    p = linsgd.path(X, y, cv=3)
    m = LassoCV(cv=3, **TIGHT).fit(X, y)
    np.testing.assert_allclose(p.alphas, m.alphas_, rtol=1e-12)
    np.testing.assert_allclose(p.mse, m.mse_path_, rtol=1e-8)
    assert p.alpha == pytest.approx(m.alpha_, rel=1e-12)
    np.testing.assert_allclose(p.w, m.coef_, atol=1e-8)
    assert p.b == pytest.approx(m.intercept_, abs=1e-8)


def test_the_settings_of_path_are_keyword_only():
    X, y, _ = _data(20)
    with pytest.raises(TypeError):
        linsgd.path(X, y, [0.1])


def test_a_given_grid_of_any_shape_is_solved_at_each_alpha():
    """alphas=[[0.5, 0.1, 0.02]] is read as three α; ρ = 0: each column is ridge in closed form."""
    X, y, s = _data(40)
    p = linsgd.path(X, y, alphas=[[0.5, 0.1, 0.02]], l1_ratio=0.0, sample_weight=s)
    np.testing.assert_array_equal(p.alphas, [0.5, 0.1, 0.02])
    for j, a in enumerate((0.5, 0.1, 0.02)):
        w, b = _ridge(X, y, s, a)
        np.testing.assert_allclose(p.coefs[:, j], w, rtol=1e-9)
        assert p.intercepts[j] == pytest.approx(b, rel=1e-9)


def test_the_ridge_and_lasso_ends_of_l1_ratio_are_taken_and_what_is_outside_refused():
    X, y, _ = _data(40)
    c = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / len(y)
    assert linsgd.path(X, y, l1_ratio=0.0, n_alphas=3).alphas[0] == pytest.approx(c / 1e-3, rel=1e-12)
    assert linsgd.path(X, y, l1_ratio=1, n_alphas=3).alphas[0] == pytest.approx(c, rel=1e-12)
    for bad in ("0.5", None, -0.5, 1.5):
        with pytest.raises(ConfigError) as refused:
            linsgd.path(X, y, l1_ratio=bad, n_alphas=3)
        assert refused.value.param == "l1_ratio"


def test_feature_names_come_from_the_argument_then_the_tables_columns_then_x1_to_xd():
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(20)
    table = pd.DataFrame(X, columns=["u", "v", "t"])
    assert linsgd.path(X, y, n_alphas=2).feature_names == ["x1", "x2", "x3"]
    assert linsgd.path(table, y, n_alphas=2).feature_names == ["u", "v", "t"]
    assert linsgd.path(table, y, n_alphas=2, feature_names=["p", "q", "r"]).feature_names == ["p", "q", "r"]
    assert linsgd.path(X, y, cv=2, n_alphas=2, feature_names=["p", "q", "r"]).feature_names == ["p", "q", "r"]
    with pytest.raises(DataError, match=r"^2 feature names for 3 columns"):
        linsgd.path(X, y, feature_names=["p", "q"])


def test_chunks_without_folds_stream_to_the_arrays_path_even_from_a_first_chunk_of_one_row():
    X, y, _ = _data(30)
    whole = linsgd.path(X, y, n_alphas=5)
    streamed = linsgd.path(iter([(X[:1], y[:1]), (X[1:17], y[1:17]), (X[17:], y[17:])]), n_alphas=5)
    np.testing.assert_allclose(streamed.alphas, whole.alphas, rtol=1e-12)
    np.testing.assert_allclose(streamed.coefs, whole.coefs, rtol=1e-10, atol=1e-12)
    assert streamed.mse is None and streamed.folds == 0
    with pytest.raises(ConfigError) as refused:
        linsgd.path(iter([(X, y)]), cv=3)
    assert refused.value.param == "cv"


@pytest.mark.parametrize("data", ["arrays", "chunks"])
def test_no_rows_is_refused_as_empty_data(data):
    X, y = np.zeros((0, 3)), np.zeros(0)
    with pytest.raises(DataError, match="the data is empty"):
        linsgd.path(X, y) if data == "arrays" else linsgd.path(iter([]))


def test_a_chunk_whose_x_is_not_a_table_is_refused_showing_its_shape():
    """A 1-D X chunk has no column count: it is refused as a shape error that shows the shape given."""
    with pytest.raises(DataError, match=r"^expected X of shape .* got \(5,\) and \(5,\)$"):
        linsgd.path(iter([(np.arange(5.0), np.arange(5.0))]))


def test_x_of_no_rows_with_targets_is_a_shape_mismatch_not_empty_data():
    with pytest.raises(DataError, match=r"^expected X of shape .* got \(0, 3\) and \(5,\)$"):
        linsgd.path(np.zeros((0, 3)), np.ones(5))
