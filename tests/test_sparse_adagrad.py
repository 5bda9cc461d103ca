"""``schedule="adagrad"`` on sparse X: the sparse engine's per-coordinate steps against a NumPy transcription of
the rule on the densified matrix (batches of one and several rows, repeated column indices, weights,
averaging, an epoch split in two calls), its lr="auto" step, what it refuses, and that it reaches the least
squares fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import linsgd
from linsgd.data.batching import epoch_order
from linsgd.engines.rule import StepRule
from linsgd.engines.sparse import SparseEngine
from linsgd.errors import ConfigError
from linsgd.sgd.sparse_fit import sum_of_squares


def _data(n=300, d=25, density=0.15, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y


class Reference:
    """The rule of linsgd.engines._adagrad_kernels, written with NumPy on dense rows."""

    def __init__(self, w, b, average_from=0):
        self.w, self.b = np.array(w, dtype=np.float64), float(b)
        self.G, self.Gb = np.zeros(len(w)), 0.0
        self.average_from, self.wa, self.ba = average_from, self.w.copy(), self.b

    def epoch(self, D, y, order, eta, batch, t0=0, v=None):
        for step, start in enumerate(range(0, len(order), batch), start=1):
            idx = order[start:start + batch]
            r = D[idx] @ self.w + self.b - y[idx]
            if v is not None:
                r = r * v[idx]
            g, gb = D[idx].T @ r / len(idx), r.sum() / len(idx)
            moved = g != 0
            self.G[moved] += g[moved] ** 2
            self.w[moved] -= eta * g[moved] / np.sqrt(self.G[moved])
            self.Gb += gb * gb
            self.b -= eta * gb / np.sqrt(self.Gb)
            t = t0 + step
            if self.average_from and t >= self.average_from:
                m = t - self.average_from + 1
                self.wa += (self.w - self.wa) / m
                self.ba += (self.b - self.ba) / m
            elif self.average_from:
                self.wa, self.ba = self.w.copy(), self.b


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("average_from", [0, 150])
@pytest.mark.parametrize("weighted", [False, True])
def test_two_epochs_equal_the_rule_written_on_dense_rows(batch, average_from, weighted):
    X, y = _data()
    D, n, d = X.toarray(), *X.shape
    v = np.random.default_rng(3).uniform(0.2, 1.8, n) if weighted else None
    w0, b0, eta = 0.01 * np.arange(d), 0.3, 0.2
    rule = StepRule(eta, "adagrad", average_from=average_from)
    ref, engine = Reference(w0, b0, average_from), SparseEngine()
    w, b, avg, t0 = w0, b0, None, 0
    for e in range(2):
        order = epoch_order(5, e, n)
        ref.epoch(D, y, order, eta, batch, t0, v)
        out = engine.run_epoch(X, y, w, b, order, rule, batch, t0=t0, avg=avg, weight=v)
        w, b, avg, t0 = out.w, out.b, out.avg, t0 + -(-n // batch)
        np.testing.assert_allclose(w, ref.w, rtol=1e-10, atol=1e-12)
        assert b == pytest.approx(ref.b, rel=1e-10)
    if average_from:
        np.testing.assert_allclose(avg[0], ref.wa, rtol=1e-10, atol=1e-12)
        assert avg[1] == pytest.approx(ref.ba, rel=1e-10)
    else:
        assert avg is None


@pytest.mark.parametrize("batch", [1, 2])
def test_repeated_column_indices_add_up_before_the_square(batch):
    # row 0 holds column 1 twice (1.0 + 2.0 = 3.0 in X.toarray()): its gradient is r·3, squared once
    X = sp.csr_matrix((np.array([1.0, 2.0, 4.0, -1.0]), np.array([1, 1, 0, 1]), np.array([0, 2, 4])),
                      shape=(2, 3))
    assert not X.has_canonical_format
    y = np.array([1.0, -2.0])
    ref = Reference(np.array([0.5, -1.0, 2.0]), 0.25)
    ref.epoch(X.toarray(), y, np.array([0, 1]), 0.1, batch)
    out = SparseEngine().run_epoch(X, y, np.array([0.5, -1.0, 2.0]), 0.25, np.array([0, 1]),
                                   StepRule(0.1, "adagrad"), batch)
    np.testing.assert_allclose(out.w, ref.w, rtol=1e-14)
    assert out.w[2] == 2.0  # never in a row: never moved
    assert out.b == pytest.approx(ref.b, rel=1e-14)


def test_the_first_step_moves_each_coordinate_by_eta():
    # G_j = g_j² after one step: w_j moves by exactly η·sign(g_j), whatever the gradient's size
    X = sp.csr_matrix(np.array([[3.0, 0.0, -0.5]]))
    out = SparseEngine().run_epoch(X, np.array([10.0]), np.zeros(3), 0.0, np.array([0]),
                                   StepRule(0.25, "adagrad"), 1)
    np.testing.assert_array_equal(out.w, [0.25, 0.0, -0.25])
    assert out.b == 0.25


def test_an_epoch_in_two_calls_equals_one_call():
    X, y = _data(seed=2)
    n, d = X.shape
    order, rule = epoch_order(1, 0, n), StepRule(0.3, "adagrad")
    whole = SparseEngine().run_epoch(X, y, np.zeros(d), 0.0, order, rule, 3)
    engine = SparseEngine()
    first = engine.run_epoch(X, y, np.zeros(d), 0.0, order[:150], rule, 3)
    second = engine.run_epoch(X, y, first.w, first.b, order[150:], rule, 3, t0=50)
    np.testing.assert_allclose(second.w, whole.w, rtol=1e-12, atol=1e-14)
    assert second.b == pytest.approx(whole.b, rel=1e-12)


def test_float32_data_agrees_to_float32_rounding():
    X, y = _data(seed=4)
    order, rule = epoch_order(0, 0, X.shape[0]), StepRule(0.2, "adagrad")
    w64 = SparseEngine().run_epoch(X, y, np.zeros(X.shape[1]), 0.0, order, rule, 2).w
    w32 = SparseEngine().run_epoch(X.astype(np.float32), y.astype(np.float32),
                                   np.zeros(X.shape[1], np.float32), 0.0, order, rule, 2).w
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64, rtol=2e-4, atol=2e-5)


def test_a_non_finite_step_is_named_and_the_weights_before_it_returned():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    y = np.array([1.0, np.inf, 0.0])
    w0 = np.array([0.5, -0.5])
    out = SparseEngine().run_epoch(X, y, w0, 0.0, np.array([0, 1, 2]), StepRule(0.1, "adagrad"), 1)
    assert out.diverged_at == 2
    assert out.w[1] == -0.5 and np.isfinite(out.b)


def test_lr_auto_is_a_third_of_a_typical_coefficient():
    X, y = _data(n=400, d=30, seed=5)
    m, x_rms = X.nnz / X.shape[0], np.sqrt(np.mean(X.data ** 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = linsgd.fit(X, y, schedule="adagrad", penalty=None, lr="auto", epochs=1, solver="sgd",
                       dtype="float64")
    assert r.lr == pytest.approx(np.std(y) / (3 * np.sqrt(m) * x_rms), rel=1e-9)


def test_adagrad_reaches_the_least_squares_fit():
    X, y = _data(n=2000, d=20, density=0.3, seed=6)
    A = np.column_stack([X.toarray(), np.ones(X.shape[0])])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = linsgd.fit(X, y, schedule="adagrad", penalty=None, lr="auto", epochs=40, solver="sgd", dtype="float64",
                       batch_size=1, average=True)
    floor = np.mean((A @ coef - y) ** 2)
    assert np.mean((X @ r.w + r.b - y) ** 2) < floor * 1.01
    np.testing.assert_allclose(r.w, coef[:-1], atol=0.02)


def test_adagrad_on_dense_data_is_refused_naming_the_schedule():
    X, y = _data(n=50, d=4, density=0.5)
    with pytest.raises(ConfigError, match="^schedule='adagrad' is not allowed: .*sparse X") as e:
        linsgd.fit(X.toarray(), y, schedule="adagrad", lr=0.1, solver="sgd", penalty=None)
    assert e.value.param == "schedule"


def test_adagrad_with_a_penalty_is_refused_naming_the_penalty():
    X, y = _data(n=50, d=4, density=0.5)
    with pytest.raises(ConfigError, match="^penalty='l2' is not allowed: None with schedule='adagrad'"):
        linsgd.fit(X, y, schedule="adagrad", lr=0.1, solver="sgd", penalty="l2", alpha=1e-4)


def test_train_on_a_table_with_adagrad_is_refused_before_reading_it(cli, tmp_path):
    (tmp_path / "t.csv").write_text("x,y\n1,2\n2,3\n3,5\n")
    code, out, err = cli("train", tmp_path / "t.csv", "--target", "y", "--out", tmp_path / "run", "--schedule",
                         "adagrad", "--lr", "0.1")
    assert code == 2 and "--schedule=adagrad is not allowed" in err and err.strip().count("\n") == 0
    assert "columns" not in out and not (tmp_path / "run").exists()


@pytest.mark.parametrize("n", [1, 5, 12])
def test_the_sum_of_squares_in_chunks_equals_the_float64_sum(n):
    v = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 1e3
    assert sum_of_squares(v, chunk=4) == pytest.approx(float(np.sum(v.astype(np.float64) ** 2)), rel=1e-14)
