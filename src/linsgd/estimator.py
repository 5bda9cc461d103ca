"""``LinearRegressor``: linsgd as a scikit-learn estimator (Pipeline, GridSearchCV, cross_val_score).

Imported only through ``linsgd.LinearRegressor`` (or this module), since it imports scikit-learn.
"""

from __future__ import annotations

import numbers

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.frame_source import numeric_frame
from linsgd.exact.qr import LeastSquares
from linsgd.extras import require
from linsgd.sgd.fit import train

require("sklearn", "linsgd.LinearRegressor")  # one line naming the extra, not an ImportError traceback
from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data  # noqa: E402


class LinearRegressor(RegressorMixin, BaseEstimator):
    """Linear regression ŷ = Xw + b by minibatch SGD (the d2l chapter's algorithm) or exact least squares.

    Args:
        solver: ``"sgd"`` or ``"exact"`` (QR least squares in one pass; ``partial_fit`` folds each call's
            rows into the streamed factor, so it equals ``fit`` on all rows seen).
        lr: SGD learning rate > 0, or ``"auto"`` (default): standardise internally and take the lr from
            the curvature of the standardised data (:func:`linsgd.auto_lr`), so any feature scaling works.
        epochs: SGD passes over the data in ``fit``. batch_size: minibatch size.
        engine: ``"fused"`` (default) or ``"reference"``. dtype: ``"float64"`` (default) or ``"float32"``.
        random_state: None, an int seed, or a numpy RandomState/Generator (initialisation and order).

    Attributes:
        coef_ (n_features,), intercept_, n_features_in_, feature_names_in_ (for DataFrames),
        history_ (per-epoch full-data mean ½ squared loss), lr_ (lr used), seed_ (seed used),
        n_epochs_ (epochs run so far), solution_ (a :class:`linsgd.Solution` with ``solver="exact"``).

    Example:
        >>> from linsgd.data.synthetic import make_regression
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=0)
        >>> m = LinearRegressor(random_state=0).fit(X, y)
        >>> bool(m.score(X, y) > 0.999), np.round(m.coef_, 2).tolist()
        (True, [2.0, -3.4])
    """

    def __init__(self, *, solver: str = "sgd", lr: float | str = "auto", epochs: int = 10, batch_size: int = 10,
                 engine: str = "fused", dtype: str = "float64", random_state=None) -> None:
        self.solver = solver
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.engine = engine
        self.dtype = dtype
        self.random_state = random_state

    def fit(self, X, y):
        """Fit from scratch on X (n, d), y (n,); returns self.

        Raises:
            ValueError (ConfigError) for a bad parameter, DataError/ValueError for bad data,
            DivergenceError when SGD diverges (with a stable lr to try).
        """
        numeric_frame(X)  # a DataFrame's text, dates or gaps: a DataError naming the column
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        config = self._config(self.epochs, self._draw_seed())
        self._state = None
        if self.solver == "exact":  # streamed QR state, so that partial_fit can add rows later
            return self._partial_exact(X, y, first=True)
        result = train(np.ascontiguousarray(X, dtype=self.dtype), y.astype(self.dtype), config)
        self.n_epochs_ = config.epochs
        return self._store(result.w, result.b, result.history, result.lr, result.seed, result.solution)

    def partial_fit(self, X, y):
        """One more epoch of SGD on X, y from the current coefficients (with ``solver="exact"``: add the
        rows to the least-squares state and re-solve); returns self.

        The k-th call uses epoch k's order, so k calls on the same data equal ``fit`` with k epochs.
        With ``lr="auto"`` the standardisation and the lr are those of this call's rows.
        """
        first = not hasattr(self, "coef_")
        numeric_frame(X)
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, reset=first)
        if self.solver == "exact":
            return self._partial_exact(X, y, first)

        config = self._config(1, self._draw_seed() if first else self.seed_)
        init = None if first else (self.coef_, self.intercept_)
        start = 0 if first else self.n_epochs_
        result = train(np.ascontiguousarray(X, dtype=self.dtype), y.astype(self.dtype), config, init=init,
                       first_epoch=start)
        self.n_epochs_ = start + 1
        history = ([] if first else list(self.history_)) + result.history
        return self._store(result.w, result.b, history, result.lr, result.seed, None)

    def predict(self, X) -> np.ndarray:
        """ŷ = X coef_ + intercept_, shape (n,)."""
        check_is_fitted(self)
        numeric_frame(X)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The names of the columns ``coef_`` weighs: a DataFrame's columns, else ``x0``, ``x1``, …"""
        check_is_fitted(self)
        return _check_feature_names_in(self, input_features)

    def coef_table(self) -> dict[str, float]:
        """``{feature name: coefficient}`` then ``"(intercept)": intercept_``."""
        names = self.get_feature_names_out()
        return {**{str(n): float(v) for n, v in zip(names, self.coef_, strict=True)},
                "(intercept)": float(self.intercept_)}

    def _partial_exact(self, X, y, first: bool):
        state = LeastSquares.empty(X.shape[1]) if first or self._state is None else self._state
        self._state = state.update(X, y)
        solution = self._state.solution(_names(self))
        self.n_epochs_ = 0
        return self._store(solution.w, solution.b, [solution.loss], None, None, solution)

    def _store(self, w, b, history, lr, seed, solution):
        self.coef_ = np.asarray(w, dtype=np.float64).copy()
        self.intercept_ = float(b)
        self.history_, self.lr_, self.seed_, self.solution_ = history, lr, seed, solution
        return self

    def _config(self, epochs: int, seed) -> TrainConfig:
        return TrainConfig(lr=self.lr, epochs=epochs, batch_size=self.batch_size, engine=self.engine,
                           seed=seed, dtype=self.dtype, solver=self.solver).resolved()

    def _draw_seed(self) -> int | None:
        """None (linsgd draws and records one), an int as is, or an int drawn from a numpy RNG."""
        rs = self.random_state
        if rs is None or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool)):
            return None if rs is None else int(rs)
        return int(check_random_state(rs).randint(2**31 - 1))


def _names(estimator) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None
