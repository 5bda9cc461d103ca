"""The training loop: one readable function, the same for every engine and every data size."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.batching import INIT_STREAM
from linsgd.data.checks import check_array_input
from linsgd.data.stream import InMemory
from linsgd.engines import get_engine
from linsgd.errors import DataError, DivergenceError
from linsgd.segments import cut

if TYPE_CHECKING:
    from linsgd.solve import Solution


@dataclass
class FitResult:
    """A trained linear model and how it got there.

    Attributes:
        w: weights, shape (d,). b: bias.
        history: full-data mean of ½(ŷ − y)² after each epoch.
        seed: the seed used (drawn when none was given): pass it back to repeat the run.
        config: the resolved settings. seconds: wall time of training; epoch_seconds: per epoch.
        lr: the learning rate used (with lr="auto": the one chosen, for the standardised features).
        solution: the exact least-squares solution when ``config.solver == "exact"``.
        val_history: validation loss after each epoch (empty without validation data).
        best_epoch: 1-based epoch of the lowest monitored loss (the returned one if it stopped early).
    """

    w: np.ndarray
    b: float
    history: list[float]
    seed: int
    config: TrainConfig
    seconds: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
    lr: float | None = None
    solution: Solution | None = None
    val_history: list[float] = field(default_factory=list)
    best_epoch: int = 0

    def predict(self, X: np.ndarray) -> np.ndarray:
        """ŷ = Xw + b for X of shape (m, d)."""
        return np.asarray(X) @ self.w + self.b


def fit(X, y, *, lr: float | str = 0.03, epochs: int = 3, batch_size: int = 10, engine: str = "fused",
        seed: int | None = None, dtype: str = "float32", init_std: float = 0.01,
        device: str = "cpu", solver: str = "sgd") -> FitResult:
    """Fit y ≈ Xw + b by minibatch SGD on the squared loss, the chapter's algorithm.

    Per batch B of the epoch's shuffled order, with r = X_B w + b − y_B:
    ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r``.

    Args:
        X: features, array-like (n, d). y: targets, (n,) or (n, 1).
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
    X, y = as_training_arrays(X, y, config.dtype, check_values=not sgd)
    return train(X, y, config)


def train(X: np.ndarray, y: np.ndarray, config: TrainConfig, *, init: tuple[np.ndarray, float] | None = None,
          first_epoch: int = 0) -> FitResult:
    """Run ``config.epochs`` epochs on validated arrays (see :func:`as_training_arrays`).

    ``init``: (w, b) to start from instead of the chapter's initialisation, and ``first_epoch``: the
    0-based index of the first epoch (it picks the order), to continue a run (``LinearRegressor.
    partial_fit``: k calls of one epoch equal one fit of k epochs). ``solver="exact"`` and ``lr="auto"``
    are handled before the loop (:func:`linsgd.solve.exact_fit`, :func:`linsgd.curvature.train_standardized`).
    """
    config = config.resolved()
    if config.solver == "exact":  # no epochs: the least-squares optimum in one pass
        from linsgd.solve import exact_fit
        return exact_fit(X, y, config)
    if config.lr == "auto":  # the same loop on standardised features, with an lr from their curvature
        from linsgd.curvature import train_standardized
        return train_standardized(X, y, config, init=init, first_epoch=first_epoch)
    resume = None
    if init is not None or first_epoch:  # continue a run: the loop resumes at the start of first_epoch
        from linsgd.checkpoint import TrainState

        w, b = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        if init is not None:
            w, b = np.array(init[0], dtype=config.dtype), float(init[1])
        resume = TrainState(w=w, b=b, epoch=first_epoch)
        config = dataclasses.replace(config, epochs=first_epoch + config.epochs)
    return train_data(InMemory(X, y), config, resume=resume)


