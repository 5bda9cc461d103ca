"""``lr="auto"`` on a sparse matrix: the step from the raw columns' curvature, no standardisation.

Dense features are standardised before ``lr="auto"`` trains (:func:`linsgd.sgd.fit.train_standardized`);
centring a sparse column would turn every implicit zero into −μ/s and fill the matrix. Sparse columns (counts,
one-hot and hashed indicators, tf-idf) are trained on their own scale instead, with the step of
:func:`linsgd.sgd.lr.auto_step` of their Hessian, estimated by sparse products
(:func:`linsgd.sgd.lr.curvature`), and the penalty stays the raw coefficients' scalar L2.

Under ``schedule="adagrad"`` the step η₀ is in the coefficients' units (a coordinate's first step is ±η₀
whatever its gradient): ``lr="auto"`` takes a third of a typical coefficient's size, the size at which a
row's non-zeros (m of them, of root mean square x_rms) would make up the target's spread,
η₀ = std(y) / (3 √m x_rms) — :func:`adagrad_step`.
"""

from __future__ import annotations

import numpy as np

from linsgd.sgd.loop import init_params
from linsgd.sgd.lr import auto_step


def sparse_auto(X, y: np.ndarray, config, weight: np.ndarray | None, init) -> tuple[float, tuple]:
    """``(lr, init)`` of an ``lr="auto"`` run on CSR X: :func:`adagrad_step` under AdaGrad, else the step of
    :func:`auto_step` (with sample weights, of the rows scaled by √v, the weighted loss's curvature), and
    ``init``, or for a fresh run the chapter's w₀ with the intercept at the (weighted) mean target."""
    if config.schedule == "adagrad":
        lr = adagrad_step(X, y, weight)
    else:
        Xv = X if weight is None else X.multiply(np.sqrt(weight * len(weight) / weight.sum())[:, None]).tocsr()
        lr = auto_step(Xv, config.batch_size, averaged=config.average is not False)
    if init is None:
        w0, _ = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        init = (w0, float(np.average(y, weights=weight)))
    return lr, init


def sum_of_squares(values: np.ndarray, chunk: int = 1 << 20) -> float:
    """Σ v² in float64, a chunk at a time: no float64 copy of all the stored values (3·10⁷ of them: 240 MB, the
    allocation alone took longer than the sum)."""
    total = 0.0
    for start in range(0, len(values), chunk):
        part = values[start:start + chunk].astype(np.float64)
        total += float(np.dot(part, part))
    return total


def adagrad_step(X, y: np.ndarray, weight: np.ndarray | None) -> float:
    """η₀ = std(y) / (3 √m x_rms) of ``lr="auto"`` under AdaGrad (module docstring): m the mean stored values
    per row, x_rms their root mean square, std(y) (weighted with sample weights); 1.0 when y is constant or
    X stores nothing (no step is then needed)."""
    m = X.nnz / X.shape[0]
    x_rms = float(np.sqrt(sum_of_squares(X.data) / X.nnz)) if X.nnz else 0.0
    mean = np.average(y, weights=weight)
    spread = float(np.sqrt(np.average((y - mean) ** 2, weights=weight)))
    if spread == 0.0 or x_rms == 0.0:
        return 1.0
    return spread / (3.0 * np.sqrt(m) * x_rms)
