"""Small data (len(X) <= SMALL_ROWS) trains without numba: the same order, trajectory and divergence step."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from support.problems import wide_problem

from linsgd._small import SMALL_ROWS, SMALL_STEPS
from linsgd.data import _shuffle_kernels
from linsgd.data._shuffle_python import fisher_yates
from linsgd.data.batching import SHUFFLE_ROWS, epoch_order
from linsgd.data.synthetic import make_regression
from linsgd.engines import _numpy_kernels, _tiny_kernels, fused, get_engine
from linsgd.engines.rule import StepRule
from linsgd.sgd.loop import init_params

TRUE_W, TRUE_B = [2.0, -3.4], 4.2
_GOLDEN, _M1, _M2, _MASK = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, (1 << 64) - 1


def _keys(seed: int, epoch: int) -> np.ndarray:
    return np.random.SeedSequence([seed, 2, epoch]).generate_state(2, np.uint64)  # as epoch_order


def _numba_order(keys: np.ndarray, n: int) -> np.ndarray:
    """The numba kernel's Fisher–Yates (orders of n <= SHUFFLE_ROWS rows) with the epoch's swap key."""
    order = np.arange(n, dtype=np.int32)
    _shuffle_kernels.shuffle_buckets(keys[1], np.array([0, n], dtype=np.int64), order, 0, 1)
    return order


def test_the_small_limit_is_a_fisher_yates_order():
    assert 1 <= SMALL_ROWS <= SHUFFLE_ROWS


@pytest.mark.parametrize("n", [1, 2, 3, 10, 999, 1000, 1003, 2048, SMALL_ROWS - 1, SMALL_ROWS])
def test_small_orders_are_the_numba_kernels_orders(n):
    for seed in range(4):
        for epoch in range(3):
            expected = _numba_order(_keys(seed, epoch), n)  # the numba kernels
            got = epoch_order(seed, epoch, n)
            assert got.dtype == expected.dtype == np.int32
            np.testing.assert_array_equal(got, expected)
    out = np.full(n, -1, dtype=np.int32)
    assert epoch_order(5, 1, n, out=out) is out
    np.testing.assert_array_equal(out, _numba_order(_keys(5, 1), n))


def test_above_the_limit_the_order_is_unchanged():
    n = SMALL_ROWS + 1
    np.testing.assert_array_equal(epoch_order(3, 0, n), _numba_order(_keys(3, 0), n))


def test_a_rejected_draw_is_skipped_as_in_the_kernel():
    """Lemire's rejection (probability < s/2³²) is too rare to meet by chance: search a key that hits it."""
    n = 4056  # 2³² mod 4056 = 4000: the largest rejection zone for n <= 4096
    assert n <= SMALL_ROWS and (1 << 32) % n == 4000
    key = _first_draw_rejected(n)
    expected = np.arange(n, dtype=np.int64)
    _shuffle_kernels.shuffle_buckets(np.uint64(key), np.array([0, n], dtype=np.int64), expected, 0, 1)
    np.testing.assert_array_equal(fisher_yates(np.uint64(key), n), expected)


def _first_draw_rejected(s: int) -> int:
    """A uint64 key whose stream's first draw below s is rejected (its low word < 2³² mod s)."""
    keys = np.arange(1 << 23, dtype=np.uint64) * np.uint64(0x2545F4914F6CDD1D)  # spread over 64 bits
    z = keys + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    z = (z ^ (z >> np.uint64(31))) >> np.uint64(32)
    low = (z * np.uint64(s)) & np.uint64(0xFFFFFFFF)
    hits = np.flatnonzero(low < np.uint64((1 << 32) % s))
    assert len(hits), "no rejecting key in the search range"
    return int(keys[hits[0]])


class _Numba:
    """The fused engine forced onto its numba kernels whatever the size (SMALL_ROWS patched to 0)."""

    def __init__(self, monkeypatch):
        self.engine, self.monkeypatch = get_engine("fused"), monkeypatch

    def run_epoch(self, *args):
        with self.monkeypatch.context() as m:
            m.setattr(fused, "SMALL_ROWS", 0)
            return self.engine.run_epoch(*args)

    def loss(self, *args):
        with self.monkeypatch.context() as m:
            m.setattr(fused, "SMALL_ROWS", 0)
            return self.engine.loss(*args)


def _trajectory(engine, X, y, *, lr, batch_size, epochs, seed):
    w, b = init_params(seed, X.shape[1], 0.01, X.dtype.name)
    path = []
    for epoch in range(epochs):
        out = engine.run_epoch(X, y, w, b, epoch_order(seed, epoch, len(y)), lr, batch_size)
        assert out.diverged_at == 0
        w, b = out.w, out.b
        path.append((w.copy(), b, engine.loss(X, y, w, b)))
    return path


