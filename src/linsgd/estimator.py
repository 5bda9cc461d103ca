"""``LinearRegressor``: linsgd as a scikit-learn estimator (Pipeline, GridSearchCV, cross_val_score).

Imported only through ``linsgd.LinearRegressor`` (or this module), since it imports scikit-learn.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from linsgd import errors
from linsgd.config import TrainConfig, default_max_memory, draw_seed
from linsgd.data.checks import check_sample_weight
from linsgd.data.formats.frame import numeric_frame
from linsgd.data.sparse_input import as_sparse_training, check_sparse_config, is_sparse
from linsgd.estimator_inputs import draw_random_state, feature_names, formula_inputs, formula_rows
from linsgd.extras import require
from linsgd.lstsq.multi import MultiLeastSquares
from linsgd.lstsq.penalized import penalty_of
from linsgd.lstsq.qr import LeastSquares
from linsgd.lstsq.sparse import check_size, sparse_state
from linsgd.model import coef_table
from linsgd.sgd.convergence import warn_if_not_converged
from linsgd.sgd.fit import gap_of, no_unique_solution, train
from linsgd.sgd.solver import choose
from linsgd.sgd.targets import check_targets, train_targets

require("sklearn", "linsgd.LinearRegressor")  # one line naming the extra, not an ImportError traceback
from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning  # noqa: E402
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data  # noqa: E402


class ConvergenceWarning(errors.ConvergenceWarning, SklearnConvergenceWarning):
    """linsgd's ConvergenceWarning that is also scikit-learn's (GridSearchCV and friends filter it)."""


class LinearRegressor(RegressorMixin, BaseEstimator):
    """Linear regression ŷ = Xw + b by minibatch SGD (the d2l chapter's algorithm) or exact least squares.

    The defaults land on the least-squares optimum without tuning (raw diabetes: relative gap 5e-4;
    Longley: see tests/test_defaults.py), each for a reason:

    * ``lr="auto"``: standardise internally, take the step from the curvature of the standardised data
      (with averaging the largest stable step, :func:`linsgd.stable_lr`), start the intercept at the mean
      of y, and map the coefficients back: any feature scaling and any target offset work.
    * ``average="auto"``: Polyak–Ruppert averaging from the second epoch on: it removes the stationary
      noise of a constant step (constant SGD stalls at its noise floor, 1.2 % above the optimum on diabetes),
      without keeping the first epoch's transient in the average.
    * ``epochs="auto"``: train until the training objective has not improved by a relative ``tol`` = 1e-5
      for 3 epochs, at most ``max_epochs`` = 100. The averaged loss falls smoothly, so a small tol is safe;
      1e-4 stops diabetes at a gap of 1.4e-3, 1e-5 reaches 5e-4.

    * ``solver="auto"``: ``fit`` solves least squares exactly in one pass where its statistics fit the memory
      budget and ``lr`` is "auto" (:mod:`linsgd.sgd.solver`), else runs SGD; ``partial_fit`` always takes SGD
      steps. ``solver_`` says which ran and why.

    Args:
        solver: ``"auto"`` (default, above), ``"sgd"`` or ``"exact"`` (QR least squares in one pass;
            ``partial_fit`` folds each call's rows into the streamed factor, so it equals ``fit`` on all rows
            seen).
        lr: SGD learning rate > 0, or ``"auto"`` (default, above).
        epochs: SGD passes over the data in ``fit``, or ``"auto"`` (default, above). batch_size: minibatch size.
        average, penalty, alpha, l1_ratio, schedule, power_t, tol, max_epochs: see :class:`linsgd.TrainConfig`
            (penalty: scikit-learn's ElasticNet objective; alpha here is ElasticNet's α, so
            ``penalty="l2"`` with α equals ``Ridge(alpha=n·α)``).
        engine: ``"fused"`` (default) or ``"reference"``. dtype: ``"float64"`` (default) or ``"float32"``.
        random_state: None, an int seed, or a numpy RandomState/Generator (initialisation and order).
        threads, sync_every: N threads of one process, averaged every K steps (see :func:`linsgd.fit`;
            default 1 thread: the chapter's trajectory).
        loss, epsilon, quantile: scikit-learn's losses (:class:`linsgd.TrainConfig`); other than "squared",
            ``fit`` solves the trusted optimum (solver "auto" or "exact"; ``trusted_`` holds it) and
            ``partial_fit`` takes SGD steps on the loss.
        formula: None, or the right side of a model formula (formulaic's grammar, e.g.
            ``"area * rooms + C(city) + np.log(lot)"``): X is then a DataFrame whose columns the formula reads
            by name; its design matrix (the intercept left to ``intercept_``) is fitted on ``fit``'s rows and
            reapplied by ``predict``. ``coef_`` weighs the design columns (``get_feature_names_out``);
            ``n_features_in_`` and ``feature_names_in_`` are the DataFrame's columns.

    Warns:
        ConvergenceWarning (linsgd's and scikit-learn's): SGD's ``fit`` ended far from the optimum — a relative
        gap above 5 % of its floor, or a coefficient more than 1 standard error from the exact one — or with
        its loss still falling (:mod:`linsgd.sgd.convergence`).

    Attributes:
        coef_ (n_features,), intercept_, n_features_in_, feature_names_in_ (for DataFrames),
        history_ (per-epoch full-data mean ½ squared loss), lr_ (lr used), seed_ (seed used),
        n_epochs_ (epochs run so far), n_iter_ (epochs of the last ``fit``), best_epoch_ (the epoch kept by
        ``epochs="auto"``), solution_ (a :class:`linsgd.Solution` when the exact solver ran), solver_ (the
        solver that ran and why, e.g. ``"exact: least squares in one pass (…)"``).

    Example:
        >>> from linsgd.data.synthetic import make_regression
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=0)
        >>> m = LinearRegressor(random_state=0).fit(X, y)
        >>> bool(m.score(X, y) > 0.999), np.round(m.coef_, 2).tolist()
        (True, [2.0, -3.4])
    """

    def __init__(self, *, solver: str = "auto", lr: float | str = "auto", epochs: int | str = "auto",
                 batch_size: int = 10, average: bool | int | str = "auto", penalty: str | None = None,
                 alpha: float = 1e-4, l1_ratio: float = 0.15, schedule: str = "constant", power_t: float = 0.25,
                 tol: float = 1e-5, max_epochs: int = 100, engine: str = "fused", dtype: str = "float64",
                 random_state=None, threads: int = 1, sync_every: int | str = "auto", loss: str = "squared",
                 epsilon: float = 0.1, quantile: float = 0.5, formula: str | None = None) -> None:
        self.solver = solver
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.average = average
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.schedule = schedule
        self.power_t = power_t
        self.tol = tol
        self.max_epochs = max_epochs
        self.engine = engine
        self.dtype = dtype
        self.random_state = random_state
        self.threads = threads
        self.sync_every = sync_every
        self.loss = loss
        self.epsilon = epsilon
        self.quantile = quantile
        self.formula = formula

    def fit(self, X, y, sample_weight=None):
        """Fit from scratch on X (n, d), y (n,) with optional ``sample_weight`` (n,) >= 0; returns self.

        Raises:
            ValueError (ConfigError) for a bad parameter, DataError/ValueError for bad data,
            DivergenceError when SGD diverges (with a stable lr to try).
        """
        X, frame = formula_rows(self, X, first=True), X
        numeric_frame(X)  # a DataFrame's text, dates or gaps: a DataError naming the column
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, accept_sparse="csr", multi_output=True)
        formula_inputs(self, frame)
        config = self._config(self.epochs, draw_random_state(self.random_state))
        weight = check_sample_weight(sample_weight, len(y))
        self._state = None
        if y.ndim == 2:  # several targets (a 2-D y, even of one column: scikit-learn's shapes follow y's)
            return self._fit_targets(X, y, config, weight)
        if self.solver == "exact" and self.loss == "squared":  # streamed QR state: partial_fit can add rows
            return self._partial_exact(X, y, first=True, weight=weight)
        Xd, yd = self._training(X, y, config)
        result = train(Xd, yd, config, weight=weight, names=feature_names(self))
        self.n_epochs_ = 0 if result.config.solver == "exact" else len(result.history)
        self.n_iter_, self.best_epoch_ = self.n_epochs_, result.best_epoch
        self.solver_ = result.config.solver_reason or result.config.solver
        if result.config.solver == "sgd":
            found = gap_of(Xd, yd, dataclasses.replace(result, feature_names=feature_names(self)), weight)
            warn_if_not_converged(result, found, ConvergenceWarning, se_rule=True)
        self.trusted_ = result.trusted
        return self._store(result.w, result.b, result.history, result.lr, result.seed, result.solution)

    def partial_fit(self, X, y):
        """One more epoch of SGD on X, y from the current coefficients (with ``solver="exact"``: add the
        rows to the least-squares state and re-solve); returns self.

        The k-th call uses epoch k's order, so k calls on the same data equal ``fit`` with k epochs.
        With ``lr="auto"`` the standardisation and the lr are those of this call's rows.
        """
        first = not hasattr(self, "coef_")
        X, frame = formula_rows(self, X, first=first), X
        numeric_frame(X)
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, reset=first or self.formula is not None,
                             accept_sparse="csr")  # one target: a 2-D y is scikit-learn's error here
        formula_inputs(self, frame)
        if self.solver == "exact" and self.loss == "squared":
            return self._partial_exact(X, y, first)

        config = choose(self._config(1, draw_random_state(self.random_state) if first else self.seed_), X.shape[1], 0,
                        sgd_because="partial_fit takes SGD steps on each call's rows")
        self.solver_ = config.solver_reason or config.solver
        init = None if first else (self.coef_, self.intercept_)
        start = 0 if first else self.n_epochs_
        result = train(*self._training(X, y, config), config, init=init, first_epoch=start)
        self.n_epochs_ = start + 1
        history = ([] if first else list(self.history_)) + result.history
        return self._store(result.w, result.b, history, result.lr, result.seed, None)

    def predict(self, X) -> np.ndarray:
        """ŷ = X coef_ + intercept_, shape (n,); fitted on a 2-D y (n, k): X coef_ᵀ + intercept_, (n, k)."""
        check_is_fitted(self)
        if self.formula is not None:
            X = formula_rows(self, X, first=False)
        else:
            numeric_frame(X)
            X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")
        if np.ndim(self.coef_) == 2:  # fitted on a 2-D y: (n, k), as scikit-learn's LinearRegression
            return np.asarray(X @ self.coef_.T) + self.intercept_
        return np.asarray(X @ self.coef_ + self.intercept_).reshape(-1)

    def __sklearn_tags__(self):
        """scikit-learn's tags: sparse X is accepted (trained as CSR by the O(nnz) sparse engine)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The names of the columns ``coef_`` weighs: a DataFrame's columns, else ``x0``, ``x1``, …; with a
        formula, its design columns (formulaic's names, e.g. ``C(city)[T.Nice]``, ``area:rooms``)."""
        check_is_fitted(self)
        if self.formula is not None:
            return np.asarray(self.formula_columns_, dtype=object)
        return _check_feature_names_in(self, input_features)

    def coef_table(self) -> dict[str, float]:
        """``{feature name: coefficient}`` then ``"(intercept)": intercept_`` (fitted on a 2-D y: one such table
        per target, ``{"target 0": {…}, …}``)."""
        names = self.get_feature_names_out()
        if np.ndim(self.coef_) == 2:
            return {f"target {j}": coef_table(names, self.coef_[j], self.intercept_[j]) for j in range(len(self.coef_))}
        return coef_table(names, self.coef_, self.intercept_)

    def _fit_targets(self, X, Y, config: TrainConfig, weight):
        """``fit`` on Y (n, k): one exact pass over [X Y] (solver "exact", or "auto" resolving to it), else k SGD
        runs with one seed (:mod:`linsgd.sgd.targets`: the same order of rows for every target)."""
        check_targets(Y, loss=self.loss, sparse=is_sparse(X))
        config = choose(dataclasses.replace(config, seed=draw_seed() if config.seed is None else config.seed),
                        X.shape[1], default_max_memory())
        self.n_epochs_ = self.n_iter_ = 0
        self.trusted_, self.solver_ = None, config.solver_reason or config.solver
        if config.solver == "exact":
            self._state = MultiLeastSquares.empty(X.shape[1], Y.shape[1]).update(X, Y, weight)
            alpha, l1_ratio = penalty_of(config)
            try:
                found = self._state.solutions(feature_names(self), alpha=alpha, l1_ratio=l1_ratio)
            except errors.DataError as e:  # solver "auto" and no unique optimum: SGD, as for one target
                config = no_unique_solution(config, e)
                self.solver_ = config.solver_reason
                return self._fit_targets_sgd(X, Y, config, weight)
            self.best_epoch_ = None
            return self._store(np.vstack([s.w for s in found]), [s.b for s in found], [[s.optimum] for s in found],
                               None, config.seed, found)
        return self._fit_targets_sgd(X, Y, config, weight)

    def _fit_targets_sgd(self, X, Y, config: TrainConfig, weight):
        results = train_targets(np.ascontiguousarray(X, dtype=self.dtype), Y, config, weight, feature_names(self),
                                ConvergenceWarning)
        self.n_epochs_ = self.n_iter_ = max(len(r.history) for r in results)
        self.best_epoch_ = [r.best_epoch for r in results]
        return self._store(np.vstack([r.w for r in results]), [r.b for r in results],
                           [r.history for r in results], results[0].lr, config.seed, None)

    def _partial_exact(self, X, y, first: bool, weight=None):
        """Fold the rows (weighted) into the least-squares state and solve the configured objective."""
        state = LeastSquares.empty(X.shape[1]) if first or self._state is None else self._state
        if is_sparse(X):  # the normal equations of the sparse rows, merged exactly into the state
            check_size(X.shape[1], default_max_memory())
            self._state = state.merge(sparse_state(X, y, weight))
        else:
            self._state = state.update(X, y, sample_weight=weight)
        alpha, l1_ratio = penalty_of(self._config(1, None))
        solution = self._state.solution(feature_names(self), alpha=alpha, l1_ratio=l1_ratio)
        self.n_epochs_, self.solver_ = 0, "exact"
        return self._store(solution.w, solution.b, [solution.optimum], None, None, solution)

    def _training(self, X, y, config: TrainConfig):
        """X and y as the engines take them: C-contiguous arrays, or CSR (sparse input, checked by
        :func:`~linsgd.data.sparse_input.check_sparse_config`), of ``dtype``."""
        if is_sparse(X):
            check_sparse_config(config)
            return as_sparse_training(X, y, self.dtype)
        return np.ascontiguousarray(X, dtype=self.dtype), y.astype(self.dtype)

    def _store(self, w, b, history, lr, seed, solution):
        self.coef_ = np.asarray(w, dtype=np.float64).copy()
        self.intercept_ = float(b) if np.ndim(b) == 0 else np.asarray(b, dtype=np.float64)
        self.history_, self.lr_, self.seed_, self.solution_ = history, lr, seed, solution
        return self

    def _config(self, epochs: int, seed) -> TrainConfig:
        return TrainConfig(lr=self.lr, epochs=epochs, batch_size=self.batch_size, engine=self.engine,
                           seed=seed, dtype=self.dtype, solver=self.solver, average=self.average,
                           penalty=self.penalty, alpha=self.alpha, l1_ratio=self.l1_ratio, schedule=self.schedule,
                           power_t=self.power_t, tol=self.tol, max_epochs=self.max_epochs, threads=self.threads,
                           sync_every=self.sync_every, loss=self.loss, epsilon=self.epsilon,
                           quantile=self.quantile).resolved()