def train_data(data, config: TrainConfig, *, val=None, progress: bool = False, sync=None,
               checkpoints=None, resume=None) -> FitResult:
    """Run ``config.epochs`` epochs over ``data``, in memory or streamed, with optional validation.

    Args:
        data: :class:`~linsgd.data.stream.InMemory` or :class:`~linsgd.data.stream.Streamed` (or a
            wrapper of :mod:`linsgd.distributed`): ``epoch_orders``, ``epoch_runs``, ``loss``, ``sample``.
            val: the same kind, or None.
        config: resolved settings; ``config.patience`` (not None) stops when the validation loss (the
            training loss without val) has not improved by more than ``config.tol`` for that many
            epochs, and returns the best epoch's parameters. progress: show a tqdm bar over epochs.
        sync: a :class:`~linsgd.distributed.Sync` (None: one process) — parameters are averaged every
            ``sync.every`` steps. checkpoints: a :class:`~linsgd.checkpoint.Checkpointer`, or None.
        resume: a :class:`~linsgd.checkpoint.TrainState` to continue from (None: start afresh).

    Returns:
        FitResult (``val_history`` is empty without val); history covers the resumed epochs too.

    Raises:
        DivergenceError: the loss or parameters became non-finite.
        StorageError: a checkpoint could not be written. CollectiveError: another rank failed.
    """
    from linsgd.checkpoint import TrainState
    from linsgd.distributed import Sync

    config, sync = config.resolved(), sync or Sync()
    if config.solver == "exact" or config.lr == "auto":  # both work on the whole in-memory arrays
        return _whole_array_fit(data, config, val, sync, checkpoints, resume)
    engine = get_engine(config.engine, device=config.device)
    if isinstance(data, InMemory):  # the same arrays every epoch: the engine may lay them out once
        engine.prepare(data.X, data.y)
    s = copy.deepcopy(resume) if resume is not None else TrainState(
        *init_params(config.seed, data.sample().shape[1], config.init_std, config.dtype))
    stop_every = sync.every or (checkpoints.segment_steps if checkpoints else None)
    start = t0 = time.perf_counter()
    # 1. the order of each epoch, shared by every engine (in memory: a permutation of all rows;
    #    streamed: the block shuffle of linsgd.data.stream, drawn window by window), from the resumed one
    orders = enumerate(data.epoch_orders(config.seed, config.epochs, s.epoch), start=s.epoch)
    for epoch, order in _progress(orders, config, progress, s.epoch):
        # 2. the epoch's minibatch updates, segment by segment: sync and checkpoint at segment ends
        _run_epoch(engine, data, order, s, config, sync, checkpoints, stop_every)
        # 3. full-data loss, and the validation loss
        loss = data.loss(engine, s.w, s.b)
        # 4. guard: never hand back or write a non-finite model, nor one whose loss exploded
        if not math.isfinite(loss):
            raise _diverged(data, config, epoch + 1, 0)
        if config.max_loss_growth and s.history and loss > config.max_loss_growth * min(s.history):
            raise _diverged(data, config, epoch + 1, 0, f"the loss grew from {min(s.history):.3g} to {loss:.3g}")
        s.history.append(loss)
        if val is not None:
            s.val_history.append(val.loss(engine, s.w, s.b))
        s.seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        s.epoch, s.position = epoch + 1, 0
        # 5. early stopping on the validation loss (else the training loss); keep the best parameters
        stop = _early_stop(s, s.val_history[-1] if val is not None else loss, config)
        # 6. checkpoint at the epoch's end (all ranks hold the same parameters after the epoch's syncs)
        if checkpoints and not stop and checkpoints.due_at_epoch_end(s.epoch):
            checkpoints.save(s)
        if stop:
            break
    w, b = (s.best_w, s.best_b) if config.patience is not None and s.best_w is not None and stop else (s.w, s.b)
    return FitResult(w=w, b=float(b), history=s.history, seed=config.seed, config=config,
                     seconds=time.perf_counter() - start, epoch_seconds=s.seconds,
                     val_history=s.val_history, best_epoch=s.best_epoch, lr=float(config.lr))


