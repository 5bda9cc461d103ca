"""The huber solver's documented cap and its default penalty against hand-written conditions (what mutation
testing of lstsq/robust.py found unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.lstsq.robust import trusted_optimum


def _rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -2.0] + 0.5 + rng.standard_t(2, n)


def test_irls_stops_at_one_thousand_passes_and_says_it_did_not_converge():
    X, y = _rows(12)
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=0.5, quantile=0.5,
                            tol=-1.0)  # a tolerance no pass can meet: the documented cap of 1,000 passes ends it
    assert (found.steps, found.converged) == (1000, False)
    assert found.method.endswith("stopped after 1000 passes")


def test_a_penalty_without_l1_ratio_is_ridge():
    """Stationarity of mean huber(r) + α/2‖w‖²: −Xᵀψ(r)/n + αw = 0 and Σψ(r) = 0, ψ(r) = clip(r, −ε, ε)."""
    X, y = _rows()
    eps, alpha = 0.5, 0.2
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=eps, quantile=0.5, alpha=alpha)
    psi = np.clip(y - X @ found.w - found.b, -eps, eps)
    assert found.converged and np.all(found.w != 0)
    np.testing.assert_allclose(-X.T @ psi / len(y) + alpha * found.w, 0.0, atol=1e-5)  # the stop: moves below √tol
    assert abs(psi.mean()) < 1e-5


def test_the_linear_program_reports_a_converged_solution_of_no_irls_passes():
    X, y = _rows()
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.1, quantile=0.5)
    assert (found.converged, found.steps) == (True, 0)
    r = y - X @ found.w - found.b
    assert found.optimum == pytest.approx(np.mean(np.maximum(0.5 * r, -0.5 * r)), rel=1e-12)  # pinball, q = ½


def _huber(r, eps):
    a = np.abs(r)
    return np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)


def _irls_by_hand(X, y, eps, tol, coefficients=True):
    """IRLS replayed with numpy's least squares: pass 1 is OLS; each later pass evaluates the mean huber loss at
    the current (w, b), stops when it fell by at most tol·|F| and (``coefficients``) the last move
    max|Δw| + |Δb| is at most √tol·(1 + max|w|), else solves least squares weighted by min(1, ε/|r|)."""
    A = np.column_stack([X, np.ones(len(y))])
    theta, previous, moved, step = None, np.inf, np.inf, 0
    while True:
        step += 1
        v = np.ones(len(y))
        if theta is not None:
            r = y - A @ theta
            value = _huber(r, eps).mean()
            if previous - value <= tol * abs(value) and (
                    not coefficients or moved <= np.sqrt(tol) * (1 + np.abs(theta[:-1]).max(initial=0))):
                return step, theta
            previous, v = value, np.minimum(1.0, eps / np.abs(r))
        new = np.linalg.lstsq(A * np.sqrt(v)[:, None], y * np.sqrt(v), rcond=None)[0]
        moved = 0.0 if theta is None else np.abs(new[:-1] - theta[:-1]).max(initial=0) + abs(new[-1] - theta[-1])
        theta = new


@pytest.mark.parametrize("tol,scale", [(1e-4, 1.0), (1e-8, 1.0), (1e-4, 0.1)])
def test_irls_stops_when_both_the_objective_and_the_coefficients_are_still(tol, scale):
    """On Cauchy noise the coefficients still move after the objective has gone flat: the coefficient half of
    the stopping rule binds (the objective's half alone would stop passes earlier), and the passes, w and b
    are those of IRLS replayed by hand with the documented rule (also for coefficients below 1: scale 0.1)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 2))
    y = (X @ [1.0, -2.0] + 0.5 + rng.standard_t(1, 60)) * scale
    eps = 0.3 * scale
    steps, theta = _irls_by_hand(X, y, eps, tol)
    assert _irls_by_hand(X, y, eps, tol, coefficients=False)[0] < steps  # the coefficients' half binds here
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=eps, quantile=0.5, tol=tol)
    assert (found.steps, found.converged) == (steps, True)
    np.testing.assert_allclose(found.w, theta[:2], rtol=1e-10)
    assert found.b == pytest.approx(theta[2], rel=1e-10)



@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_an_intercept_only_huber_fit_stops_by_the_same_rule(tol):
    """No features (d = 0): the Huber estimate of location. max|w| over no coefficients is 0, so the rule reads
    the intercept's move against √tol; the passes and b are those of the hand replay, and b solves the
    estimating equation Σ clip(y − b, −ε, ε) = 0 to the tolerance."""
    rng = np.random.default_rng(5)
    y = 0.5 + rng.standard_t(1, 60)
    X = np.zeros((60, 0))
    steps, theta = _irls_by_hand(X, y, 0.3, tol)
    found = trusted_optimum(lambda: [(X, y, None)], 0, loss="huber", epsilon=0.3, quantile=0.5, tol=tol)
    assert (found.steps, found.converged, found.w.shape) == (steps, True, (0,))
    assert found.b == pytest.approx(theta[0], rel=1e-12)
    assert abs(np.clip(y - found.b, -0.3, 0.3).mean()) < 10 * np.sqrt(tol)

