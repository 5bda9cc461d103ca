"""Sparse feature matrices handed to ``linsgd.fit``, ``LinearRegressor`` and the exact solver.

Any ``scipy.sparse`` matrix or array is accepted (scikit-learn's convention) and trained on as CSR of the
training dtype; only its stored values are checked (an implicit zero is a zero). What the sparse engine
cannot do is refused here, before an epoch runs, with the setting to change
(:func:`check_sparse_config`).
"""

from __future__ import annotations

import numpy as np

from linsgd.data.checks import as_training_arrays, check_values_of
from linsgd.errors import ConfigError, DataError

# why schedule="adagrad" is refused on dense data (the sparse engine alone has its kernel)
ADAGRAD_DENSE = "constant, invscaling or cosine for dense data (adagrad runs on sparse X and svmlight files)"


def is_sparse(X) -> bool:
    """Whether X is a ``scipy.sparse`` matrix or array (without importing scipy for dense input)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def as_sparse_training(X, y, dtype: str) -> tuple:
    """X as CSR of ``dtype`` with int32/int64 indices, y as (n,) of ``dtype``.

    Raises:
        DataError: an empty matrix, a y that does not fit, or a stored value that is not finite (named by
            row and column: ``X[3, 17] = nan``).
    """
    X = X.tocsr()
    if X.dtype != dtype:  # only the values change: the column indices and row pointers are shared, not copied
        X = type(X)((X.data.astype(dtype), X.indices, X.indptr), shape=X.shape)  # (scipy's astype copies them:
                                                                                # 10⁶ hashed rows, 1.3 s vs 0.7 s)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"X must have shape (n, d) with n, d >= 1, got {X.shape}")
    with np.errstate(over="ignore"):
        _, y = as_training_arrays(np.zeros((X.shape[0], 1), dtype=dtype), y, dtype)
    # a nan or inf makes the sum non-finite (no n-long mask when every value is finite); the sum of large
    # finite values may overflow too: the mask then decides
    if not np.isfinite(np.sum(X.data)) and not np.all(np.isfinite(X.data)):
        p = int(np.flatnonzero(~np.isfinite(X.data))[0])
        row = int(np.searchsorted(X.indptr, p, side="right") - 1)
        raise DataError(f"X[{row}, {int(X.indices[p])}] = {float(X.data[p])} is not finite (values overflowing "
                        f"{dtype} count too): remove or impute it")
    check_values_of(y, "y", dtype)
    if not X.has_sorted_indices:  # rows read in order of their columns: the same sums as X.toarray()
        X = X.sorted_indices()
    return X, y


def check_sparse_config(config) -> None:
    """Refuse what the sparse engine does not do, naming the setting.

    Raises:
        ConfigError: ``engine="reference"`` (torch's dense oracle), ``threads`` > 1 with
            ``schedule="adagrad"``, or an L1 part in the penalty (``"l1"``, ``"elasticnet"``): the sparse
            engine keeps an L2 penalty as one scale factor; a loss other than squared.
    """
    if config.engine != "fused":
        raise ConfigError("engine", config.engine, "'fused' for sparse X (pass X.toarray() to use the reference "
                                                    "engine)")
    if config.threads > 1 and config.schedule == "adagrad":
        raise ConfigError("threads", config.threads, "1 with schedule='adagrad' on sparse X (its per-coordinate "
                                                     "sums are one thread's; use schedule='constant' for threads)")
    if getattr(config, "loss", "squared") != "squared":
        raise ConfigError("loss", config.loss, "'squared' for sparse X (the sparse engine steps on the squared "
                                               "loss; pass X.toarray() for another loss)")
    if config.schedule == "adagrad" and config.penalty is not None and config.alpha > 0:
        raise ConfigError("penalty", config.penalty, "None with schedule='adagrad' (its per-coordinate steps "
                                                     "have no O(nnz) penalty step; use schedule='constant' for l2)")
    if config.penalty in ("l1", "elasticnet"):
        raise ConfigError("penalty", config.penalty, "None or 'l2' for sparse X (an L1 step would touch every "
                                                     "coefficient; pass X.toarray() for l1 or elasticnet)")
