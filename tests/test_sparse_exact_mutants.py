"""The sparse exact state (lstsq/sparse.py) field by field against independent oracles: the dense streamed QR
state of the densified rows, the weighted centred Gram matrix by its definition, numpy's least squares,
scikit-learn's Ridge, and the memory limit just at and just past the bound, with its message in GiB."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from linsgd.errors import ConfigError, DataError
from linsgd.lstsq.qr import LeastSquares
from linsgd.lstsq.sparse import check_size, sparse_state, statistics_bytes


def _problem(n=400, d=6, density=0.4, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed)
    X.data = rng.standard_normal(X.nnz)
    y = X @ rng.standard_normal(d) + 0.7 + noise * rng.standard_normal(n)
    return X, y


def _gram(state):
    return state.R.T @ state.R


def _centred_gram(X, y, v):
    """Σ v_i (a_i − μ)(a_i − μ)ᵀ of a_i = [x_i y_i] with μ the weighted mean: the definition."""
    A = np.column_stack([X.toarray(), y])
    mu = v @ A / v.sum()
    return (A - mu).T @ ((A - mu) * v[:, None]), mu


def _assert_same_state(got, want, rtol=1e-9):
    assert got.fit_intercept and got.count == want.count and got.weighted == want.weighted
    assert got.weight == pytest.approx(want.weight, rel=1e-13)
    np.testing.assert_allclose(got.mean, want.mean, rtol=rtol, atol=1e-12)
    np.testing.assert_array_equal(got.lo, want.lo)
    np.testing.assert_array_equal(got.hi, want.hi)
    assert got.R.shape == want.R.shape
    np.testing.assert_array_equal(np.tril(got.R, -1), 0.0)  # upper triangular
    G = _gram(want)
    np.testing.assert_allclose(_gram(got), G, rtol=rtol, atol=rtol * np.abs(G).max())


@pytest.mark.parametrize("weighting", ["none", "zeros", "integers"])
def test_the_state_is_the_dense_streamed_state_of_the_same_rows(weighting):
    X, y = _problem(seed=1)
    rng = np.random.default_rng(2)
    v = {"none": None, "zeros": np.where(rng.random(400) < 0.3, 0.0, rng.uniform(0.1, 3.0, 400)),
         "integers": rng.integers(1, 4, 400).astype(float)}[weighting]
    got = sparse_state(X, y, v)
    want = LeastSquares.empty(6).update(X.toarray(), y, v)
    _assert_same_state(got, want)
    vv = np.ones(400) if v is None else v
    keep = vv > 0
    assert got.count == int(keep.sum()) and got.weight == pytest.approx(vv.sum(), rel=1e-13)
    G, mu = _centred_gram(X[np.flatnonzero(keep)], y[keep], vv[keep])
    np.testing.assert_allclose(_gram(got), G, rtol=1e-9, atol=1e-9 * np.abs(G).max())
    np.testing.assert_allclose(got.mean, mu, rtol=1e-12, atol=1e-14)
    dense = X.toarray()[keep]  # the column range of the kept rows only
    np.testing.assert_array_equal(got.lo, dense.min(axis=0))
    np.testing.assert_array_equal(got.hi, dense.max(axis=0))


def test_rows_of_weight_zero_leave_the_column_range_and_the_count():
    X, y = _problem(n=50, d=3, density=1.0, seed=3)
    X = X.toarray()
    X[0] = [100.0, -100.0, 50.0]  # out of range of the others, and of weight 0
    v = np.ones(50)
    v[0] = 0.0
    got = sparse_state(sp.csr_matrix(X), y, v)
    assert got.count == 49 and got.weighted
    np.testing.assert_array_equal(got.hi, X[1:].max(axis=0))
    np.testing.assert_array_equal(got.lo, X[1:].min(axis=0))
    _assert_same_state(got, sparse_state(sp.csr_matrix(X[1:]), y[1:], v[1:]))


def test_no_row_of_positive_weight_is_the_empty_state_and_one_row_is_a_mean_without_spread():
    X, y = _problem(n=30, d=4, density=1.0, seed=4)
    empty = sparse_state(X, y, np.zeros(30))
    want = LeastSquares.empty(4)
    assert empty.count == 0 and empty.R.shape == (0, 5) and empty.weight == 0.0
    np.testing.assert_array_equal(empty.mean, want.mean)
    np.testing.assert_array_equal(empty.lo, want.lo)
    np.testing.assert_array_equal(empty.hi, want.hi)
    v = np.zeros(30)
    v[7] = 2.5
    one = sparse_state(X, y, v)
    assert one.count == 1 and one.weight == 2.5 and one.R.shape == (1, 5)
    np.testing.assert_allclose(one.mean, np.append(X.toarray()[7], y[7]), rtol=1e-15)
    np.testing.assert_allclose(_gram(one), 0.0, atol=1e-13 * np.abs(one.mean).max() ** 2)
    np.testing.assert_array_equal(one.lo, X.toarray()[7])
    unweighted = sparse_state(X[:1], y[:1])
    assert unweighted.count == 1 and unweighted.weight == 1.0 and not unweighted.weighted


def test_fewer_rows_than_coefficients_keep_one_row_of_r_per_row_and_ridge_is_scikit_learns():
    from sklearn.linear_model import Ridge

    X, y = _problem(n=5, d=9, density=0.8, seed=5)
    state = sparse_state(X, y)
    assert state.R.shape == (5, 10)
    _assert_same_state(state, LeastSquares.empty(9).update(X.toarray(), y))
    s = state.solution(alpha=0.3)
    ridge = Ridge(alpha=0.3 * 5).fit(X.toarray(), y)
    np.testing.assert_allclose(s.w, ridge.coef_, rtol=1e-8, atol=1e-10)
    assert s.b == pytest.approx(ridge.intercept_, rel=1e-8)
    with pytest.raises(DataError, match="more features than rows"):
        state.solution()


@pytest.mark.parametrize("scale", [1e-9, 1e-7, 1e6])
def test_columns_of_very_different_scales_solve_as_numpys_least_squares(scale):
    X, y = _problem(n=500, d=5, density=0.5, seed=6)
    X = X.toarray()
    X[:, 1] *= scale
    X[:, 3] /= scale
    s = sparse_state(sp.csr_matrix(X), y).solution()
    size = np.abs(X).max(axis=0)  # numpy's lstsq does not equilibrate: solve on unit columns, scale back
    best = np.linalg.lstsq(np.column_stack([X / size, np.ones(500)]), y, rcond=None)[0]
    best[:-1] /= size
    np.testing.assert_allclose(s.w, best[:-1], rtol=1e-8)
    assert s.b == pytest.approx(best[-1], rel=1e-9)
    assert s.rss == pytest.approx(np.sum((X @ best[:-1] + best[-1] - y) ** 2), rel=1e-8)


@pytest.mark.parametrize("value", [0.1, 0.3, 7.0])
def test_a_constant_column_is_named_as_the_dense_solver_names_it(value):
    X, y = _problem(n=300, d=4, density=0.6, seed=7)
    X = X.toarray()
    X[:, 2] = value
    with pytest.raises(DataError) as dense:
        LeastSquares.empty(4).update(X, y).solution()
    with pytest.raises(DataError) as sparse:
        sparse_state(sp.csr_matrix(X), y).solution()
    assert "x3" in str(dense.value) and str(sparse.value) == str(dense.value)


def _derived(seed):
    """x5 = 0.3·x1 + 0.7·x3 exactly, and the smallest Cholesky pivot² of the unit-diagonal normal equations."""
    X, y = _problem(n=300, d=5, density=0.6, seed=seed)
    X = X.toarray()
    X[:, 4] = 0.3 * X[:, 0] + 0.7 * X[:, 2]
    A = np.column_stack([X, y])
    C = (A - A.mean(axis=0)).T @ (A - A.mean(axis=0))
    s = np.sqrt(np.diag(C))
    try:
        pivot2 = float(np.min(np.diag(np.linalg.cholesky(C / s[:, None] / s[None, :]))) ** 2)
    except np.linalg.LinAlgError:
        pivot2 = None
    return X, y, pivot2


@pytest.mark.parametrize("seed", [0, 2, 4, 8])
def test_a_derived_column_is_named_as_the_dense_solver_names_it(seed):
    """Where Cholesky's smallest pivot² is at ε·max(n, d+1) or below (or Cholesky fails), the eigen-path zeroes it."""
    X, y, pivot2 = _derived(seed)
    assert pivot2 is None or pivot2 <= 6 * np.finfo(np.float64).eps
    with pytest.raises(DataError) as dense:
        LeastSquares.empty(5).update(X, y).solution()
    with pytest.raises(DataError) as sparse:
        sparse_state(sp.csr_matrix(X), y).solution()
    start = "column 'x5' is a linear combination of other columns (x5 ≈ 0.3·x1 + 0.7·x3 + const)"
    assert str(dense.value).startswith(start) and str(sparse.value).startswith(start)


