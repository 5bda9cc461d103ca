"""The fused engine against its oracle: the same trajectory, the same divergence step, no torch, no JIT wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from support.problems import wide_problem

import linsgd
from linsgd._parallel import MIN_SPLIT_ROWS
from linsgd._small import SMALL_ROWS
from linsgd.data.batching import epoch_order
from linsgd.data.synthetic import make_regression
from linsgd.engines import get_engine
from linsgd.sgd.loop import init_params

TRUE_W, TRUE_B = [2.0, -3.4], 4.2


def trajectories(X, y, *, lr, batch_size, epochs, seed, dtype):
    """Parameters after every epoch, per engine, from the same init and the same orders."""
    X, y = X.astype(dtype), y.astype(dtype)
    out = {}
    for name in ("reference", "fused"):
        engine = get_engine(name)
        w, b = init_params(seed, X.shape[1], 0.01, dtype)
        path = []
        for epoch in range(epochs):
            res = engine.run_epoch(X, y, w, b, epoch_order(seed, epoch, len(y)), lr, batch_size)
            assert res.diverged_at == 0
            w, b = res.w, res.b
            path.append((w.copy(), b, engine.loss(X, y, w, b)))
        out[name] = path
    return out["reference"], out["fused"]


CASES = {  # name: (data, lr, batch_size)
    "chapter n=1000 (B divides n)": (lambda s: make_regression(1000, TRUE_W, TRUE_B, seed=s), 0.03, 10),
    "chapter n=1003 (short last batch)": (lambda s: make_regression(1003, TRUE_W, TRUE_B, seed=s), 0.03, 10),
    # above SMALL_ROWS: the numba kernels (below it NumPy runs, tested in tests/test_small_path.py)
    "d=100 n=8192 (B divides n)": (lambda s: wide_problem(8192, seed=s), 0.01, 256),
    "d=100 n=8000 (short last batch)": (lambda s: wide_problem(8000, seed=s), 0.01, 256),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-5), ("float64", 1e-12)])
def test_parameters_after_every_epoch_match_the_reference(case, seed, dtype, rtol):
    make, lr, batch_size = CASES[case]
    X, y = make(seed)
    ref, fused = trajectories(X, y, lr=lr, batch_size=batch_size, epochs=3, seed=seed, dtype=dtype)
    for (w_r, b_r, loss_r), (w_f, b_f, loss_f) in zip(ref, fused, strict=True):
        assert w_f.dtype == np.dtype(dtype)
        scale = float(np.abs(w_r).max())
        np.testing.assert_allclose(w_f, w_r, rtol=rtol, atol=rtol * scale)
        assert b_f == pytest.approx(b_r, rel=rtol, abs=rtol * scale)
        # the fused loss sums in float64, the reference in the data's dtype
        assert loss_f == pytest.approx(loss_r, rel=1e-4 if dtype == "float32" else 1e-10)
    assert ref[-1][2] < ref[0][2]  # it trained: the comparison is not between two copies of the init


def test_one_epoch_is_the_closed_form_update_in_float64():
    """Every step of an epoch (n = 23, B = 5, short last batch of 3), written out with numpy."""
    X, y = make_regression(23, TRUE_W, TRUE_B, seed=9, dtype="float64")
    w0, b0 = np.array([0.3, -0.2]), 0.1
    order = epoch_order(9, 0, 23)
    out = get_engine("fused").run_epoch(X, y, w0, b0, order, 0.05, 5)
    w, b = w0.copy(), b0
    for k in range(0, 23, 5):
        batch = order[k:k + 5]
        r = X[batch] @ w + b - y[batch]
        w, b = w - 0.05 / len(batch) * X[batch].T @ r, b - 0.05 / len(batch) * r.sum()
    np.testing.assert_allclose(out.w, w, rtol=1e-13)
    assert out.b == pytest.approx(b, rel=1e-13) and out.diverged_at == 0
    np.testing.assert_array_equal(w0, [0.3, -0.2])  # the caller's array is not modified


def test_loss_is_the_mean_half_squared_residual():
    X, y = make_regression(1001, TRUE_W, TRUE_B, seed=2, dtype="float64")
    w, b = np.array([1.5, -3.0]), 4.0
    expected = 0.5 * np.mean((X @ w + b - y) ** 2)
    assert get_engine("fused").loss(X, y, w, b) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("n", [MIN_SPLIT_ROWS - 1, 2 * MIN_SPLIT_ROWS + 1])  # one core / two halves
@pytest.mark.parametrize("d", [2, 17])  # rows four at a time / one at a time
def test_loss_of_a_large_array_sums_every_row_once(n, d):
    X, y = make_regression(n, np.linspace(-2, 2, d), TRUE_B, seed=3, dtype="float64")
    w, b = np.linspace(-1.5, 1.5, d), 4.0
    expected = 0.5 * np.mean((X @ w + b - y) ** 2)
    assert get_engine("fused").loss(X, y, w, b) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lr", [3.0, 1e38])  # loss overflows first / the update overflows at step 1
def test_divergence_is_found_at_the_same_step_by_both_engines(seed, lr):
    X, y = make_regression(1000, TRUE_W, TRUE_B, seed=seed)
    w, b = init_params(seed, 2, 0.01, "float32")
    outcomes = {}
    for name in ("reference", "fused"):
        engine, w_e, b_e = get_engine(name), w, b
        for epoch in range(3):
            out = engine.run_epoch(X, y, w_e, b_e, epoch_order(seed, epoch, len(y)), lr, 10)
            if out.diverged_at:
                break
            w_e, b_e = out.w, out.b
        outcomes[name] = (epoch, out)
    (e_r, ref), (e_f, fused) = outcomes["reference"], outcomes["fused"]
    assert (e_r, ref.diverged_at) == (e_f, fused.diverged_at) and fused.diverged_at >= 1
    assert np.isfinite(fused.w).all() and np.isfinite(fused.b)  # the last finite parameters ...
    np.testing.assert_allclose(fused.w, ref.w, rtol=1e-3)  # ... are the reference's (up to the growth)
    with pytest.raises(linsgd.DivergenceError) as info:
        linsgd.fit(X, y, lr=lr, seed=seed, engine="fused")
    assert (info.value.epoch, info.value.step) == (e_f + 1, fused.diverged_at)


def test_fit_defaults_to_the_fused_engine():
    X, y = make_regression(100, TRUE_W, TRUE_B, seed=0)
    assert linsgd.fit(X, y, epochs=1, seed=0).config.engine == "fused"
    assert linsgd.TrainConfig().engine == "fused"


def _python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_demo_with_the_fused_engine_imports_neither_torch_nor_numba(tmp_path):
    """The chapter's 1,000 rows are below SMALL_ROWS: NumPy trains them (numba's start-up would not pay)."""
    code = ("import sys; from linsgd.cli import main; "
            f"rc = main(['demo', '--seed', '3', '--engine', 'fused', '--out', {str(tmp_path)!r}]); "
            "print('RESULT', rc, 'torch' in sys.modules, 'numba' in sys.modules)")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "RESULT 0 False False"


def test_help_imports_no_heavy_module():
    code = ("import sys, contextlib, io\nfrom linsgd.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['--help'])\n    except SystemExit: pass\n"
            "print(sorted(m for m in ('torch', 'numba', 'matplotlib') if m in sys.modules))")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_second_process_loads_every_kernel_from_the_cache(tmp_path):
    """The first run compiles into NUMBA_CACHE_DIR; a second run must only hit that cache.

    The data has 4 × SMALL_ROWS rows: smaller data trains without numba (tests/test_small_path.py).
    """
    code = (
        "import json, linsgd\n"
        "from linsgd._small import SMALL_ROWS\n"
        "from linsgd.data.synthetic import make_regression\n"
        "from linsgd.engines import _fused_kernels as f\n"
        "from linsgd.engines import _tiny_kernels as t\n"
        "from linsgd.data import _shuffle_kernels as s, _feistel_kernels as p\n"
        "from linsgd.data.batching import SHUFFLE_ROWS, epoch_order\n"
        "for dtype in ('float32', 'float64'):\n"
        "    for w in ([2, -3.4], [0.5] * 5, [0.5] * 20):  # the tiny (d = 2), narrow and row-by-row kernels\n"
        "        X, y = make_regression(4 * SMALL_ROWS, w, 4.2, seed=0, dtype=dtype)\n"
        "        linsgd.fit(X, y, seed=0, epochs=2, dtype=dtype)\n"
        "epoch_order(0, 0, SHUFFLE_ROWS + 1)  # the Feistel order of larger data\n"
        "ks = [f.sgd_epoch, f.sgd_epoch_narrow, t.sgd_epoch_tiny, f.sum_squared_residual, f.pack_rows,\n"
        "      t.pack_moments, s.shuffle_buckets, p.feistel_fill]\n"
        "print(json.dumps([[sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]"
        " for k in ks]))\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    first, second = _python(code, env), _python(code, env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    first_stats, second_stats = json.loads(first.stdout), json.loads(second.stdout)
    assert all(misses >= 1 for _, misses in first_stats)  # compiled (and stored) the first time
    assert all(hits >= 1 and misses == 0 for hits, misses in second_stats), second_stats


@pytest.mark.parametrize("d", [1, 2, 16])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_packed_rows_give_the_same_epoch_bit_for_bit(d, dtype):
    """The second epoch over the same arrays runs on packed rows; a fresh engine reads them in place."""
    X, y = make_regression(5003, np.linspace(-1, 1, d), 0.5, seed=4, dtype=dtype)
    w, b = init_params(4, d, 0.01, dtype)
    order = epoch_order(4, 0, len(y))
    engine = get_engine("fused")
    first = engine.run_epoch(X, y, w, b, order, 0.05, 10)
    packed = engine.run_epoch(X, y, first.w, first.b, order, 0.05, 10)
    assert engine._packed is not None  # the second call did run on packed rows
    in_place = get_engine("fused").run_epoch(X, y, first.w, first.b, order, 0.05, 10)
    np.testing.assert_array_equal(packed.w, in_place.w)
    assert packed.b == in_place.b


def test_prepare_packs_for_those_arrays_only():
    """prepare() packs at once; other arrays afterwards are read as they are, never the stale packed rows."""
    X1, y1 = make_regression(SMALL_ROWS + 901, TRUE_W, TRUE_B, seed=5)  # above the NumPy path's limit
    X2, y2 = make_regression(SMALL_ROWS + 901, [-1.0, 0.5], 2.0, seed=6)
    w, b = init_params(5, 2, 0.01, "float32")
    order = epoch_order(5, 0, SMALL_ROWS + 901)
    engine = get_engine("fused")
    engine.prepare(X1, y1)
    assert engine._packed is not None
    for X, y in ((X1, y1), (X2, y2), (X1, y1)):
        got = engine.run_epoch(X, y, w, b, order, 0.05, 10)
        fresh = get_engine("fused").run_epoch(X.copy(), y.copy(), w, b, order, 0.05, 10)
        np.testing.assert_array_equal(got.w, fresh.w)
        assert got.b == fresh.b
