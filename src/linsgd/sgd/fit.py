"""What ``linsgd.fit`` does with its arguments: validate them, then run SGD, ``lr="auto"`` or the exact solver.

``fit`` takes arrays; :func:`fit_data` takes a data view (in memory or streamed, possibly a rank's share)
and is what file runs call. Both pick the path here, before any epoch runs: the loop
(:func:`linsgd.sgd.loop.train_data`) only ever runs plain SGD epochs.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.checks import as_training_arrays
from linsgd.data.frame_source import numeric_frame
from linsgd.data.table import default_max_memory
from linsgd.data.views import InMemory, normalized_weights
from linsgd.engines import get_engine
from linsgd.errors import ConfigError, DataError, DivergenceError, first_line
from linsgd.sgd.convergence import Distance, distance, warn_if_not_converged
from linsgd.sgd.exact_fit import EXACT_NO_CHECKPOINTS, exact_data, exact_fit
from linsgd.sgd.loop import FitResult, TrainState, init_params, train_data
from linsgd.sgd.lr import auto_lr, stable_lr
from linsgd.sgd.solver import NO_UNIQUE_SOLUTION, RESUMABLE, choose
from linsgd.standardize import Moments, Standardizer


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
    frame = numeric_frame(X)
    names = frame[1] if frame else None
    shape = np.shape(frame[0] if frame else X)
    config = choose(config, shape[1] if len(shape) == 2 else 1, default_max_memory())
    sgd = config.solver == "sgd" and config.lr != "auto"
    dtype = "float64" if config.solver == "exact" else config.dtype
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


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Sample weights as float64 (n,) (None stays None); DataError when one is negative or not finite,
    when all are 0, or when the shape does not fit."""
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight, dtype=np.float64)
    if s.shape not in ((n,), (n, 1)):
        raise DataError(f"sample_weight must have shape ({n},) to match X, got {s.shape}")
    s = s.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(s) | (s < 0))
    if len(bad):
        raise DataError(f"sample_weight[{bad[0]}] = {s[bad[0]]} is not allowed: weights must be finite and >= 0")
    if not s.any():
        raise DataError("sample_weight: every weight is zero (nothing to fit)")
    return s


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
    if config.lr == "auto":  # the same loop on standardised features, with an lr from their curvature
        return train_standardized(X, y, config, init=init, first_epoch=first_epoch, weight=weight, val=val)
    resume = None
    if init is not None or first_epoch:  # continue a run: the loop resumes at the start of first_epoch
        w, b = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        if init is not None:
            w, b = np.array(init[0], dtype=config.dtype), float(init[1])
        resume = TrainState(w=w, b=b, epoch=first_epoch)
        more = {"epochs": first_epoch + config.epochs} if config.epochs != "auto" else {
            "max_epochs": first_epoch + config.max_epochs}
        config = dataclasses.replace(config, **more)
    return train_data(InMemory(X, y, normalized_weights(weight, len(y), config.dtype)), config, resume=resume,
                      val=val, penalty_scale=penalty_scale)


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
    with _auto_divergence():
        result = train_data(data, dataclasses.replace(config, lr=lr), val=val, progress=progress, sync=sync,
                            checkpoints=checkpoints, resume=resume, penalty_scale=scale)
    return dataclasses.replace(result, config=config, lr=lr)


@contextlib.contextmanager
def _auto_divergence():
    """A divergence under lr="auto" advises the exact solver, not lr="auto" (already in force) nor a step on
    another scale."""
    try:
        yield
    except DivergenceError as e:
        if e.auto:
            raise
        raise DivergenceError(e.epoch, e.step, e.lr, e.suggested_lr, e.reason, auto=True) from None


def no_unique_solution(config: TrainConfig, error: DataError) -> TrainConfig:
    """The config that runs SGD when ``solver="auto"`` chose the exact solve and it found no unique solution
    (a constant or duplicated column: SGD still returns one of the minimisers); re-raises otherwise."""
    if config.solver_reason is None:  # the user asked for the exact solver: the DataError is the answer
        raise error
    why = f"{NO_UNIQUE_SOLUTION} ({first_line(error)})"
    return dataclasses.replace(config, solver="sgd", solver_reason=why)


