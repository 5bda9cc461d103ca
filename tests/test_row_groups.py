"""The wide kernel's row groups against the reference engine at every group boundary: batches that are a
multiple of the group, one row more or less, a tail that is not a multiple of four, a short last batch, with
weights, penalties, a schedule and the running average."""

from __future__ import annotations

import numpy as np
import pytest
from support.problems import wide_problem

from linsgd._small import SMALL_ROWS
from linsgd.data.batching import epoch_order
from linsgd.engines import _fused_kernels, get_engine
from linsgd.engines import fused as fused_module
from linsgd.engines._row_groups import GROUP
from linsgd.engines.rule import StepRule

D = 40  # wide: the row-group kernel (above the narrow kernel's width)
N = SMALL_ROWS + 2 * GROUP + 7  # the numba kernel, not the small NumPy path; the last batch is short


def _epochs(engine, X, y, v, rule, batch, epochs=2):
    w, b, avg, path = np.zeros(X.shape[1], dtype=X.dtype), 0.0, None, []
    for epoch in range(epochs):
        steps = -(-len(y) // batch)
        out = engine.run_epoch(X, y, w, b, epoch_order(3, epoch, len(y)), rule, batch, t0=epoch * steps,
                               avg=avg, weight=v)
        assert out.diverged_at == 0
        w, b, avg = out.w, out.b, out.avg
        path.append((w.copy(), b, None if avg is None else avg[0].copy()))
    return path


@pytest.mark.parametrize("far", [False, True], ids=["groups", "far"])  # far: sgd_epoch_far, rows from memory
@pytest.mark.parametrize("batch", [GROUP, GROUP + 1, GROUP - 1, 2 * GROUP + 5, 3 * GROUP + 3, 7, N])
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-5), ("float64", 1e-11)])
def test_grouped_wide_epochs_follow_the_reference(batch, dtype, rtol, far, monkeypatch):
    assert N % batch or batch == N  # a short last batch (or one batch of every row)
    if far:
        monkeypatch.setattr(fused_module, "FAR_BYTES", 0)
    X, y = wide_problem(N, d=D, seed=batch)
    X, y = X.astype(dtype), y.astype(dtype)
    v = np.random.default_rng(batch).uniform(0.2, 2.0, N).astype(dtype)
    v *= N / v.sum()
    steps = 2 * -(-N // batch)
    rule = StepRule(0.02, "invscaling", power_t=0.3, total_steps=steps, l1=np.full(D, 1e-3),
                    l2=np.full(D, 1e-2), average_from=2)
    ref = _epochs(get_engine("reference"), X, y, v, rule, batch)
    fused = _epochs(get_engine("fused"), X, y, v, rule, batch)
    for (w_r, b_r, a_r), (w_f, b_f, a_f) in zip(ref, fused, strict=True):
        scale = float(np.abs(w_r).max())
        np.testing.assert_allclose(w_f, w_r, rtol=rtol, atol=rtol * scale)
        assert b_f == pytest.approx(b_r, rel=rtol, abs=rtol * scale)
        np.testing.assert_allclose(a_f, a_r, rtol=rtol, atol=rtol * scale)
    assert np.abs(ref[-1][0]).max() > 0.01  # it moved: not a comparison of two initial points


def test_every_row_of_a_batch_counts_once():
    """One step, written out with numpy: each row's gradient enters once, whichever group it falls in."""
    X, y = wide_problem(N, d=D, seed=0)
    order = epoch_order(0, 0, N)
    batch = N  # one step over every row: full groups, groups of four and a short group
    out = get_engine("fused").run_epoch(X, y, np.zeros(D), 0.0, order, 0.1, batch)
    r = -y
    np.testing.assert_allclose(out.w, -0.1 / N * X.T @ r, rtol=1e-12, atol=1e-15)
    assert out.b == pytest.approx(-0.1 / N * r.sum(), rel=1e-12)


@pytest.mark.parametrize("rows, far", [(N, False), (None, True)])
def test_wide_rows_from_memory_run_in_the_far_kernel(rows, far, monkeypatch):
    """Only X larger than FAR_BYTES runs in sgd_epoch_far; the rest in sgd_epoch."""
    X, y = wide_problem(N, d=D, seed=1)
    monkeypatch.setattr(fused_module, "FAR_BYTES", X.nbytes - 1 if rows is None else X.nbytes)
    calls = []
    for name in ("sgd_epoch", "sgd_epoch_far"):
        kernel = getattr(_fused_kernels, name)
        monkeypatch.setattr(_fused_kernels, name, lambda *a, _k=kernel, _n=name: calls.append(_n) or _k(*a))
    get_engine("fused").run_epoch(X, y, np.zeros(D), 0.0, epoch_order(0, 0, N), 0.1, 32)
    assert calls == ["sgd_epoch_far" if far else "sgd_epoch"]