def test_a_derived_column_whose_pivot_rounds_above_d_eps_is_named():
    """Rounding can leave a derived column's pivot² above d·ε (6.5 ε at n = 300); the threshold is the normal
    equations' rounding level ε·max(n, d+1), so it is named as the dense solver names it."""
    X, y, _ = _derived(1)
    with pytest.raises(DataError, match="column 'x5' is a linear combination"):
        LeastSquares.empty(5).update(X, y).solution()
    try:
        sparse_state(sp.csr_matrix(X), y).solution()
    except DataError as e:
        assert "column 'x5' is a linear combination" in str(e)
    else:
        raise AssertionError("solved a design with no unique solution")


def _near_copy(delta, seed):
    """x5 = x3 + delta·z: a column whose sine to the others' span is ~delta, and the unit-diagonal normal
    equations' smallest Cholesky pivot² (None: Cholesky fails) and eigenvalues, in units of ε, from scipy's
    own sparse products."""
    X, y = _problem(n=400, d=5, density=1.0, seed=seed)
    X = X.toarray()
    X[:, 4] = X[:, 2] + delta * np.random.default_rng(seed).standard_normal(400)
    A = sp.hstack([sp.csr_matrix(X), sp.csr_matrix(y[:, None])], format="csr")  # the products sparse.py forms
    Av = sp.diags(np.ones(400)) @ A
    mean = np.asarray(Av.sum(axis=0)).reshape(-1) / 400.0
    C = (A.T @ Av).toarray()
    C -= 400.0 * np.outer(mean, mean)
    Cs = C / np.sqrt(np.diag(C))[:, None] / np.sqrt(np.diag(C))[None, :]
    eps = np.finfo(np.float64).eps
    try:
        pivot2 = float(np.min(np.diag(np.linalg.cholesky(Cs))) ** 2) / eps
    except np.linalg.LinAlgError:
        pivot2 = None
    return X, y, pivot2, np.linalg.eigvalsh(Cs) / eps


