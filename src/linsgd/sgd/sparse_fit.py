"""``lr="auto"`` on a sparse matrix: the step from the raw columns' curvature, no standardisation.

Dense features are standardised before ``lr="auto"`` trains (:func:`linsgd.sgd.fit.train_standardized`);
centring a sparse column would turn every implicit zero into −μ/s and fill the matrix. Sparse columns (counts,
one-hot and hashed indicators, tf-idf) are trained on their own scale instead, with the step of
:func:`linsgd.sgd.lr.auto_step` of their Hessian, estimated by sparse products
(:func:`linsgd.sgd.lr.curvature`), and the penalty stays the raw coefficients' scalar L2.
"""

from __future__ import annotations

import numpy as np

from linsgd.sgd.loop import init_params
from linsgd.sgd.lr import auto_step


def sparse_auto(X, y: np.ndarray, config, weight: np.ndarray | None, init) -> tuple[float, tuple]:
    """``(lr, init)`` of an ``lr="auto"`` run on CSR X: the step of :func:`auto_step` (with sample weights, of
    the rows scaled by √v, the weighted loss's curvature), and ``init``, or for a fresh run the chapter's w₀
    with the intercept at the (weighted) mean target."""
    Xv = X if weight is None else X.multiply(np.sqrt(weight * len(weight) / weight.sum())[:, None]).tocsr()
    lr = auto_step(Xv, config.batch_size, averaged=config.average is not False)
    if init is None:
        w0, _ = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        init = (w0, float(np.average(y, weights=weight)))
    return lr, init
