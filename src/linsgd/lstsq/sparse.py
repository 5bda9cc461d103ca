"""The exact least-squares state of a sparse matrix, from its normal equations.

A sparse X is never densified: the weighted Gram matrix of A = [X y] comes from sparse products,
``G = Aᵀ diag(v) A`` ((d+1)² dense numbers, O(Σ nnz_i²) work), centred with the weighted means μ,
``C = G − W μμᵀ``, and a square root of C becomes the R factor of :class:`~linsgd.lstsq.qr.LeastSquares`
(the design block's Cholesky ``Lᵀ``, or where it is singular at the normal equations' rounding level
``qr(Λ^{½} Vᵀ).R`` of its eigendecomposition; the target's column projected on it: RᵀR = C). The state then
solves, checks the design and reports exactly as the streamed QR does.

What it costs: the normal equations square the condition number (κ(C) = κ(A)²), where the dense path's
QR does not; and the (d+1)² statistics must fit the memory budget, checked by :func:`check_size` before
any product is formed.
"""

from __future__ import annotations

import numpy as np

from linsgd.errors import ConfigError
from linsgd.lstsq.qr import LeastSquares
from linsgd.lstsq.rows import weights

STATISTICS_COPIES = 3  # C = AᵀA centred in place, its eigenvectors, R


def statistics_bytes(d: int) -> int:
    """Bytes the normal equations of d sparse features take: the bound ``solver="auto"`` applies to the
    dense statistics (:func:`linsgd.sgd.solver.statistics_bytes`), so auto never picks a solve refused here."""
    return STATISTICS_COPIES * 8 * (d + 2) ** 2


def check_size(d: int, budget: int) -> None:
    """ConfigError naming the limit when the normal equations of d features exceed ``budget`` bytes."""
    need = statistics_bytes(d)
    if need > budget:
        most = int((budget / (8 * STATISTICS_COPIES)) ** 0.5) - 2
        raise ConfigError("solver", "exact", f"at most {most:,} features for sparse X within the memory budget "
                          f"of {budget / 2**30:.1f} GiB (a quarter of RAM; {d:,} features need "
                          f"{need / 2**30:.1f} GiB for the normal equations): use solver='sgd'")


def sparse_state(X, y, sample_weight=None) -> LeastSquares:
    """The :class:`LeastSquares` state (with intercept) of a CSR matrix X (n, d) and y (n,), in float64.

    Rows of weight 0 are left out, as the streamed QR does.
    """
    import scipy.sparse as sp

    X = sp.csr_matrix(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n, d = X.shape
    v = weights(sample_weight, n)
    if v is not None:
        keep = np.flatnonzero(v > 0)
        X, y, v = X[keep], y[keep], v[keep]
    count = X.shape[0]
    if count == 0:
        return LeastSquares.empty(d)
    vv = np.ones(count) if v is None else v
    W = float(vv.sum())
    A = sp.hstack([X, sp.csr_matrix(y[:, None])], format="csr")
    Av = sp.diags(vv) @ A
    mean = np.asarray(Av.sum(axis=0)).reshape(-1) / W
    C = (A.T @ Av).toarray()
    C -= W * np.outer(mean, mean)
    R = _root(C, count)[:min(count, d + 1)]
    lo = np.asarray(X.min(axis=0).toarray()).reshape(-1)
    hi = np.asarray(X.max(axis=0).toarray()).reshape(-1)
    return LeastSquares(True, count, mean, R, lo, hi, W, v is not None)


def _root(C: np.ndarray, count: int) -> np.ndarray:
    """An upper-triangular R with RᵀR = C (symmetric, positive semi-definite; the last row and column are the
    target's), on columns scaled to unit diagonal.

    The design block is factored alone: Cholesky's Lᵀ, or, where a pivot² (the squared sine of a column's angle
    to the span of the earlier ones) is at the rounding level of the normal equations — ε·max(count, d+1), the
    bound of a sum of ``count`` rounded products — qr(Λ^{½} Vᵀ).R of its eigendecomposition with those
    eigenvalues set to 0, so that the design check names the column as the QR path does. The target's column
    is then the projection ``Rxxᵀ r = c_xy`` and its last entry √(c_yy − ‖r‖²): the rank a rounding loses is
    never taken from the target, whose residual stays that of the coefficients."""
    scale = np.sqrt(np.clip(np.diag(C), 0.0, None))
    scale[scale == 0] = 1.0
    Cs = C / scale[:, None] / scale[None, :]
    d = len(C) - 1
    tol = max(count, d + 1) * np.finfo(np.float64).eps
    Rxx = _design_root(Cs[:d, :d], tol)
    rxy = np.linalg.lstsq(Rxx.T, Cs[:d, d], rcond=None)[0] if d else np.zeros(0)
    R = np.zeros((d + 1, d + 1))
    R[:d, :d], R[:d, d] = Rxx, rxy
    R[d, d] = np.sqrt(max(float(Cs[d, d] - rxy @ rxy), 0.0))
    return R * scale[None, :]


def _design_root(Cs: np.ndarray, tol: float) -> np.ndarray:
    if not len(Cs):
        return np.zeros((0, 0))
    try:
        L = np.linalg.cholesky(Cs)
        if np.min(np.diag(L)) ** 2 > tol:
            return L.T
    except np.linalg.LinAlgError:
        pass
    lam, V = np.linalg.eigh(Cs)
    lam[lam <= tol * max(float(lam[-1]), 0.0)] = 0.0
    return np.linalg.qr(np.sqrt(lam)[:, None] * V.T, mode="r")