@pytest.mark.parametrize("seed", [0, 3])
def test_a_near_copy_above_the_rounding_level_is_solved(seed):
    """A Cholesky pivot² above ε·max(n, d+1) (n = 400) is solved, to the accuracy the normal equations keep."""
    X, y, pivot2, lam = _near_copy(4e-7, seed)
    assert 400 < pivot2 < 1000
    s = sparse_state(sp.csr_matrix(X), y).solution()
    best = np.linalg.lstsq(np.column_stack([X, np.ones(400)]), y, rcond=None)[0]
    assert s.rss == pytest.approx(np.sum((X @ best[:-1] + best[-1] - y) ** 2), rel=1e-2)
    assert s.rss == pytest.approx(np.sum((X @ s.w + s.b - y) ** 2), rel=1e-2)


@pytest.mark.parametrize("seed", [2, 7])
def test_a_near_copy_below_the_rounding_level_is_named(seed):
    """A pivot² above d·ε but at most ε·max(n, d+1): the normal equations cannot resolve the column; named."""
    X, y, pivot2, lam = _near_copy(2e-7, seed)
    assert 6 < pivot2 < 400
    with pytest.raises(DataError, match="column 'x5' is a linear combination"):
        sparse_state(sp.csr_matrix(X), y).solution()


@pytest.mark.parametrize("seed", [2, 7])
def test_a_near_copy_at_the_rounding_level_is_named_or_reports_its_true_rss(seed):
    """The rank a rounding loses is the design's, never the target's: a reported RSS is the coefficients'."""
    X, y, pivot2, lam = _near_copy(4e-8, seed)
    assert pivot2 <= 6 and 0 < lam[0] <= 6 * lam[-1]  # the eigen-path, a positive eigenvalue zeroed
    try:
        s = sparse_state(sp.csr_matrix(X), y).solution()
    except DataError as e:
        assert "column 'x5' is a linear combination" in str(e)
    else:
        assert s.rss == pytest.approx(np.sum((X @ s.w + s.b - y) ** 2), rel=1e-2)