def _run_epoch(engine, data, order, s, config: TrainConfig, sync, checkpoints, every: int | None) -> None:
    """The epoch's updates from step ``s.position / B`` on, piece by piece (see :func:`linsgd.segments.cut`).

    At every segment end the parameters are averaged over ranks (one process: unchanged) and a
    checkpoint is written when due; at the epoch's end the last, partial segment is synced.
    """
    B = config.batch_size
    pending = 0  # examples run since the last sync
    mark = s.position // B  # epoch step of the last checkpoint (or of the resume)
    for p in cut(data.epoch_runs(order, B), B, every, start=s.position // B):
        out = engine.run_epoch(p.X, p.y, s.w, s.b, p.idx, config.lr, B)
        if out.diverged_at:
            raise _diverged(data, config, s.epoch + 1, p.first + out.diverged_at)
        s.w, s.b, s.step, pending = out.w, out.b, s.step + p.end - p.first, pending + len(p.idx)
        if p.boundary:
            s.w, s.b = sync.average(s.w, s.b, pending)
            pending, s.position = 0, p.end * B
            if checkpoints and checkpoints.due_within_epoch(mark, p.end):
                checkpoints.save(s)
                mark = p.end
    s.w, s.b = sync.drain(s.w, s.b, pending)


def _whole_array_fit(data, config: TrainConfig, val, sync, checkpoints, resume) -> FitResult:
    """``solver="exact"`` or ``lr="auto"`` on in-memory data (see :func:`train`); ConfigError elsewhere."""
    from linsgd.errors import ConfigError

    param, value = ("solver", "exact") if config.solver == "exact" else ("lr", "auto")
    if not isinstance(data, InMemory) or sync.every or checkpoints or resume is not None:
        raise ConfigError(param, value, "data that fits in --max-memory, in one process, without checkpoints "
                                        "or --resume (not supported yet for streamed or distributed runs)")
    result = train(data.X, data.y, config)
    if val is not None:
        result.val_history = [val.loss(get_engine(config.engine, device=config.device), result.w, result.b)]
    return result


def _early_stop(s, monitored: float, config: TrainConfig) -> bool:
    """Record the best epoch; True when ``config.patience`` epochs passed without an improvement."""
    if monitored < s.best_loss - config.tol:
        s.best_loss, s.best_epoch, s.best_w, s.best_b = monitored, s.epoch, s.w, s.b
        return False
    return config.patience is not None and s.epoch - s.best_epoch >= config.patience


def _diverged(data, config: TrainConfig, epoch: int, step: int, reason: str | None = None) -> Exception:
    """The DivergenceError to raise, or the DataError of a non-finite value in ``data`` (the cause then)."""
    from linsgd.curvature import stable_lr

    if isinstance(data, InMemory):
        check_values_of(data.X, "X", config.dtype)
        check_values_of(data.y, "y", config.dtype)

    return DivergenceError(epoch, step, config.lr, stable_lr(data.sample(), config.batch_size),
                           *([reason] if reason else []))


def _progress(epochs, config: TrainConfig, progress: bool, done: int = 0):
    if not progress:
        return epochs
    from tqdm import tqdm

    return tqdm(epochs, initial=done, total=config.epochs, desc="epochs", unit="epoch", leave=False)


def init_params(seed: int, d: int, init_std: float, dtype: str) -> tuple[np.ndarray, float]:
    """The chapter's initialisation: ``w ~ N(0, init_std²)`` of shape (d,), ``b = 0``."""
    w = np.random.default_rng([seed, INIT_STREAM]).normal(0.0, init_std, d)
    return w.astype(dtype), 0.0


def as_training_arrays(X, y, dtype: str, *, check_values: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """X as C-contiguous (n, d) and y as (n,) of ``dtype``; DataError on bad shapes or (``check_values``)
    non-finite values."""
    X, y = check_array_input(X, "X"), check_array_input(y, "y")
    with np.errstate(over="ignore"):  # a value too large for dtype becomes inf and is reported below
        X = np.ascontiguousarray(X, dtype=dtype)
        y = np.ascontiguousarray(y, dtype=dtype)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"X must have shape (n, d) with n, d >= 1, got {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.shape != (X.shape[0],):
        raise DataError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, 1) to match X, got {y.shape}")
    if check_values:
        check_values_of(X, "X", dtype)
        check_values_of(y, "y", dtype)
    return X, y


def check_values_of(a: np.ndarray, name: str, dtype: str) -> None:
    """DataError naming the first non-finite value of ``a`` (values overflowing ``dtype`` count too)."""
    if _sum_is_finite(a):  # one fast pass; inf/nan (or an overflowing sum) take the exact one
        return
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        at = ", ".join(str(int(i)) for i in bad[0])
        raise DataError(f"{name}[{at}] = {float(a[tuple(bad[0])])} is not finite (values overflowing "
                        f"{dtype} count too): remove or impute it")


def _sum_is_finite(a: np.ndarray) -> bool:
    """Whether the sum of ``a`` is finite (then every value is), its rows summed on two cores."""
    from linsgd._parallel import in_halves

    return bool(np.isfinite(sum(in_halves(lambda i0, i1: float(a[i0:i1].sum()), len(a)))))