def test_a_quantile_fit_without_intercept_equals_quantileregressor_through_the_origin():
    """fit_intercept=False: the linear program has no intercept columns to use (b = 0) and its optimum is
    scikit-learn's QuantileRegressor(fit_intercept=False) on the same rows, to the solver's tolerance."""
    from sklearn.linear_model import QuantileRegressor

    X, y = _rows(80, seed=3)
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.0, quantile=0.7,
                            fit_intercept=False)
    m = QuantileRegressor(quantile=0.7, alpha=0.0, fit_intercept=False, solver="highs").fit(X, y)
    assert found.b == 0.0
    np.testing.assert_allclose(found.w, m.coef_, atol=1e-6)
    r = y - X @ m.coef_
    assert found.optimum == pytest.approx(np.mean(np.maximum(0.7 * r, -0.3 * r)), rel=1e-9)


def test_a_linear_programs_solution_names_its_penalty_and_is_frozen():
    """The solution records the objective it solved: no penalty is α = 0 and l1_ratio 0; an l1 penalty α·ρ is
    α·ρ with l1_ratio 1 (the linear program's only penalty). Its fields cannot be changed afterwards."""
    import dataclasses

    X, y = _rows()
    plain = trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.0, quantile=0.5)
    assert (plain.alpha, plain.l1_ratio) == (0.0, 0.0)
    l1 = trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.0, quantile=0.5, alpha=0.2,
                         l1_ratio=1.0)
    assert (l1.alpha, l1.l1_ratio) == (0.2, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.b = 1.0


@pytest.mark.parametrize("l1_ratio,name", [(0.0, "l2"), (0.5, "elasticnet")])
def test_a_linear_program_refuses_a_ridge_part_naming_the_penalty(l1_ratio, name):
    """The refusal names the penalty the user set: ρ = 0 is an l2 penalty, 0 < ρ < 1 an elastic net."""
    from linsgd.errors import ConfigError

    X, y = _rows()
    with pytest.raises(ConfigError) as refused:
        trusted_optimum(lambda: [(X, y, None)], 2, loss="quantile", epsilon=0.0, quantile=0.5, alpha=0.1,
                        l1_ratio=l1_ratio)
    assert (refused.value.param, refused.value.value) == ("penalty", name)


@pytest.mark.parametrize("loss", ["quantile", "epsilon_insensitive", "huber"])
def test_no_rows_at_all_is_a_data_error_saying_so(loss):
    from linsgd.errors import DataError

    with pytest.raises(DataError, match="no rows"):
        trusted_optimum(lambda: [], 2, loss=loss, epsilon=0.5, quantile=0.5)


def test_irls_reads_the_rows_exactly_one_thousand_times_when_it_never_converges():
    """The documented cap is 1,000 passes over the rows: the rows are asked for exactly 1,000 times."""
    X, y = _rows(12)
    calls = []

    def passes():
        calls.append(1)
        return [(X, y, None)]

    found = trusted_optimum(passes, 2, loss="huber", epsilon=0.5, quantile=0.5, tol=-1.0)
    assert (len(calls), found.steps, found.converged) == (1000, 1000, False)


def test_huber_weights_of_any_scale_give_the_same_fit():
    """The objective is normalised by W = Σs: weights summing to 0.6 (0.01 a row) and to 60 give the same
    minimiser, that of the unweighted rows."""
    X, y = _rows(60)
    fits = [trusted_optimum(lambda s=s: [(X, y, np.full(60, s))], 2, loss="huber", epsilon=0.5, quantile=0.5)
            for s in (0.01, 1.0)]
    plain = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=0.5, quantile=0.5)
    for found in fits:
        np.testing.assert_allclose(found.w, plain.w, rtol=1e-9)
        assert found.b == pytest.approx(plain.b, rel=1e-9)


@pytest.mark.parametrize("loss", ["quantile", "huber"])
def test_a_missing_target_is_named_by_its_row(loss):
    from linsgd.errors import DataError

    X, y = _rows()
    y = y.copy()
    y[3] = np.nan  # the 0-based row 3 of the only chunk
    with pytest.raises(DataError, match=r"y at row 3 is nan"):
        trusted_optimum(lambda: [(X, y, None)], 2, loss=loss, epsilon=0.5, quantile=0.5)


@pytest.mark.parametrize("loss", ["huber", "quantile", "epsilon_insensitive"])
def test_a_bad_value_in_a_later_chunk_is_named_by_its_row_in_the_data(loss):
    """Streamed in chunks of 4, 5 and 3 rows, a NaN at row 2 of the third chunk is row 4 + 5 + 2 = 11."""
    from linsgd.errors import DataError

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 2)), rng.normal(size=12)
    y[11] = np.nan
    chunks = [(X[:4], y[:4], None), (X[4:9], y[4:9], None), (X[9:], y[9:], None)]
    with pytest.raises(DataError, match=r"^y at row 11 is nan"):
        trusted_optimum(lambda: chunks, 2, loss=loss, epsilon=0.1, quantile=0.5)


