"""linsgd.lstsq.qr: the exact streamed least-squares solution, against statsmodels and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linsgd.errors import DataError, LinsgdWarning
from linsgd.lstsq.qr import LeastSquares, exact
from linsgd.lstsq.summary import optimality_gap, summarize


def scaled_data(seed: int, n: int = 400):
    """Features on very different scales and offsets, so raw normal equations would lose digits."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 100.0, 0.01] + [5.0, -3.0, 1000.0, 0.0]
    y = X @ [1.0, 2.0, -0.5, 30.0] + 7.0 + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_statsmodels_ols_to_1e_10(seed, fit_intercept):
    sm = pytest.importorskip("statsmodels.api")
    X, y = scaled_data(seed)
    ref = sm.OLS(y, sm.add_constant(X, prepend=False) if fit_intercept else X).fit()
    s = summarize(exact(X, y, fit_intercept=fit_intercept, chunk_rows=37))
    for ours, theirs in [(s.coef, ref.params), (s.se, ref.bse), (s.t, ref.tvalues),
                         (s.ci_low, ref.conf_int()[:, 0]), (s.ci_high, ref.conf_int()[:, 1]),
                         (s.r2, ref.rsquared), (s.adj_r2, ref.rsquared_adj),
                         (s.residual_sd, np.sqrt(ref.scale))]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=0)
    # p-values underflow to 0 for the strong coefficients: compare them absolutely too
    np.testing.assert_allclose(s.p, ref.pvalues, rtol=1e-10, atol=1e-300)


def test_streamed_chunks_merged_states_and_one_array_agree():
    X, y = scaled_data(5, n=1000)
    whole = exact(X, y, chunk_rows=10_000)
    chunked = exact((X[i:i + 97], y[i:i + 97]) for i in range(0, 1000, 97))
    left = LeastSquares.empty(4).update(X[:300], y[:300])
    right = LeastSquares.empty(4).update(X[300:650], y[300:650]).update(X[650:], y[650:])
    merged = left.merge(right).solution()
    for s in (chunked, merged):
        np.testing.assert_allclose(s.w, whole.w, rtol=1e-12)
        assert s.b == pytest.approx(whole.b, rel=1e-12)
        assert s.rss == pytest.approx(whole.rss, rel=1e-10) and s.n == 1000


def test_exact_recovers_a_noiseless_plane_and_the_closed_form_one_feature_fit():
    x = np.arange(10.0)
    s = exact(x[:, None], 3.0 - 2.0 * x)
    assert s.w[0] == pytest.approx(-2.0, abs=1e-13) and s.b == pytest.approx(3.0, abs=1e-12)
    assert s.rss < 1e-24 and s.r2 == pytest.approx(1.0)
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0, 9.0, 9.5])
    s = exact(x[:, None], y)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    assert s.w[0] == pytest.approx(slope, rel=1e-14)
    assert s.b == pytest.approx(y.mean() - slope * x.mean(), rel=1e-14)


def test_optimality_gap_matches_a_direct_pass_over_the_data():
    X, y = scaled_data(1)
    s = exact(X, y)
    w, b = s.w + [1e-3, -2e-3, 1e-5, 0.5], s.b + 0.1
    g = optimality_gap(s, w, b)
    direct = 0.5 * np.mean((X @ w + b - y) ** 2)
    assert g.loss == pytest.approx(direct, rel=1e-12)
    assert g.optimum == pytest.approx(0.5 * np.mean((X @ s.w + s.b - y) ** 2), rel=1e-12)
    assert g.relative == pytest.approx((direct - g.optimum) / g.optimum, rel=1e-8)
    se_w, se_b = s.standard_errors()
    np.testing.assert_allclose(g.se_units, np.append((w - s.w) / se_w, 0.1 / se_b), rtol=1e-10)
    at_optimum = optimality_gap(s, s.w, s.b)
    assert at_optimum.relative < 1e-12 and at_optimum.mahalanobis < 1e-5


def test_gap_without_intercept_counts_a_nonzero_bias():
    X, y = scaled_data(2)
    s = exact(X, y, fit_intercept=False)
    w = s.w * 1.001
    assert optimality_gap(s, w, 0.3).loss == pytest.approx(0.5 * np.mean((X @ w + 0.3 - y) ** 2), rel=1e-12)


