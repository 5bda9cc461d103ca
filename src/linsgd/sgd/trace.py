"""SGD step by step: the parameters after every step (or every k-th) and the full-data loss there.

:func:`trace` runs exactly the updates of :func:`linsgd.fit` — the same initial parameters
(:func:`linsgd.sgd.loop.init_params`), the same order of each epoch (:func:`linsgd.data.batching.epoch_order`)
and the same engine (:func:`linsgd.engines.get_engine`) — but hands the engine the epoch's order in
slices of whole batches, so it can look at (w, b) in between. A slice of whole batches is an epoch of
its own to an engine (batch k of the slice is batch k of the epoch; only the epoch's last batch may be
short, and it is normalised by its real size either way), so the final parameters equal ``fit``'s to
float rounding (``tests/test_trace.py``). It is meant for pictures and small data: each slice costs a
call, and each recorded point a full-data loss.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from linsgd.config import TrainConfig
from linsgd.data.batching import epoch_order
from linsgd.engines import get_engine
from linsgd.errors import ConfigError
from linsgd.sgd.loop import init_params

MAX_POINTS = 2000  # recorded points of a long run (a picture does not show more)


@dataclass
class Trace:
    """The recorded path of one SGD run.

    Attributes:
        steps: (m,) global step numbers of the recorded points; 0 is the initial parameters.
        w: (m, d) weights at those steps (float64). b: (m,) biases.
        loss: (m,) full-data mean of ½(ŷ − y)² at those steps.
        examples: (m,) examples seen up to each point (the sum of the batch sizes, a short last batch
            counted as it is): the compute a run took, the same on every machine and every time.
        history: the full-data loss after each finished epoch (``fit``'s ``history``).
        stopped_epoch: with ``epochs="auto"``, the 1-based epoch after which the run stopped (the loss had
            not improved by a relative ``tol`` for ``stop_patience`` epochs); 0 otherwise.
        epoch_ends: global step at the end of each finished epoch.
        lr: the learning rate used (the one chosen when ``config.lr == "auto"``).
        diverged: None, or ``(epoch, step, reason)`` of the blow-up (1-based epoch, 1-based step within it;
            step 0: found by the end-of-epoch loss), the arguments of :class:`~linsgd.errors.DivergenceError`.
            The last recorded point is then the last finite one.
    """

    steps: np.ndarray
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    examples: np.ndarray
    history: list[float] = field(default_factory=list)
    epoch_ends: list[int] = field(default_factory=list)
    lr: float = 0.0
    diverged: tuple[int, int, str] | None = None
    stopped_epoch: int = 0

    @property
    def blowup_step(self) -> int | None:
        """The global 1-based step at which the run blew up (None: it did not)."""
        if self.diverged is None:
            return None
        return int(self.steps[-1]) + (1 if self.diverged[1] else 0)

    @property
    def final(self) -> tuple[np.ndarray, float]:
        """``(w, b)`` of the last recorded point (the result, or the last finite one before a blow-up)."""
        return self.w[-1], float(self.b[-1])


def trace(X: np.ndarray, y: np.ndarray, config: TrainConfig, *, max_points: int = MAX_POINTS,
          on_epoch: Callable[[int, float], None] | None = None) -> Trace:
    """Run ``fit``'s SGD on validated arrays and record the path (at most about ``max_points`` points).

    Every k-th step is recorded, k = ⌈total steps / max_points⌉, and the last step of every epoch.
    With ``config.epochs == "auto"`` it runs at most ``config.max_epochs`` epochs and stops as ``fit`` does
    (no relative improvement of the loss by ``config.tol`` for ``config.stop_patience`` epochs); the trace
    then holds every epoch run (``fit`` returns the best epoch's parameters, the trace its last).
    With ``config.lr == "auto"`` the run is on standardised features (as ``fit``) and the path is mapped
    back to the raw columns point by point.

    Args:
        X: (n, d) C-contiguous features of ``config.dtype``. y: (n,) targets (see
            :func:`linsgd.data.checks.as_training_arrays`).
        config: the settings (``solver`` must be ``"sgd"``; a missing seed is drawn).
        max_points: the budget of recorded points, >= 1.
        on_epoch: called as ``on_epoch(epoch, loss)`` (1-based) when an epoch finishes.

    Returns:
        :class:`Trace`. A divergence does not raise: it ends the trace and is in ``Trace.diverged``.
    """
    config = config.resolved()
    if config.solver != "sgd":
        raise ConfigError("solver", config.solver, "'sgd' to trace (the exact solver takes no steps)")
    if config.lr != "auto":
        return _run(X, y, config, max_points, on_epoch)
    from linsgd.sgd.auto import standardized

    scaler, Z, lr = standardized(X, config.batch_size, averaged=config.average is not False)
    # as fit: on centred features the intercept starts at the mean target
    t = _run(Z, y, dataclasses.replace(config, lr=lr), max_points, on_epoch, b0=float(np.mean(y, dtype=np.float64)))
    raw = [scaler.to_raw(w, b) for w, b in zip(t.w, t.b, strict=True)]
    t.w, t.b = np.array([w for w, _ in raw]), np.array([b for _, b in raw])
    return t


def _run(X, y, config: TrainConfig, max_points: int, on_epoch, b0: float | None = None) -> Trace:
    """The loop of :func:`trace` on the arrays SGD runs on; ``config.lr`` is a number; ``b0``: the initial
    intercept (None: the chapter's 0)."""
    engine, n, B = get_engine(config.engine, device=config.device), len(y), config.batch_size
    per_epoch, epochs = -(-n // B), config.epoch_budget
    every = max(1, -(-per_epoch * epochs // max(1, max_points)))
    w, b = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
    b = b if b0 is None else b0
    rec = _Recorder(engine, X, y)
    rec.add(0, w, b, 0)
    t = Trace(*rec.arrays(), lr=float(config.lr))
    best, best_epoch = math.inf, 0
    for epoch in range(epochs):
        order, first = epoch_order(config.seed, epoch, n), epoch * per_epoch
        for k in range(0, per_epoch, every):  # k steps of this epoch done; run the next `every`
            out = engine.run_epoch(X, y, w, b, order[k * B:(k + every) * B], config.lr, B)
            if out.diverged_at:
                step = k + out.diverged_at - 1
                rec.add(first + step, out.w, out.b, epoch * n + min(step * B, n))
                t.diverged = (epoch + 1, k + out.diverged_at, "loss or parameters became inf/nan")
                break
            w, b = out.w, out.b
            rec.add(first + min(k + every, per_epoch), w, b, epoch * n + min((k + every) * B, n))
        if t.diverged is None:
            t.diverged = _epoch_end(t, rec.last_loss(), epoch, config)
        if t.diverged is not None:
            break
        t.history.append(rec.last_loss())
        t.epoch_ends.append(first + per_epoch)
        if on_epoch is not None:
            on_epoch(epoch + 1, t.history[-1])
        if config.epochs == "auto":  # fit's rule (sgd/loop.py), on the training loss
            if not math.isfinite(best) or t.history[-1] < best - config.tol * abs(best):
                best, best_epoch = t.history[-1], epoch + 1
            elif epoch + 1 - best_epoch >= config.stop_patience:
                t.stopped_epoch = epoch + 1
                break
    t.steps, t.w, t.b, t.loss, t.examples = rec.arrays()
    return t


def _epoch_end(t: Trace, loss: float, epoch: int, config: TrainConfig) -> tuple[int, int, str] | None:
    """``fit``'s end-of-epoch guards: a non-finite loss, or one grown past ``max_loss_growth`` × the best."""
    if not math.isfinite(loss):
        return (epoch + 1, 0, "loss or parameters became inf/nan")
    if config.max_loss_growth and t.history and loss > config.max_loss_growth * min(t.history):
        return (epoch + 1, 0, f"the loss grew from {min(t.history):.3g} to {loss:.3g}")
    return None


class _Recorder:
    """Recorded points, each with its full-data loss (skips a step recorded already)."""

    def __init__(self, engine, X: np.ndarray, y: np.ndarray) -> None:
        self.engine, self.X, self.y = engine, X, y
        self.points: list[tuple[int, np.ndarray, float, float, int]] = []

    def add(self, step: int, w: np.ndarray, b: float, examples: int) -> None:
        if self.points and self.points[-1][0] == step:
            return
        with np.errstate(all="ignore"):
            loss = self.engine.loss(self.X, self.y, w, b)
        self.points.append((step, np.array(w, dtype=np.float64), float(b), float(loss), int(examples)))

    def last_loss(self) -> float:
        return self.points[-1][3]

    def arrays(self) -> tuple[np.ndarray, ...]:
        steps, w, b, loss, examples = zip(*self.points, strict=True)
        return (np.array(steps), np.array(w), np.array(b), np.array(loss), np.array(examples))
