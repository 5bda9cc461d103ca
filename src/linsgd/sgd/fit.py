"""What ``linsgd.fit`` does with its arguments: validate them, then run SGD, ``lr="auto"`` or the exact solver.

``fit`` takes arrays; :func:`fit_data` takes a data view (in memory or streamed, possibly a rank's share)
and is what file runs call. Both pick the path here, before any epoch runs: the loop
(:func:`linsgd.sgd.loop.train_data`) only ever runs plain SGD epochs.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.checks import as_training_arrays
from linsgd.data.frame_source import numeric_frame
from linsgd.data.views import InMemory
from linsgd.engines import get_engine
from linsgd.errors import ConfigError
from linsgd.exact.qr import exact
from linsgd.sgd.loop import FitResult, TrainState, init_params, train_data
from linsgd.sgd.lr import auto_lr
from linsgd.standardize import Moments, Standardizer


def fit(X, y, *, lr: float | str = 0.03, epochs: int = 3, batch_size: int = 10, engine: str = "fused",
        seed: int | None = None, dtype: str = "float32", init_std: float = 0.01,
        device: str = "cpu", solver: str = "sgd") -> FitResult:
    """Fit y ≈ Xw + b by minibatch SGD on the squared loss, the chapter's algorithm.

    Per batch B of the epoch's shuffled order, with r = X_B w + b − y_B:
    ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r``.

    Args:
        X: features, array-like (n, d), or a pandas/polars DataFrame or pyarrow Table of numeric columns
            (their names become ``feature_names``; text, dates or gaps are a DataError naming the column:
            :func:`linsgd.fit_file` encodes those). y: targets, (n,) or (n, 1).
        lr, epochs, batch_size, engine, seed, dtype, init_std, device, solver: see :class:`TrainConfig`.

    Returns:
        FitResult with ``.w`` (d,), ``.b``, ``.history`` and the seed used.

    Raises:
        ConfigError: a setting out of range. DataError: bad shapes or non-finite values.
        DivergenceError: the loss or parameters became non-finite (names a stable lr).

    Example:
        >>> from linsgd.data.synthetic import make_regression
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=1)
        >>> r = fit(X, y, seed=1)
        >>> bool(abs(r.w - [2, -3.4]).max() < 5e-3), r.history[-1] < 1e-4
        (True, True)
    """
    config = TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, engine=engine, seed=seed,
                         dtype=dtype, init_std=init_std, device=device, solver=solver).resolved()
    # SGD itself finds a non-finite value (its residual is non-finite: DataError, see _diverged), so it
    # skips the separate pass over the data; the exact solver and lr="auto" need checked values first.
    sgd = config.solver == "sgd" and config.lr != "auto"
    frame = numeric_frame(X)
    names = frame[1] if frame else None
    X, y = as_training_arrays(frame[0] if frame else X, y, config.dtype, check_values=not sgd)
    result = train(X, y, config)
    return dataclasses.replace(result, feature_names=names) if names else result


def train(X: np.ndarray, y: np.ndarray, config: TrainConfig, *, init: tuple[np.ndarray, float] | None = None,
          first_epoch: int = 0) -> FitResult:
    """Run ``config.epochs`` epochs on validated arrays (see :func:`as_training_arrays`).

    ``init``: (w, b) to start from instead of the chapter's initialisation, and ``first_epoch``: the
    0-based index of the first epoch (it picks the order), to continue a run (``LinearRegressor.
    partial_fit``: k calls of one epoch equal one fit of k epochs). ``solver="exact"`` and ``lr="auto"``
    are handled before the loop (:func:`exact_fit`, :func:`train_standardized`).
    """
    config = config.resolved()
    if config.solver == "exact":  # no epochs: the least-squares optimum in one pass
        return exact_fit(X, y, config)
    if config.lr == "auto":  # the same loop on standardised features, with an lr from their curvature
        return train_standardized(X, y, config, init=init, first_epoch=first_epoch)
    resume = None
    if init is not None or first_epoch:  # continue a run: the loop resumes at the start of first_epoch
        w, b = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        if init is not None:
            w, b = np.array(init[0], dtype=config.dtype), float(init[1])
        resume = TrainState(w=w, b=b, epoch=first_epoch)
        config = dataclasses.replace(config, epochs=first_epoch + config.epochs)
    return train_data(InMemory(X, y), config, resume=resume)


def fit_data(data, config: TrainConfig, *, val=None, progress: bool = False, sync=None, checkpoints=None,
             resume=None) -> FitResult:
    """Train on a data view: plain SGD through the loop (see :func:`linsgd.sgd.loop.train_data` for the
    arguments); ``solver="exact"`` and ``lr="auto"`` on the whole in-memory arrays of one process.

    Raises:
        ConfigError: exact or auto on streamed data, under torchrun, or with checkpoints/resume.
    """
    config = config.resolved()
    if config.solver == "sgd" and config.lr != "auto":
        return train_data(data, config, val=val, progress=progress, sync=sync, checkpoints=checkpoints,
                          resume=resume)
    param, value = ("solver", "exact") if config.solver == "exact" else ("lr", "auto")
    if not isinstance(data, InMemory) or (sync is not None and sync.every) or checkpoints or resume is not None:
        raise ConfigError(param, value, WHOLE_ARRAYS_ONLY)
    result = train(data.X, data.y, config)
    if val is not None:
        result.val_history = [val.loss(get_engine(config.engine, device=config.device), result.w, result.b)]
    return result


# Where solver="exact" and lr="auto" run for now: the same words for the CLI's early check and the API's.
WHOLE_ARRAYS_ONLY = ("data that fits in --max-memory, in one process, without --checkpoint-every or --resume "
                     "(not supported yet for streamed, checkpointed or distributed runs)")


def exact_fit(X: np.ndarray, y: np.ndarray, config):
    """``linsgd.fit(..., solver="exact")``: a FitResult holding the exact solution (history: its loss).

    Args:
        X, y: validated arrays (:func:`~linsgd.data.checks.as_training_arrays`). config: the resolved TrainConfig.
    """
    start = time.perf_counter()
    solution = exact(X, y)
    seconds = time.perf_counter() - start
    return FitResult(w=solution.w.astype(config.dtype), b=solution.b, history=[solution.loss],
                     seed=config.seed, config=config, seconds=seconds, epoch_seconds=[seconds],
                     solution=solution)


def train_standardized(X: np.ndarray, y: np.ndarray, config, *, init=None, first_epoch: int = 0):
    """``lr="auto"``: train on z = (x − μ)/s with :func:`auto_lr` of z, and return raw-scale coefficients.

    The model z·w_z + b_z equals x·(w_z/s) + (b_z − Σ w_z μ/s) (``Standardizer.to_raw``), so the loss
    history is the raw model's. The returned config keeps ``lr="auto"`` (it repeats the run); ``.lr`` is
    the chosen one. ``init`` is on the raw scale and mapped in with ``Standardizer.to_standardized``.
    """
    scaler, Z, lr = standardized(X, config.batch_size)
    z_init = scaler.to_standardized(*init) if init is not None else None
    result = train(Z, y, dataclasses.replace(config, lr=lr), init=z_init, first_epoch=first_epoch)
    w, b = scaler.to_raw(result.w, result.b)
    return dataclasses.replace(result, w=w.astype(config.dtype), b=b, config=config)


def standardized(X: np.ndarray, batch_size: int):
    """Standardise X for training with ``lr="auto"``.

    Returns:
        ``(standardizer, Z, lr)``: the :class:`~linsgd.standardize.Standardizer` (z = (x − μ)/s, whose
        ``to_raw`` maps trained coefficients back to the raw columns), Z in X's dtype, and
        :func:`auto_lr` of Z.
    """
    scaler = Standardizer.from_moments(Moments.of(X))
    Z = scaler.transform(X)
    return scaler, Z, auto_lr(Z, batch_size)