def test_an_exactly_determined_target_leaves_zero_residual_and_the_solution():
    X, y = _problem(n=200, d=4, density=0.7, seed=9, noise=0.0)
    s = sparse_state(X, y).solution()
    best = np.linalg.lstsq(np.column_stack([X.toarray(), np.ones(200)]), y, rcond=None)[0]
    np.testing.assert_allclose(s.w, best[:-1], rtol=1e-7, atol=1e-9)
    assert s.rss < 1e-20 * np.sum((y - y.mean()) ** 2)


def _largest_width(budget):
    """The largest d whose statistics fit ``budget``, by search."""
    d = 0
    while statistics_bytes(d + 1) <= budget:
        d += 1
    return d


@pytest.mark.parametrize("d", [1, 40, 777])
def test_the_size_check_takes_the_bound_itself_and_refuses_one_byte_less(d):
    check_size(d, statistics_bytes(d))  # at the bound: no error
    check_size(d, statistics_bytes(d) + 1)
    with pytest.raises(ConfigError, match=rf"at most {_largest_width(statistics_bytes(d) - 1):,} features"):
        check_size(d, statistics_bytes(d) - 1)
    assert _largest_width(statistics_bytes(d) - 1) == d - 1


def test_statistics_bytes_are_three_float64_copies_of_the_augmented_square():
    for d in (0, 1, 5, 1000):
        assert statistics_bytes(d) == 3 * 8 * (d + 2) * (d + 2)


def test_the_refusal_says_the_budget_and_the_need_in_gib():
    budget, d = 4 * 2**30, 2**14 - 2  # need: 24·2²⁸ bytes = 6 GiB
    with pytest.raises(ConfigError) as info:
        check_size(d, budget)
    text = str(info.value)
    most = _largest_width(budget)
    assert re.search(rf"at most {most:,} features for sparse X within the memory budget of 4\.0 GiB", text), text
    assert "16,382 features need 6.0 GiB for the normal equations" in text and "solver='sgd'" in text


def test_no_features_is_the_intercept_alone():
    """d = 0: the intercept is the mean target and the residual sum of squares is the total one."""
    y = np.array([1.0, 2.0, 4.0, -0.5])
    s = sparse_state(sp.csr_matrix((4, 0)), y).solution([])
    assert s.w.shape == (0,) and s.b == pytest.approx(y.mean(), rel=1e-15)
    assert s.rss == pytest.approx(np.sum((y - y.mean()) ** 2), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_near_copy_among_correlated_columns_is_zeroed_against_the_largest_eigenvalue(seed):
    """Four columns on one common factor (λ_max ≈ 5, the other eigenvalues ≈ 0.003) and x5 = x3 + 2e-7·z: its
    pivot² (~200 ε) is below ε·n (n = 400), so the eigen-path runs, and its smallest eigenvalue (~100 ε) is
    below ε·n·λ_max but above ε·n·λ for every other eigenvalue λ and above ε·n / λ_max: named only by the rule."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(400)
    X = np.column_stack([f + 0.05 * rng.standard_normal(400) for _ in range(4)] + [np.zeros(400)])
    X[:, 4] = X[:, 2] + 2e-7 * rng.standard_normal(400)
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + rng.standard_normal(400)
    Xc = X - X.mean(0)
    Cs = Xc.T @ Xc / np.sqrt(np.outer(np.diag(Xc.T @ Xc), np.diag(Xc.T @ Xc)))
    eps, lam = np.finfo(np.float64).eps, np.linalg.eigvalsh(Cs)
    assert np.min(np.diag(np.linalg.cholesky(Cs))) ** 2 <= 400 * eps
    assert 400 * eps * max(lam[1], lam[-2], 1 / lam[-1]) < lam[0] <= 400 * eps * lam[-1]
    with pytest.raises(DataError, match="column 'x5' is a linear combination"):
        sparse_state(sp.csr_matrix(X), y).solution()