def test_a_duplicated_column_is_named_with_the_fix():
    X, y = scaled_data(3)
    with pytest.raises(DataError, match=r"column 'x5' is a linear combination .*x5 ≈ 1·x2.*drop 'x5'"):
        exact(np.column_stack([X, X[:, 1]]), y)
    with pytest.raises(DataError, match=r"column 'b' is a linear combination .*b ≈ 2·a - 3·c"):
        a, c = X[:, 0], X[:, 2]
        exact(np.column_stack([a, c, 2 * a - 3 * c]), y, feature_names=["a", "c", "b"])


def test_a_constant_column_and_too_few_rows_are_errors_that_say_what_to_do():
    X, y = scaled_data(4)
    with pytest.raises(DataError, match=r"column 'x5' is constant \(every value is 3\).*intercept.*drop"):
        exact(np.column_stack([X, np.full(len(X), 3.0)]), y)
    s = exact(np.column_stack([X, np.full(len(X), 3.0)]), y, fit_intercept=False)  # fine without one
    assert np.isfinite(s.w).all()
    with pytest.raises(DataError, match=r"n_samples = 3 rows cannot determine 5 coefficients .*more features"):
        exact(X[:3], y[:3])
    with pytest.raises(DataError, match=r"X\[:, 2\] at row 7 is nan"):
        X[7, 2] = np.nan
        exact(X, y, chunk_rows=5)


def test_a_target_without_variance_warns_instead_of_a_silent_nan():
    X, _ = scaled_data(6)
    with pytest.warns(LinsgdWarning, match="target has no variance"):
        s = exact(X, np.full(len(X), 2.5))
    assert np.isnan(s.r2) and s.b == pytest.approx(2.5) and np.abs(s.w).max() < 1e-12


def test_exactly_determined_fit_warns_and_reports_nan_standard_errors():
    X = np.array([[0.0], [1.0]])
    with pytest.warns(LinsgdWarning, match="no residual degrees of freedom"):
        s = exact(X, [1.0, 4.0])
    assert s.w[0] == pytest.approx(3.0) and np.isnan(summarize(s).se).all()


def test_a_well_conditioned_design_does_not_warn():
    X, y = scaled_data(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = summarize(exact(X, y))
    assert s.warnings == [] and 1.0 <= s.condition_number < 2.0


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 199), max_size=6, unique=True), seed=st.integers(0, 2**16),
       reverse=st.booleans())
def test_any_split_merged_in_any_order_gives_the_same_solution(cuts, seed, reverse):
    """Merging is exact in real arithmetic: chunks → states → merge ≡ one state (ranks, files, chunks)."""
    X, y = scaled_data(seed, n=200)
    bounds = [0, *sorted(cuts), 200]
    parts = [LeastSquares.empty(4).update(X[a:b], y[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    merged = LeastSquares.empty(4)
    for part in reversed(parts) if reverse else parts:
        merged = part.merge(merged)
    whole = exact(X, y, refine=False)
    s = merged.solution()
    np.testing.assert_allclose(s.w, whole.w, rtol=1e-10)
    assert s.b == pytest.approx(whole.b, rel=1e-10) and s.rss == pytest.approx(whole.rss, rel=1e-9)
    assert merged.count == 200


def test_summary_prints_a_table_and_serialises_to_strict_json():
    import json

    X, y = scaled_data(8)
    s = summarize(exact(X, y, feature_names=["a", "b", "c", "d"]), confidence=0.9)
    text = str(s).splitlines()
    assert text[0].split()[:4] == ["coef", "std", "err", "t"] and "90% CI low" in text[0]
    assert [line.split()[0] for line in text[1:6]] == ["a", "b", "c", "d", "intercept"]
    assert text[6].startswith("n = 400, residual df = 395, R² = ")
    doc = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert doc["coefficients"]["b"]["coef"] == pytest.approx(2.0, abs=0.01) and doc["warnings"] == []
    with pytest.warns(LinsgdWarning):
        exactly_determined = summarize(exact(np.array([[0.0], [1.0]]), [1.0, 4.0]))
    assert json.loads(json.dumps(exactly_determined.to_dict(), allow_nan=False))["residual_sd"] is None
    with pytest.raises(ValueError, match="confidence=1.5"):
        summarize(exact(X, y), confidence=1.5)