CASES = {  # name: (data, lr, batch_size)
    "chapter n=1000 (B divides n)": (lambda s: make_regression(1000, TRUE_W, TRUE_B, seed=s), 0.03, 10),
    "chapter n=1003 (short last batch)": (lambda s: make_regression(1003, TRUE_W, TRUE_B, seed=s), 0.03, 10),
    "d=20 n=2048 (B divides n)": (lambda s: wide_problem(2048, d=20, seed=s), 0.02, 32),
    "d=20 n=2001 (short last batch)": (lambda s: wide_problem(2001, d=20, seed=s), 0.02, 32),
    f"d=20 n={SMALL_ROWS} (the limit)": (lambda s: wide_problem(SMALL_ROWS, d=20, seed=s), 0.02, 7),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-5), ("float64", 1e-12)])
def test_small_path_matches_numba_and_reference_after_every_epoch(monkeypatch, case, seed, dtype, rtol):
    make, lr, batch_size = CASES[case]
    X, y = (a.astype(dtype) for a in make(seed))
    assert len(X) <= SMALL_ROWS
    kw = dict(lr=lr, batch_size=batch_size, epochs=3, seed=seed)
    small = _trajectory(get_engine("fused"), X, y, **kw)
    for other in (_Numba(monkeypatch), get_engine("reference")):
        for (w_s, b_s, loss_s), (w_o, b_o, loss_o) in zip(small, _trajectory(other, X, y, **kw), strict=True):
            assert w_s.dtype == np.dtype(dtype) and isinstance(b_s, float)
            scale = float(np.abs(w_o).max())
            np.testing.assert_allclose(w_s, w_o, rtol=rtol, atol=rtol * scale)
            assert b_s == pytest.approx(b_o, rel=rtol, abs=rtol * scale)
            assert loss_s == pytest.approx(loss_o, rel=1e-4 if dtype == "float32" else 1e-10)
    start = get_engine("fused").loss(X, y, *init_params(seed, X.shape[1], 0.01, dtype))
    assert small[-1][2] < 0.01 * start  # it trained: not a comparison of two copies of the init


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_loss_equals_the_numba_kernels(monkeypatch, dtype):
    X, y = (a.astype(dtype) for a in wide_problem(1001, d=20, seed=3))
    w, b = np.linspace(-1, 1, 20).astype(dtype), 0.3
    expected = _Numba(monkeypatch).loss(X, y, w, b)
    assert get_engine("fused").loss(X, y, w, b) == pytest.approx(expected, rel=1e-13)
    r = X.astype(np.float64) @ w.astype(np.float64) + np.float64(X.dtype.type(b)) - y
    assert _numpy_kernels.loss(X, y, w, b) == pytest.approx(0.5 * np.mean(r**2), rel=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_step_is_the_closed_form_update(dtype):
    """X = [[1, 2], [3, 4]], y = [1, 2], w = [0.5, −1], b = 0.25, lr = 0.1, B = 2: r = [−2.25, −4.25],
    Xᵀr = [−15, −21.5], so w ← w − 0.05·Xᵀr = [1.25, 0.075] and b ← 0.25 − 0.05·(−6.5) = 0.575."""
    X, y = np.array([[1, 2], [3, 4]], dtype=dtype), np.array([1, 2], dtype=dtype)
    w0 = np.array([0.5, -1.0], dtype=dtype)
    out = get_engine("fused").run_epoch(X, y, w0, 0.25, np.array([0, 1]), 0.1, 2)
    assert out.w.dtype == np.dtype(dtype) and out.diverged_at == 0
    rtol = 1e-6 if dtype == "float32" else 1e-15
    np.testing.assert_allclose(out.w, [1.25, 0.075], rtol=rtol)
    assert out.b == pytest.approx(0.575, rel=rtol)
    np.testing.assert_array_equal(w0, [0.5, -1.0])  # the caller's array is not modified


def test_a_short_last_batch_is_normalised_by_its_real_size():
    """n = 3, B = 2: the second step (one row) divides by 1, not by 2."""
    X, y = np.array([[1.0], [2.0], [4.0]]), np.array([0.0, 0.0, 1.0])
    out = get_engine("fused").run_epoch(X, y, np.array([1.0]), 0.0, np.array([0, 1, 2]), 0.1, 2)
    w, b = 1.0, 0.0
    r = np.array([1.0, 2.0]) * w + b - 0.0  # step 1: rows 0, 1
    w, b = w - 0.05 * (r @ [1.0, 2.0]), b - 0.05 * r.sum()
    r3 = 4.0 * w + b - 1.0  # step 2: row 2 alone
    w, b = w - 0.1 * r3 * 4.0, b - 0.1 * r3
    assert out.w[0] == pytest.approx(w, rel=1e-15) and out.b == pytest.approx(b, rel=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lr", [3.0, 1e38])  # the loss overflows first / the update overflows at step 1
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_divergence_step_equals_the_numba_kernels(monkeypatch, seed, lr, dtype):
    X, y = make_regression(1000, TRUE_W, TRUE_B, seed=seed, dtype=dtype)
    if dtype == "float64" and lr == 1e38:
        lr = 1e300
    outcomes = []
    for engine in (get_engine("fused"), _Numba(monkeypatch)):
        w, b = init_params(seed, 2, 0.01, dtype)
        for epoch in range(50):
            out = engine.run_epoch(X, y, w, b, epoch_order(seed, epoch, len(y)), lr, 10)
            if out.diverged_at:
                break
            w, b = out.w, out.b
        outcomes.append((epoch, out))
    (e_s, small), (e_n, numba) = outcomes
    assert small.diverged_at >= 1 and (e_s, small.diverged_at) == (e_n, numba.diverged_at)
    assert np.isfinite(small.w).all() and np.isfinite(small.b) and small.w.dtype == np.dtype(dtype)
    np.testing.assert_allclose(small.w, numba.w, rtol=1e-3)  # the last finite parameters, up to the growth


def test_the_dispatch_is_by_the_row_count_of_X():
    """Up to SMALL_ROWS rows the NumPy kernels run, bit for bit; one row more, the numba kernel (a run of
    few steps: a plain lr is a one-step run, see test_the_dispatch_counts_the_steps_of_the_run)."""
    engine = get_engine("fused")
    for n, expect_small in ((SMALL_ROWS, True), (SMALL_ROWS + 1, False)):
        X, y = make_regression(n, TRUE_W, TRUE_B, seed=0)
        w, b, order = np.array([0.1, 0.2], dtype=np.float32), 0.0, epoch_order(0, 0, n)[:50]  # a segment
        out = engine.run_epoch(X, y, w, b, order, 0.03, 10)
        small = _numpy_kernels.run_epoch(X, y, w, b, order, 0.03, 10)
        w_k = w.copy()
        b_k = _narrow_kernel(X, y, w_k, b, order, 0.03, 10)
        ref_w, ref_b = (small.w, small.b) if expect_small else (w_k, float(b_k))
        np.testing.assert_array_equal(out.w, ref_w)
        assert out.b == ref_b


def _narrow_kernel(X, y, w, b, order, lr, batch, total_steps=1):
    """The numba kernel of two features (``sgd_epoch_tiny``) called directly with the chapter's constant step;
    returns the new bias."""
    f = np.float32
    return float(_tiny_kernels.sgd_epoch_tiny(
        X, y, w, f(b), order, batch, (lr, 0.0, 0.25, float(total_steps)), (f(lr / batch), f(lr / batch)),
        np.zeros((2, 0)), 0, 0, np.zeros(len(w)), 0.0, np.empty(0, f), np.zeros(3, f), f(0.5), 8)[0])


def test_the_dispatch_counts_the_steps_of_the_run():
    """Few rows but a long run (more than SMALL_STEPS steps in all): the numba kernel, bit for bit."""
    X, y = make_regression(1000, TRUE_W, TRUE_B, seed=0)
    w, order = np.array([0.1, 0.2], dtype=np.float32), epoch_order(0, 0, 1000)[:50]
    for steps, expect_small in ((SMALL_STEPS, True), (SMALL_STEPS + 1, False)):
        out = get_engine("fused").run_epoch(X, y, w, 0.0, order, StepRule(0.03, total_steps=steps), 10)
        w_k = w.copy()
        b_k = _narrow_kernel(X, y, w_k, 0.0, order, 0.03, 10, steps)
        small = _numpy_kernels.run_epoch(X, y, w, 0.0, order, 0.03, 10)
        ref_w, ref_b = (small.w, small.b) if expect_small else (w_k, b_k)
        np.testing.assert_array_equal(out.w, ref_w)
        assert out.b == ref_b


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))


@pytest.mark.parametrize("n,numba_expected", [(1000, False), (SMALL_ROWS, False), (SMALL_ROWS + 1, True)])
def test_small_fits_never_import_numba(n, numba_expected):
    code = ("import sys, linsgd\nfrom linsgd.data.synthetic import make_regression\n"
            f"X, y = make_regression({n}, [2, -3.4], 4.2, seed=0)\n"
            "r = linsgd.fit(X, y, seed=0, epochs=2)\nlinsgd.epoch_order(0, 5, len(y))\n"
            "print('NUMBA', 'numba' in sys.modules, 'torch' in sys.modules, len(r.history))")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["NUMBA", str(numba_expected), "False", "2"]
