"""The Gram path of the exact solver (large arrays in memory): the same answer as the QR pass, taken only
where the squared condition number costs no digit (NIST StRD within the bound), QR everywhere else."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support.nist import available, load
from test_nist import ONE_PASS, REFINED, lre

from linsgd.errors import DataError
from linsgd.lstsq import qr
from linsgd.lstsq.gram import MAX_CONDITION, gram_factor, refine_centred
from linsgd.lstsq.qr import CHUNK_ROWS, LeastSquares, exact
from linsgd.lstsq.summary import summarize

N = CHUNK_ROWS + 4321  # more than one chunk: exact() takes the Gram path


def _data(n=N, d=6, seed=0, loc=0.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc, 1.0, size=(n, d)) + rng.normal(0, 0.3, size=(n, 1))  # correlated columns
    y = X @ rng.normal(size=d) + 3.0 + rng.normal(0, 0.5, n)
    return X.astype(dtype), y.astype(dtype)


def _by_qr(X, y, fit_intercept=True) -> LeastSquares:
    """The QR state of the same rows, streamed chunk by chunk (the path that never takes the Gram matrix)."""
    state = LeastSquares.empty(X.shape[1], fit_intercept=fit_intercept)
    for a in range(0, len(X), 10_000):
        state = state.update(X[a:a + 10_000], y[a:a + 10_000])
    return state


@pytest.fixture
def spy(monkeypatch):
    """What gram_factor returned in exact(): a list of True (a state) / False (None)."""
    taken = []

    def recording(*args, **kwargs):
        found = gram_factor(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(qr, "gram_factor", recording)
    return taken


# (without an intercept, raw columns of a common large mean are nearly collinear: outside the bound)
@pytest.mark.parametrize("fit_intercept, loc, dtype", [(True, 0.0, np.float64), (True, 1e6, np.float64),
                                                       (True, 50.0, np.float32), (False, 0.0, np.float64),
                                                       (False, 0.0, np.float32)])
def test_the_gram_path_gives_the_qr_state_and_solution(spy, fit_intercept, loc, dtype):
    """Large column means (1e6 with unit spread) cancel in a Gram matrix that is not shifted first."""
    X, y = _data(loc=loc, dtype=dtype)
    n, mean, R, lo, hi = gram_factor(X, y, fit_intercept=fit_intercept)
    ref = _by_qr(X, y, fit_intercept)
    assert n == ref.count == N
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.abs(R), np.abs(ref.R), rtol=1e-9, atol=1e-9 * np.abs(ref.R).max())
    np.testing.assert_array_equal(lo, X.min(axis=0))
    np.testing.assert_array_equal(hi, X.max(axis=0))
    s = exact(X, y, fit_intercept=fit_intercept)
    assert spy == [True]
    t = qr.refined(ref.solution(), [(X, y)])  # QR, refined in long double: the oracle
    np.testing.assert_allclose(s.w, t.w, rtol=1e-11)
    assert s.b == pytest.approx(t.b, rel=1e-11, abs=1e-11)
    assert s.rss == pytest.approx(t.rss, rel=1e-11) and s.n == t.n
    np.testing.assert_allclose(summarize(s).se, summarize(t).se, rtol=1e-9)


def test_the_gram_path_is_the_same_bits_every_time():
    X, y = _data(seed=3)
    a, b = exact(X, y), exact(X, y)
    assert a.w.tobytes() == b.w.tobytes() and a.b == b.b and a.rss == b.rss


@pytest.mark.parametrize("name", sorted(available()))
def test_nist_sets_within_the_bound_reach_one_pass_qr_digits_and_the_others_take_qr(name):
    """Forced through the Gram path in blocks of 7 rows (no size minimum): every set whose centred, scaled
    design has κ ≤ MAX_CONDITION (κ from numpy's QR, the oracle) reaches the digits of one-pass QR on
    coefficients, standard errors, residual SD and R²; the others are refused (QR keeps their digits)."""
    ds = load(name)
    Xc = ds.X - ds.X.mean(axis=0) if ds.intercept else ds.X
    Rq = np.linalg.qr(Xc, mode="r")
    kappa = np.linalg.cond(Rq / np.linalg.norm(Rq, axis=0))
    found = gram_factor(ds.X, ds.y, fit_intercept=ds.intercept, rows=7)
    assert (found is not None) == (kappa <= MAX_CONDITION), (name, kappa)
    if found is None:
        return
    n, mean, R, lo, hi = found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = LeastSquares(ds.intercept, n, mean, R, lo, hi, float(n))
        s = summarize(refine_centred(state.solution(), ds.X, ds.y, rows=7))
    coef, se = (np.roll(s.coef, 1), np.roll(s.se, 1)) if ds.intercept else (s.coef, s.se)
    reached = (lre(coef, ds.coef), lre(se, ds.coef_se), lre(s.residual_sd, ds.residual_sd), lre(s.r2, ds.r2))
    assert all(r >= need for r, need in zip(reached, ONE_PASS[name], strict=True)), (name, reached)


def test_the_refinement_step_is_what_brings_the_digits():
    """Norris: the coefficients straight from the Cholesky factor fall short of what QR refined in long
    double reaches (test_nist.REFINED); one step of the centred float64 refinement reaches it."""
    ds = load("Norris")
    n, mean, R, lo, hi = gram_factor(ds.X, ds.y, rows=7)
    raw = LeastSquares(True, n, mean, R, lo, hi, float(n)).solution()
    better = refine_centred(raw, ds.X, ds.y, rows=7)
    digits = [lre(np.append(s.b, s.w), ds.coef) for s in (raw, better)]
    assert digits[0] < REFINED["Norris"][0] <= digits[1], digits


@pytest.mark.parametrize("factor, taken", [(0.9, True), (1.1, False)])
def test_the_condition_bound_decides_the_path(factor, taken):
    """Two unit, centred columns at correlation ρ: κ = √((1+ρ)/(1−ρ)), placed just below and above the bound."""
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(2000, 2))
    Q = np.linalg.qr(Z - Z.mean(axis=0))[0]
    k = factor * MAX_CONDITION
    rho = (k * k - 1) / (k * k + 1)
    X = np.column_stack([Q[:, 0], rho * Q[:, 0] + np.sqrt(1 - rho * rho) * Q[:, 1]]) + 7.0
    Rq = np.linalg.qr(X - X.mean(axis=0), mode="r")
    assert np.linalg.cond(Rq / np.linalg.norm(Rq, axis=0)) == pytest.approx(k, rel=1e-6)
    assert (gram_factor(X, rng.normal(size=2000)) is not None) == taken


def test_an_ill_conditioned_large_array_is_solved_by_qr_as_before(spy, monkeypatch):
    X, y = _data(seed=7)
    X[:, 1] = X[:, 0] + 1e-4 * X[:, 1]  # κ ≈ 1e4
    s = exact(X, y)
    assert spy == [False]
    monkeypatch.setattr(qr, "gram_factor", lambda *a, **k: None)  # the QR path alone
    t = exact(X, y)
    assert s.w.tobytes() == t.w.tobytes() and s.b == t.b and s.rss == t.rss


def test_bad_values_and_designs_of_a_large_array_are_named_as_by_qr(spy):
    X, y = _data(seed=8)
    X[N - 3, 2] = np.nan
    with pytest.raises(DataError, match=rf"X\[:, 2\] at row {N - 3} is nan"):
        exact(X, y)
    X, y = _data(seed=8)
    X[:, 4] = 2.5
    with pytest.raises(DataError, match="'x5'.*constant"):
        exact(X, y)
    assert spy == [False, False]