def test_epsilon_insensitive_equals_the_textbook_linear_program():
    """The optimum of mean max(|r| − ε, 0) + α‖w‖₁ equals that of the textbook linear program solved here by
    scipy (w, b free; t ≥ 0, t ≥ r − ε, t ≥ −r − ε), and the loss at the returned (w, b) is that optimum."""
    from scipy.optimize import linprog

    X, y = _rows(50, seed=4)
    n, eps = len(y), 0.8
    for alpha in (0.0, 0.1):
        found = trusted_optimum(lambda: [(X, y, None)], 2, loss="epsilon_insensitive", epsilon=eps, quantile=0.5,
                                alpha=alpha, l1_ratio=1.0)
        # z = [w (2), b, u (2) ≥ |w|, t (n)]: min α Σu + Σt / n
        c = np.concatenate([[0.0, 0.0, 0.0], [alpha, alpha], np.full(n, 1.0 / n)])
        A = np.column_stack([X, np.ones(n)])
        rows = [np.hstack([-A, np.zeros((n, 2)), -np.eye(n)]),  # y − ŷ − t ≤ ε
                np.hstack([A, np.zeros((n, 2)), -np.eye(n)])]  # ŷ − y − t ≤ ε
        absw = np.hstack([np.eye(2), np.zeros((2, 1)), -np.eye(2), np.zeros((2, n))])
        res = linprog(c, A_ub=np.vstack(rows + [absw, np.hstack([-absw[:, :3], absw[:, 3:]])]),
                      b_ub=np.concatenate([eps - y, eps + y, np.zeros(4)]),
                      bounds=[(None, None)] * 3 + [(0, None)] * (2 + n), method="highs")
        r = y - X @ found.w - found.b
        by_hand = np.mean(np.maximum(np.abs(r) - eps, 0.0)) + alpha * np.abs(found.w).sum()
        assert found.optimum == pytest.approx(by_hand, rel=1e-12)
        assert found.optimum == pytest.approx(res.fun, rel=1e-7, abs=1e-10)


def test_epsilon_insensitive_is_zero_when_a_tube_of_half_width_epsilon_holds_every_row():
    """Rows within ±0.4 of a plane and ε = 0.5: the least loss is 0, and every returned residual is within ε."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.uniform(-0.4, 0.4, 40)
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="epsilon_insensitive", epsilon=0.5, quantile=0.5)
    assert found.optimum < 1e-12
    assert np.all(np.abs(y - X @ found.w - found.b) <= 0.5 + 1e-9)


def test_the_objectives_settings_are_keyword_only():
    X, y = _rows()
    with pytest.raises(TypeError):
        trusted_optimum(lambda: [(X, y, None)], 2, "huber", 0.5, 0.5)


@pytest.mark.parametrize("tol", [1e-12, -1.0])
def test_a_huber_solution_records_its_objective_and_no_quantile(tol):
    """Converged or stopped at the cap, a huber solution records loss, ε, α and ρ as given and quantile 0.0
    (huber has none)."""
    X, y = _rows(12)
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=0.5, quantile=0.7, alpha=0.1,
                            l1_ratio=0.3, tol=tol)
    assert found.converged == (tol > 0)
    assert (found.loss, found.epsilon, found.quantile, found.alpha, found.l1_ratio) == ("huber", 0.5, 0.0, 0.1, 0.3)


@pytest.mark.parametrize("loss", ["huber", "quantile", "epsilon_insensitive"])
def test_weights_of_another_length_than_their_chunk_are_refused_by_shape(loss):
    from linsgd.errors import DataError

    X, y = _rows(12)
    with pytest.raises(DataError, match=r"^sample_weight must have shape \(12,\)"):
        trusted_optimum(lambda: [(X, y, np.ones(11))], 2, loss=loss, epsilon=0.5, quantile=0.5)


def test_rows_inside_the_quadratic_zone_stop_at_an_exact_fixed_point_even_at_tol_zero():
    """Every residual of the least-squares fit within ε: huber's optimum is that fit (numpy's lstsq). Pass 1
    solves it, pass 2 (all weights 1) solves it again to the last bit, and pass 3 sees a fall of 0 and a move
    of 0 — the rule's "at most" holds at tol = 0, so it stops there, converged."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.uniform(-0.1, 0.1, 30)
    theta = np.linalg.lstsq(np.column_stack([X, np.ones(30)]), y, rcond=None)[0]
    assert np.abs(y - X @ theta[:2] - theta[2]).max() < 0.5
    found = trusted_optimum(lambda: [(X, y, None)], 2, loss="huber", epsilon=0.5, quantile=0.5, tol=0.0)
    assert (found.steps, found.converged) == (3, True)
    np.testing.assert_allclose(found.w, theta[:2], rtol=1e-10)
    assert found.b == pytest.approx(theta[2], rel=1e-10)
