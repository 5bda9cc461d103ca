"""The fast exact pass over one large array in memory: the shifted Gram matrix of [X y] in BLAS-3 blocks.

The QR pass (:mod:`linsgd.lstsq.qr`) folds Householder reflections into R row block by row block: LAPACK's
``dgeqrf`` on a block of 21 columns is narrower than its own panel, so it runs as BLAS-2 and costs most of a
large exact solve (1,000,000 × 20: ~5× scikit-learn's Ridge). The same R follows from the centred Gram
matrix G = Σ (a_i − μ)(a_i − μ)ᵀ of the rows a_i = [x_i y_i]: RᵀR = G, R = chol(G)ᵀ (up to the signs of its
rows, which nothing downstream sees). G is accumulated here in one pass, block by block, as BᵀB (BLAS-3
``dsyrk``, float64 whatever the input dtype, the block held column by column) of the block's rows shifted by
s, the mean of the first block, on both cores (one BLAS thread each), then centred exactly::

    Σ (a_i − μ)(a_i − μ)ᵀ = Σ (a_i − s)(a_i − s)ᵀ − n (μ − s)(μ − s)ᵀ,   μ − s = Σ (a_i − s) / n

(s ≈ μ, so the correction is small and nothing cancels). Without an intercept s = 0 and nothing is centred.

The Gram matrix squares the condition number: the solution from it carries an error ≈ κ²ε where QR's is
≈ κε (κ of the centred design with unit columns). So this path is taken only where that costs no digit that
matters — κ ≤ :data:`MAX_CONDITION` (κ²ε ≤ 2.2e-12; the float64 refinement step :func:`refine_centred`
that follows brings the coefficients to at least one-pass QR's digits: ``tests/test_gram.py`` checks them on
the NIST sets within that bound, and equality with QR on large data) — and :func:`gram_factor` returns None
(the caller falls back to QR) on an ill-conditioned or rank-deficient design or on a value that is not finite
(QR then names its row and column); arrays with sample weights take QR.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from linsgd._parallel import in_halves
from linsgd.lstsq.linalg import solve_triangular

# Bytes per block: a float64 block of [X y 1] of ~1 MiB stays in a 1-2 MB L2 cache while it is converted,
# shifted and multiplied (5,957 rows at d = 20).
BLOCK_BYTES = 1 << 20
# Largest condition number of the centred, column-scaled design taken by the Gram path: κ²ε ≤ 2.2e-12 there.
# Measured on the NIST StRD sets (tests/test_gram.py): Longley (κ = 111) loses 1 digit of its standard errors
# to QR's one pass (12.9 against 14.3) and the Wamplers (κ = 1.6e3) 1-2; below 100 none is lost.
MAX_CONDITION = 100.0


def gram_factor(X: np.ndarray, y: np.ndarray, *, fit_intercept: bool = True, rows: int | None = None):
    """One BLAS-3 pass over X (n, d) and y (n,): ``(count, mean, R, lo, hi)`` of the least-squares state, or
    None where the Gram matrix would lose accuracy (module docstring).

    Returns:
        count n; mean (d+1,) of [X y] (zeros' shift without an intercept: still the column means); R (d+1,
        d+1) upper triangular with RᵀR = the centred (or raw) Gram matrix; lo, hi (d,) column minimum and
        maximum of X. None: not finite, not positive definite, or κ > MAX_CONDITION.
    """
    found = centred_gram(X, y, fit_intercept=fit_intercept, rows=rows)
    if found is None:
        return None
    n, mean, G, lo, hi = found
    d = X.shape[1]
    try:
        R = np.linalg.cholesky(G).T
    except np.linalg.LinAlgError:  # singular: a constant or collinear column, or y exactly in the span of X
        return None
    Rxx = R[:d, :d]
    scale = np.sqrt(np.einsum("ij,ij->j", Rxx, Rxx))  # column norms of the design
    if not (scale > 0).all() or np.linalg.cond(Rxx / scale) > MAX_CONDITION:
        return None
    return n, mean, R, lo, hi


def centred_gram(X: np.ndarray, y: np.ndarray, *, fit_intercept: bool = True, rows: int | None = None,
                 bounds: bool = True):
    """``(n, mean, G, lo, hi)``: the count, the column means of [X y], its centred (without an intercept: raw)
    Gram matrix G (d+1, d+1) and X's column minimum and maximum (``bounds``; else None, None), in one pass on
    both cores; None when a value or a sum is not finite. ``rows``: rows per block (None: ~1 MiB of float64)."""
    n, d = X.shape
    rows = rows or max(256, BLOCK_BYTES // (8 * (d + 2)))
    first = np.column_stack([X[:rows], y[:rows]]).astype(np.float64)
    shift = first.mean(axis=0) if fit_intercept else np.zeros(d + 1)
    with _one_blas_thread():  # the two halves are the parallelism (module docstring)
        parts = in_halves(lambda a, b: _gram(X, y, shift, a, b, rows, bounds), n)
    G, lo, hi = parts[0]
    for G_part, lo_part, hi_part in parts[1:]:  # the same split for the same n: the same bits every time
        G = G + G_part
        if bounds:
            lo, hi = np.minimum(lo, lo_part), np.maximum(hi, hi_part)
    if not np.isfinite(G).all():
        return None
    offset = G[d + 1, :d + 1] / n  # μ − s
    G = G[:d + 1, :d + 1]
    if fit_intercept:
        G -= n * np.outer(offset, offset)
    return n, shift + offset, G, lo, hi


def _one_blas_thread():
    """BLAS on one thread in this block: its own threads on top of our two halves oversubscribe the cores, and
    OpenBLAS's threads spin while they wait (1,000,000 × 100 on a busy 2-core machine: 8.3 s, not 0.7 s)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _gram(X, y, shift: np.ndarray, start: int, stop: int, rows: int, bounds: bool):
    """``(G, lo, hi)`` of rows [start, stop): G = BᵀB of the shifted rows B = [X − s, y − s, 1] (its last row:
    Σ (a_i − s) and the count), lo and hi the column minimum and maximum of X (None without ``bounds``).

    The block is held column by column (Bᵀ, each column contiguous), so the shift and the minimum and maximum
    run along contiguous rows of numbers whatever d is (per-row reductions over 2 columns are ~10× slower)."""
    d = X.shape[1]
    G = np.zeros((d + 2, d + 2))
    lo, hi = (np.full(d, np.inf), np.full(d, -np.inf)) if bounds else (None, None)
    buffer = np.empty((d + 2, min(rows, stop - start)))
    buffer[d + 1] = 1.0  # a row of ones: the last row of BᵀB is Σ (a_i − s), no separate sum
    with np.errstate(over="ignore", invalid="ignore"):  # a value that is not finite: G is, and the caller sees it
        for a in range(start, stop, rows):
            m = min(rows, stop - a)
            Bt = buffer if m == buffer.shape[1] else np.ascontiguousarray(buffer[:, :m])
            Bt[:d] = X[a:a + m].T
            Bt[d] = y[a:a + m]
            if bounds:
                np.minimum(lo, Bt[:d].min(axis=1), out=lo)
                np.maximum(hi, Bt[:d].max(axis=1), out=hi)
            Bt[:d + 1] -= shift[:, None]
            G += Bt @ Bt.T  # dsyrk: numpy recognises a matrix times its own transpose
    return G, lo, hi


