"""What ``linsgd.fit`` does with its arguments: validate them, then run SGD, ``lr="auto"`` or the exact solver.

``fit`` takes arrays; :func:`fit_data` takes a data view (in memory or streamed, possibly a rank's share)
and is what file runs call. Both pick the path here, before any epoch runs: the loop
(:func:`linsgd.sgd.loop.train_data`) only ever runs plain SGD epochs.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from linsgd.config import TrainConfig, default_max_memory
from linsgd.data.checks import as_training_arrays, check_sample_weight
from linsgd.data.formats.frame import numeric_frame
from linsgd.data.sparse_input import as_sparse_training, check_sparse_config, is_sparse
from linsgd.engines import get_engine
from linsgd.errors import ConfigError, DataError, first_line
from linsgd.sgd.auto import auto_divergence, auto_step, mean_target, train_standardized
from linsgd.sgd.convergence import Distance, distance, warn_if_not_converged
from linsgd.sgd.exact_fit import EXACT_NO_CHECKPOINTS, exact_data, exact_fit
from linsgd.sgd.loop import init_params, train_arrays, train_data
from linsgd.sgd.result import FitResult, TrainState
from linsgd.sgd.solver import NO_UNIQUE_SOLUTION, RESUMABLE, choose
from linsgd.sgd.sparse_fit import sparse_auto
from linsgd.standardize import Standardizer


def fit(X, y, *, lr: float | str = 0.03, epochs: int | str = 3, batch_size: int = 10, engine: str = "fused",
        seed: int | None = None, dtype: str = "float32", init_std: float = 0.01,
        device: str = "cpu", solver: str = "sgd", average: bool | int = False, penalty: str | None = None,
        alpha: float = 1e-4, l1_ratio: float = 0.15, schedule: str = "constant", power_t: float = 0.25,
        tol: float = 1e-5, patience: int | None = None, max_epochs: int = 100,
        sample_weight=None, threads: int = 1, sync_every: int | str = "auto", loss: str = "squared",
        epsilon: float = 0.1, quantile: float = 0.5) -> FitResult:
    """Fit y ≈ Xw + b by minibatch SGD on the squared loss, the chapter's algorithm (and its defaults).

    Per batch B of the epoch's shuffled order, with r = X_B w + b − y_B:
    ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r``; with a schedule, a penalty, sample weights or
    averaging, the rule of :mod:`linsgd.engines.rule` (the objective is scikit-learn's ElasticNet's,
    (1/2Σs) Σ s_i r_i² + α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²)).

    The defaults are the chapter's (lr 0.03, 3 epochs, batch 10, constant step, no averaging:
    :data:`linsgd.config.CHAPTER`); what lands on the optimum without tuning is ``solver="auto"`` (the exact
    solve where it fits, :mod:`linsgd.sgd.solver`) or, for SGD, ``lr="auto", epochs="auto", average="auto"``
    (``LinearRegressor``'s, ``TrainConfig()``'s and ``linsgd train``'s defaults).

    Args:
        X: features, array-like (n, d), or a pandas/polars DataFrame or pyarrow Table of numeric columns
            (their names become ``feature_names``; text, dates or gaps are a DataError naming the column:
            :func:`linsgd.fit_file` encodes those). y: targets, (n,) or (n, 1).
        lr, epochs, batch_size, engine, seed, dtype, init_std, device, solver, average, penalty, alpha,
            l1_ratio, schedule, power_t, tol, patience, max_epochs, loss, epsilon, quantile: see
            :class:`TrainConfig` (a loss other than squared: ``solver="exact"`` or ``"auto"``, its trusted
            optimum, :mod:`linsgd.lstsq.robust`; ``.trusted`` holds it; with SGD, the steps take the loss's
            (sub)gradient).
        threads: N threads, each with batch ``batch_size`` on its slice of every process batch of N·B
            examples, their parameters averaged every ``sync_every`` steps (K; "auto": averaging costs at most
            5 % of the epoch). Default 1: the chapter's single trajectory. With K = 1, N threads equal one
            thread with batch N·B.
        sample_weight: (n,) weights >= 0, not all 0 (None: all 1).

    Returns:
        FitResult with ``.w`` (d,), ``.b``, ``.history`` and the seed used.

    Raises:
        ConfigError: a setting out of range. DataError: bad shapes or non-finite values, bad weights.
        DivergenceError: the loss or parameters became non-finite (names a stable lr).

    Warns:
        ConvergenceWarning: the run ended far from its optimum or with its loss still falling
        (:mod:`linsgd.sgd.convergence`).

    Example:
        >>> from linsgd.data.synthetic import make_regression
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=1)
        >>> r = fit(X, y, seed=1)
        >>> bool(abs(r.w - [2, -3.4]).max() < 5e-3), r.history[-1] < 1e-4
        (True, True)
    """
    config = TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, engine=engine, seed=seed,
                         dtype=dtype, init_std=init_std, device=device, solver=solver, average=average,
                         penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, schedule=schedule, power_t=power_t,
                         tol=tol, patience=patience, max_epochs=max_epochs, threads=threads,
                         sync_every=sync_every, loss=loss, epsilon=epsilon, quantile=quantile).resolved()
    # SGD itself finds a non-finite value (its residual is non-finite: DataError, see _diverged), so it
    # skips the separate pass over the data; the exact solver and lr="auto" need checked values first.
    # the exact solver works in float64 whatever the training dtype: no rounding of the data to float32 first
    sparse = is_sparse(X)  # scipy.sparse: trained as CSR by the O(nnz) engine (linsgd.engines.sparse)
    frame = None if sparse else numeric_frame(X)
    names = frame[1] if frame else None
    shape = X.shape if sparse else np.shape(frame[0] if frame else X)
    config = choose(config, shape[1] if len(shape) == 2 else 1, default_max_memory())
    sgd = config.solver == "sgd" and config.lr != "auto"
    dtype = "float64" if config.solver == "exact" else config.dtype
    if sparse:
        check_sparse_config(config)
        X, y = as_sparse_training(X, y, dtype)
    else:
        X, y = as_training_arrays(frame[0] if frame else X, y, dtype, check_values=not sgd)
    weight = check_sample_weight(sample_weight, len(y))
    result = train(X, y, config, weight=weight, names=names)
    if names:
        result = dataclasses.replace(result, feature_names=names)
    if config.solver == "sgd":
        warn_if_not_converged(result, gap_of(X, y, result, weight))
    return result


def gap_of(X, y, result: FitResult, weight) -> Distance | None:
    """How far the answer is from the exact least-squares one, when the exact side knows the objective (no
    penalty, no weights; :func:`~linsgd.sgd.convergence.distance`)."""
    if result.config.penalty is not None or weight is not None or result.config.loss != "squared":
        return None
    return distance(X, y, result.w, result.b, result.feature_names)


def train(X: np.ndarray, y: np.ndarray, config: TrainConfig, *, init: tuple[np.ndarray, float] | None = None,
          first_epoch: int = 0, weight: np.ndarray | None = None, val=None, names=None,
          penalty_scale=None) -> FitResult:
    """Run ``config.epochs`` epochs on validated arrays (see :func:`as_training_arrays`).

    ``init``: (w, b) to start from instead of the chapter's initialisation, and ``first_epoch``: the
    0-based index of the first epoch (it picks the order), to continue a run (``LinearRegressor.
    partial_fit``: k calls of one epoch equal one fit of k epochs, for a constant step without averaging:
    the step count, hence schedule and average, starts again). ``weight``: raw sample weights (n,) or None.
    ``val``: a validation view (:mod:`linsgd.data.views`) on the scale of X, or None. ``names``: the
    columns' names for the exact solver's messages (None: x0, x1, …). ``penalty_scale``: the scales of X's
    standardisation, for the raw-scale penalty (:func:`linsgd.sgd.raw_penalty.penalty_weights`).
    ``solver="exact"`` and ``lr="auto"`` are handled before the loop (:func:`exact_fit`,
    :func:`train_standardized`).
    """
    going_on = init is not None or first_epoch
    config = choose(config.resolved(), X.shape[1], default_max_memory(),
                    sgd_because="continuing a run (init, first_epoch) takes SGD steps" if going_on else None)
    if config.solver == "exact":  # no epochs: the optimum of the same objective in one pass
        try:
            return exact_fit(X, y, config, sample_weight=weight, names=names)
        except DataError as e:  # solver="auto" takes SGD where least squares has no unique solution
            config = no_unique_solution(config, e)
    if config.lr == "auto" and is_sparse(X):  # raw columns: standardising would fill in every zero
        lr, start = sparse_auto(X, y, config, weight, init)
        with auto_divergence():
            result = train(X, y, dataclasses.replace(config, lr=lr), init=start, first_epoch=first_epoch,
                           weight=weight, val=val)
        return dataclasses.replace(result, config=config, lr=lr)
    if config.lr == "auto":  # the same loop on standardised features, with an lr from their curvature
        return train_standardized(X, y, config, init=init, first_epoch=first_epoch, weight=weight, val=val)
    return train_arrays(X, y, config, init=init, first_epoch=first_epoch, weight=weight, val=val,
                        penalty_scale=penalty_scale)


def fit_data(data, config: TrainConfig, *, val=None, progress: bool = False, sync=None, checkpoints=None,
             resume=None, budget: int | None = None, names=None,
             standardizer: Standardizer | None = None) -> FitResult:
    """Train on a data view (in memory or streamed, one process or a rank's share; see
    :func:`linsgd.sgd.loop.train_data` for the arguments).

    * ``solver="auto"``: resolved first (:func:`linsgd.sgd.solver.choose`, with ``budget``: bytes the run may
      hold, None: a quarter of RAM; checkpoints or a resume take SGD; ``names``: the columns' names for the
      exact solver's messages);
    * plain SGD: the loop;
    * ``lr="auto"``: the loop with the step of :func:`auto_step` of ``data.sample()``, a fresh run starting
      its intercept at the mean target (:func:`mean_target`). The view's features must already be
      standardised (:func:`linsgd.runs.run.fit_file` standardises with the first pass's moments), so the
      returned coefficients are on the standardised scale, like ``--standardize``'s;
    * ``solver="exact"``: one pass over this process's rows (:func:`~linsgd.sgd.exact_fit.exact_data`),
      merged over ranks.

    ``standardizer``: the standardisation the view's features went through (None: raw features). A penalty
    is then still the documented one of the raw-scale coefficients, whatever the path
    (:func:`linsgd.sgd.raw_penalty.penalty_weights`; the exact solver solves the raw rows).

    Raises:
        ConfigError: ``solver="exact"`` with checkpoints or resume (one pass has nothing to checkpoint).
    """
    config = choose(config.resolved(), data.sample().shape[1], budget or default_max_memory(),
                    sgd_because=RESUMABLE if checkpoints or resume is not None else None)
    if config.solver == "exact":
        if checkpoints or resume is not None:
            raise ConfigError("solver", "exact", EXACT_NO_CHECKPOINTS)
        try:
            result = exact_data(data, config, sync=sync, names=names, standardizer=standardizer)
        except DataError as e:  # solver="auto" takes SGD where least squares has no unique solution
            config = no_unique_solution(config, e)
        else:
            if val is not None and config.loss == "squared":
                result.val_history = [val.loss(get_engine(config.engine, device=config.device), result.w,
                                               result.b)]
            return result
    scale = standardizer.scale if standardizer is not None else None
    if config.lr != "auto":
        return train_data(data, config, val=val, progress=progress, sync=sync, checkpoints=checkpoints,
                          resume=resume, penalty_scale=scale)
    lr = auto_step(data.sample(), config.batch_size, averaged=config.average is not False)
    if resume is None:  # on centred features the optimal intercept is the mean target: start there
        w0, _ = init_params(config.seed, data.sample().shape[1], config.init_std, config.dtype)
        resume = TrainState(w=w0, b=mean_target(data, sync))
    with auto_divergence():
        result = train_data(data, dataclasses.replace(config, lr=lr), val=val, progress=progress, sync=sync,
                            checkpoints=checkpoints, resume=resume, penalty_scale=scale)
    return dataclasses.replace(result, config=config, lr=lr)


def no_unique_solution(config: TrainConfig, error: DataError) -> TrainConfig:
    """The config that runs SGD when ``solver="auto"`` chose the exact solve and it found no unique solution
    (a constant or duplicated column: SGD still returns one of the minimisers); re-raises otherwise."""
    if config.solver_reason is None:  # the user asked for the exact solver: the DataError is the answer
        raise error
    why = f"{NO_UNIQUE_SOLUTION} ({first_line(error)})"
    return dataclasses.replace(config, solver="sgd", solver_reason=why)
