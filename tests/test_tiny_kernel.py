"""The one-or-two-feature kernel (``engines/_tiny_kernels.py``) against the generic narrow kernel it replaces.

The generic kernel is the oracle (pinned to the torch reference by the parity tests): the same epoch, every
rule option, plain and packed rows, a short last batch and a divergence, must give the same parameters to
float rounding (both sum in the same order).
"""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.engines import _fused_kernels
from linsgd.engines._tiny_kernels import sgd_epoch_tiny
from linsgd.engines.fused import TINY_MAX_FEATURES, FusedEngine, kernel_args
from linsgd.engines.rule import StepRule

ULPS = 8  # measured: at most 1 over the cases below (fastmath may contract or reorder one operation)

RULES = {
    "constant": StepRule(0.03, total_steps=400),
    "invscaling": StepRule(0.05, schedule="invscaling", total_steps=400),
    "cosine": StepRule(0.05, schedule="cosine", total_steps=400),
    "l1 and l2": StepRule(0.03, total_steps=400, l1=0.02, l2=0.05),
    "per-coefficient penalty": StepRule(0.03, total_steps=400, l1=(0.01, 0.03), l2=(0.1, 0.0)),
    "averaged": StepRule(0.03, total_steps=400, average_from=37),
}


def _data(n, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (X @ np.array([2.0, -3.4][:d]) + 4.2 + rng.normal(0, 0.1, n)).astype(dtype)
    return X, y


def _run(kernel, arrays, w, b, order, rule, B, t0=0, avg=None, weight=None):
    X = arrays[0]
    w, wa, order, args = kernel_args(X, w, b, order, rule, B, len(order), t0, avg, weight)
    out = kernel(arrays[2], arrays[3], w, X.dtype.type(b), order, B, *args)
    return w, wa, out


def _same(a, b, ulps=ULPS):
    """Two kernels' outcomes: the same diverged step, else parameters within ``ulps`` units in the last place
    (both sum in the same order; fastmath lets LLVM contract or reorder an operation differently in each)."""
    (wa_, aa, (b1, step1, wb1, bb1, ba1)), (wb_, ab, (b2, step2, wb2, bb2, ba2)) = a, b
    assert step1 == step2
    if step1:  # diverged: the parameters before the step
        np.testing.assert_array_max_ulp(wb1, wb2, maxulp=ulps)
        np.testing.assert_array_max_ulp(wb1.dtype.type(bb1), wb1.dtype.type(bb2), maxulp=ulps)
        return
    np.testing.assert_array_max_ulp(wa_, wb_, maxulp=ulps)
    np.testing.assert_array_max_ulp(wa_.dtype.type(b1), wa_.dtype.type(b2), maxulp=ulps)
    np.testing.assert_array_max_ulp(aa, ab, maxulp=ulps)
    np.testing.assert_array_max_ulp(np.float64(ba1), np.float64(ba2), maxulp=ulps)


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(RULES))
def test_the_same_epoch_as_the_narrow_kernel(d, dtype, name):
    """Plain rows (few rows are not packed); packed ones below."""
    n, B = 1003, 7  # a short last batch of 2
    X, y = _data(n, d, dtype)
    arrays = FusedEngine().layout(X, y)
    order = np.random.default_rng(1).permutation(n).astype(np.int32)
    w0, rule = np.array([0.1, -0.2][:d], dtype=dtype), RULES[name]
    if isinstance(rule.l1, tuple):  # one weight per coefficient
        rule = StepRule(rule.lr, total_steps=rule.total_steps, l1=rule.l1[:d], l2=rule.l2[:d])
    avg = (np.array([0.5, 0.25][:d]), 0.125) if rule.average_from else None
    for weight in (None, np.random.default_rng(2).uniform(0, 2, n).astype(dtype)):
        tiny = _run(sgd_epoch_tiny, arrays, w0, 0.3, order, rule, B, t0=11, avg=avg, weight=weight)
        narrow = _run(_fused_kernels.sgd_epoch_narrow, arrays, w0, 0.3, order, rule, B, t0=11, avg=avg,
                      weight=weight)
        _same(tiny, narrow)


def test_packed_rows_across_cache_lines_the_same():
    """More than 65,536 rows: the engine packs them (12-byte rows, some crossing a cache line)."""
    X, y = _data(70_001, 2, np.float32)
    engine = FusedEngine()
    engine.prepare(X, y)
    arrays = engine.layout(X, y)
    assert arrays[2] is not X and arrays[2].shape == (70_001, 3)
    order = np.random.default_rng(3).permutation(70_001).astype(np.int32)
    rule = StepRule(0.03, total_steps=7001)
    _same(_run(sgd_epoch_tiny, arrays, np.zeros(2, np.float32), 0.0, order, rule, 10),
          _run(_fused_kernels.sgd_epoch_narrow, arrays, np.zeros(2, np.float32), 0.0, order, rule, 10))


@pytest.mark.parametrize("average_from", [0, 20])
@pytest.mark.parametrize("d", [1, 2])
def test_a_divergence_at_the_same_step_with_the_parameters_before_it(d, average_from):
    """The parameters before the diverging step, and the running average up to the step before it."""
    X, y = _data(500, d, np.float32)
    X[301, 0] = np.float32(3e38)  # its residual overflows: step 301 // 5 + 1 = 61
    arrays = FusedEngine().layout(X, y)
    order = np.arange(500, dtype=np.int32)
    rule = StepRule(0.03, total_steps=100, average_from=average_from)
    tiny = _run(sgd_epoch_tiny, arrays, np.full(d, 0.5, np.float32), 0.0, order, rule, 5)
    narrow = _run(_fused_kernels.sgd_epoch_narrow, arrays, np.full(d, 0.5, np.float32), 0.0, order, rule, 5)
    assert tiny[2][1] == narrow[2][1] == 61
    _same(tiny, narrow)
    np.testing.assert_array_max_ulp(tiny[1], narrow[1], maxulp=ULPS)  # w̄ (steps 20–60 averaged)
    assert average_from == 0 or not np.array_equal(tiny[1], np.full(d, 0.5))


def test_the_engine_takes_it_up_to_two_features_only():
    """d ≤ 2 through the engine equals the tiny kernel; d = 3 the narrow one (bit for bit, numba path)."""
    for d in (2, 3):
        rng = np.random.default_rng(4)
        X = rng.normal(size=(70_000, d)).astype(np.float32)
        y = (X.sum(axis=1) + 1).astype(np.float32)
        engine = FusedEngine()
        engine.prepare(X, y)
        order = rng.permutation(70_000).astype(np.int32)
        rule = StepRule(0.03, total_steps=7000)
        out = engine.run_epoch(X, y, np.zeros(d, np.float32), 0.0, order, rule, 10)
        kernel = sgd_epoch_tiny if d <= TINY_MAX_FEATURES else _fused_kernels.sgd_epoch_narrow
        w, _, res = _run(kernel, engine.layout(X, y), np.zeros(d, np.float32), 0.0, order, rule, 10)
        np.testing.assert_array_equal(out.w, w)
        assert out.b == float(res[0])