def refine_centred(solution, X: np.ndarray, y: np.ndarray, *, rows: int | None = None):
    """One step of iterative refinement of a least-squares ``solution`` of X, y in float64 BLAS blocks.

    The residuals are those of the centred rows, r = (y − ȳ) − (X − x̄)w (without an intercept: y − Xw), so
    large column means cancel before they can round; then the corrected semi-normal equations (Björck)
    δw = (RxxᵀRxx)⁻¹ Σ (x_i − x̄) r_i, δb = Σ r_i / n − x̄·δw, and RSS = Σ r² − gᵀδw − (Σr)²/n. This removes the
    κ²ε error of the Gram path to the level of one-pass QR (the long-double step of
    :func:`linsgd.lstsq.qr.refined` is what QR's small arrays get; on large ones it costs more than the solve).
    """
    d = X.shape[1]
    rows = rows or max(256, BLOCK_BYTES // (8 * (d + 2)))
    centre = solution.mean if solution.fit_intercept else np.zeros(d)
    y_centre = solution.y_mean if solution.fit_intercept else 0.0

    def sums(start: int, stop: int):
        g, rsum, rss = np.zeros(d), 0.0, 0.0
        for a in range(start, stop, rows):
            Bx = X[a:min(a + rows, stop)] - centre  # float64 (centre is)
            r = (y[a:min(a + rows, stop)].astype(np.float64) - y_centre) - Bx @ solution.w  # float32 y: widened
            g, rsum, rss = g + Bx.T @ r, rsum + r.sum(), rss + r @ r
        return g, rsum, rss

    with _one_blas_thread():
        parts = in_halves(sums, len(X))
    g, rsum, rss = (sum(p[k] for p in parts) for k in range(3))
    Rxx = solution.Rxx
    dw = solve_triangular(Rxx, solve_triangular(Rxx.T, g))
    n = solution.n
    if solution.fit_intercept:
        db, rss = rsum / n - float(centre @ dw), rss - (g @ dw + rsum * rsum / n)
    else:
        db, rss = 0.0, rss - g @ dw
    return replace(solution, w=solution.w + dw, b=solution.b + db, rss=max(float(rss), 0.0))