def auto_step(Z: np.ndarray, batch_size: int, *, averaged: bool) -> float:
    """The step of ``lr="auto"`` on standardised features Z: :func:`~linsgd.sgd.lr.stable_lr` when averaging
    (the average removes the stationary noise, so the largest safe step converges fastest: raw diabetes,
    100 epochs, relative gap 5.8e-4 at stable_lr 0.098 against 5.9e-3 at auto_lr 0.0091), else
    :func:`~linsgd.sgd.lr.auto_lr` (stable, and its stationary noise capped at 0.5 % of the optimum)."""
    return stable_lr(Z, batch_size) if averaged else auto_lr(Z, batch_size)


def mean_target(data, sync=None) -> float:
    """The mean of y over the view's rows (all ranks' rows under torchrun, so every rank starts alike)."""
    total = np.zeros(2)
    for _, y in data.rows():
        total += (float(np.sum(y, dtype=np.float64)), len(y))
    if sync is not None and sync.every is not None:  # a distributed Sync: add the ranks' sums
        total = sync.gather(total).sum(axis=0)
    return float(total[0] / total[1]) if total[1] else 0.0


def train_standardized(X: np.ndarray, y: np.ndarray, config, *, init=None, first_epoch: int = 0, weight=None,
                       val=None):
    """``lr="auto"``: train on z = (x − μ)/s with :func:`auto_lr` of z, and return raw-scale coefficients.

    A penalty stays the documented one on the raw coefficients w_z/s (per-coefficient weights,
    :func:`linsgd.sgd.raw_penalty.penalty_weights`): standardising only conditions the problem.

    The model z·w_z + b_z equals x·(w_z/s) + (b_z − Σ w_z μ/s) (``Standardizer.to_raw``), so the loss
    history is the raw model's. A fresh run starts its intercept at the (weighted) mean of y: on
    centred features that is the optimal intercept, so SGD does not spend its first epochs walking the
    intercept from 0 to ȳ (Longley: ȳ = 65,317 against coefficients of order 1). The returned config keeps
    ``lr="auto"`` (it repeats the run); ``.lr`` is the chosen one. ``init`` is on the raw scale and mapped
    in with ``Standardizer.to_standardized``.
    """
    scaler, Z, lr = standardized(X, config.batch_size, weight, averaged=config.average is not False)
    if init is not None:
        z_init = scaler.to_standardized(*init)
    else:
        w0, _ = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        z_init = (w0, float(np.average(y, weights=weight)))
    with _auto_divergence():
        result = train(Z, y, dataclasses.replace(config, lr=lr), init=z_init, first_epoch=first_epoch,
                       weight=weight, val=RawScale(val, scaler) if val is not None else None,
                       penalty_scale=scaler.scale)
    w, b = scaler.to_raw(result.w, result.b)
    best = result.best_epoch
    return dataclasses.replace(result, w=w.astype(config.dtype), b=b, config=config, best_epoch=best)


def standardized(X: np.ndarray, batch_size: int, weight: np.ndarray | None = None, *, averaged: bool = False):
    """Standardise X for training with ``lr="auto"``.

    Returns:
        ``(standardizer, Z, lr)``: the :class:`~linsgd.standardize.Standardizer` (z = (x − μ)/s, whose
        ``to_raw`` maps trained coefficients back to the raw columns), Z in X's dtype, and the lr:
        :func:`auto_step` of Z (with sample weights, of the rows scaled by √v: the curvature of the
        weighted loss).
    """
    scaler = Standardizer.from_moments(Moments.of(X))
    Z = scaler.transform(X)
    v = normalized_weights(weight, len(X), np.float64)
    Zv = Z if v is None else Z * np.sqrt(v)[:, None]
    return scaler, Z, auto_step(Zv, batch_size, averaged=averaged)


class RawScale:
    """A validation view on the raw scale, for a loop that trains on standardised features: its ``loss``
    maps the standardised coefficients back first (``Standardizer.to_raw``)."""

    def __init__(self, val, scaler: Standardizer) -> None:
        self.val, self.scaler = val, scaler

    def loss(self, engine, w, b) -> float:
        w_raw, b_raw = self.scaler.to_raw(w, b)
        return self.val.loss(engine, w_raw.astype(np.asarray(w).dtype), b_raw)
