"""The training loop: one readable function, the same for every engine and every data size."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.batching import INIT_STREAM
from linsgd.data.stream import InMemory
from linsgd.engines import get_engine
from linsgd.errors import DataError, DivergenceError


@dataclass
class FitResult:
    """A trained linear model and how it got there.

    Attributes:
        w: weights, shape (d,). b: bias.
        history: full-data mean of ½(ŷ − y)² after each epoch.
        seed: the seed used (drawn when none was given): pass it back to repeat the run.
        config: the resolved settings. seconds: wall time of training; epoch_seconds: per epoch.
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
    val_history: list[float] = field(default_factory=list)
    best_epoch: int = 0

    def predict(self, X: np.ndarray) -> np.ndarray:
        """ŷ = Xw + b for X of shape (m, d)."""
        return np.asarray(X) @ self.w + self.b


def fit(X, y, *, lr: float = 0.03, epochs: int = 3, batch_size: int = 10, engine: str = "fused",
        seed: int | None = None, dtype: str = "float32", init_std: float = 0.01,
        device: str = "cpu") -> FitResult:
    """Fit y ≈ Xw + b by minibatch SGD on the squared loss, the chapter's algorithm.

    Per batch B of the epoch's shuffled order, with r = X_B w + b − y_B:
    ``w ← w − lr/|B| · X_Bᵀ r``, ``b ← b − lr/|B| · Σ r``.

    Args:
        X: features, array-like (n, d). y: targets, (n,) or (n, 1).
        lr, epochs, batch_size, engine, seed, dtype, init_std, device: see :class:`TrainConfig`.

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
                         dtype=dtype, init_std=init_std, device=device).resolved()
    X, y = as_training_arrays(X, y, config.dtype)
    return train(X, y, config)


def train(X: np.ndarray, y: np.ndarray, config: TrainConfig) -> FitResult:
    """Run ``config.epochs`` epochs on validated arrays (see :func:`as_training_arrays`)."""
    return train_data(InMemory(X, y), config)


def train_data(data, config: TrainConfig, *, val=None, progress: bool = False) -> FitResult:
    """Run ``config.epochs`` epochs over ``data``, in memory or streamed, with optional validation.

    Args:
        data: :class:`~linsgd.data.stream.InMemory` or :class:`~linsgd.data.stream.Streamed` (both
            have ``epoch_orders``, ``run_epoch``, ``loss``, ``sample``). val: the same kind, or None.
        config: resolved settings; ``config.patience`` (not None) stops when the validation loss (the
            training loss without val) has not improved by more than ``config.tol`` for that many
            epochs, and returns the best epoch's parameters. progress: show a tqdm bar over epochs.

    Returns:
        FitResult (``val_history`` is empty without val).

    Raises:
        DivergenceError: the loss or parameters became non-finite.
    """
    config = config.resolved()
    engine = get_engine(config.engine, device=config.device)
    w, b = init_params(config.seed, data.sample().shape[1], config.init_std, config.dtype)
    history: list[float] = []
    val_history: list[float] = []
    epoch_seconds: list[float] = []
    best = (math.inf, 0, w, b)  # (monitored loss, epoch, w, b)
    start = time.perf_counter()
    t0 = time.perf_counter()
    # 1. the order of each epoch, shared by every engine (in memory: a permutation of all rows;
    #    streamed: the block shuffle of linsgd.data.stream, drawn window by window)
    for epoch, order in _progress(enumerate(data.epoch_orders(config.seed, config.epochs)), config, progress):
        # 2. one epoch of minibatch updates
        out = data.run_epoch(engine, w, b, order, config.lr, config.batch_size)
        # 3. full-data loss (only of finite parameters), and the validation loss
        loss = data.loss(engine, out.w, out.b) if not out.diverged_at else math.inf
        # 4. guard: never hand back or write a non-finite model
        if out.diverged_at or not math.isfinite(loss):
            from linsgd.solve import stable_lr
            raise DivergenceError(epoch + 1, out.diverged_at, config.lr,
                                  stable_lr(data.sample(), config.batch_size))
        w, b = out.w, out.b
        history.append(loss)
        if val is not None:
            val_history.append(val.loss(engine, w, b))
        epoch_seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        # 5. early stopping on the validation loss (else the training loss); keep the best parameters
        monitored = val_history[-1] if val is not None else loss
        if monitored < best[0] - config.tol:
            best = (monitored, epoch + 1, w, b)
        elif config.patience is not None and epoch + 1 - best[1] >= config.patience:
            w, b = best[2], best[3]
            break
    return FitResult(w=w, b=float(b), history=history, seed=config.seed, config=config,
                     seconds=time.perf_counter() - start, epoch_seconds=epoch_seconds,
                     val_history=val_history, best_epoch=best[1])


def _progress(epochs, config: TrainConfig, progress: bool):
    if not progress:
        return epochs
    from tqdm import tqdm

    return tqdm(epochs, total=config.epochs, desc="epochs", unit="epoch", leave=False)


def init_params(seed: int, d: int, init_std: float, dtype: str) -> tuple[np.ndarray, float]:
    """The chapter's initialisation: ``w ~ N(0, init_std²)`` of shape (d,), ``b = 0``."""
    w = np.random.default_rng([seed, INIT_STREAM]).normal(0.0, init_std, d)
    return w.astype(dtype), 0.0


def as_training_arrays(X, y, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """X as C-contiguous (n, d) and y as (n,) of ``dtype``; DataError on bad shapes or values."""
    X = np.ascontiguousarray(X, dtype=dtype)
    y = np.ascontiguousarray(y, dtype=dtype)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"X must have shape (n, d) with n, d >= 1, got {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.shape != (X.shape[0],):
        raise DataError(f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, 1) to match X, got {y.shape}")
    for name, a in (("X", X), ("y", y)):
        if np.isfinite(a.sum()):  # one fast pass; inf/nan (or an overflowing sum) take the exact one
            continue
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            at = ", ".join(str(int(i)) for i in bad[0])
            raise DataError(f"{name}[{at}] = {float(a[tuple(bad[0])])} is not finite (values overflowing "
                            f"{dtype} count too): remove or impute it")
    return X, y
