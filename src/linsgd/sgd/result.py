"""What training returns and where it stands: :class:`FitResult` (a trained model and how it got there) and
:class:`TrainState` (the loop's whole state, which checkpoints save and a resume restores)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from linsgd.config import TrainConfig
from linsgd.lstsq.solution import Solution


@dataclass
class FitResult:
    """A trained linear model and how it got there.

    Attributes:
        w: weights, shape (d,). b: bias.
        history: full-data mean of ½(ŷ − y)² after each epoch.
        seed: the seed used (drawn when none was given): pass it back to repeat the run.
        config: the resolved settings. seconds: wall time of training; epoch_seconds: per epoch.
        lr: the learning rate used (with lr="auto": the one chosen, for the standardised features).
        solution: the exact least-squares solution when ``config.solver == "exact"``. trusted: the trusted
            optimum (:class:`~linsgd.lstsq.robust.RobustSolution`) of a loss other than squared.
        val_history: validation loss after each epoch (empty without validation data).
        best_epoch: 1-based epoch of the lowest monitored loss (the returned one if it stopped early).
        feature_names: the d names of the columns of X (a DataFrame's columns, a table's encoded features),
            or None for plain arrays.
        stopped_epoch: the 1-based epoch after which early stopping (or ``epochs="auto"``) stopped, 0 when
            every epoch ran. objective: the monitored loss after each epoch (validation loss, else the
            training loss plus the penalty), what the stopping rule and the convergence check watch.

    With averaging (``config.average``) ``w``, ``b`` and the losses are those of the averaged parameters.
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
    stopped_epoch: int = 0
    objective: list[float] = field(default_factory=list)
    feature_names: list[str] | None = None
    trusted: object = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """ŷ = Xw + b for X of shape (m, d)."""
        return np.asarray(X) @ self.w + self.b

    def coef_table(self) -> dict[str, float]:
        """``{feature name: coefficient}`` (``x0``, ``x1``, … without names), then ``"(intercept)": b``.

        (A file run's FitResult is on the training scale; its LinearModel's table is on the raw scale.)
        """
        names = self.feature_names or [f"x{j}" for j in range(len(self.w))]
        return {**{n: float(v) for n, v in zip(names, np.asarray(self.w, np.float64), strict=True)},
                "(intercept)": float(self.b)}


@dataclass
class TrainState:
    """Where training is: parameters after ``position`` examples of epoch ``epoch`` (0-based).

    ``position`` counts the examples of this process's epoch order already visited (one process: of the
    epoch's order; always a multiple of the batch size), ``step`` the minibatch steps since the start.
    ``history``/``val_history``/``seconds`` hold one entry per finished epoch; ``best_*`` is what early
    stopping keeps (the lowest monitored loss, its 1-based epoch and parameters). ``wa``/``ba`` are the
    running average of the iterates (float64; None before averaging starts), ``objective`` the monitored
    loss per finished epoch, ``sumsq`` the optimizer's per-coordinate state where the rule has one (AdaGrad's
    sums of squared gradients, held by the engine and shared with it, :meth:`~linsgd.engines.sparse.
    SparseEngine.share_sums`).
    """

    w: np.ndarray
    b: float
    epoch: int = 0
    position: int = 0
    step: int = 0
    history: list[float] = field(default_factory=list)
    val_history: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = 0
    best_w: np.ndarray | None = None
    best_b: float = 0.0
    wa: np.ndarray | None = None
    ba: float = 0.0
    objective: list[float] = field(default_factory=list)
    sumsq: np.ndarray | None = None  # schedule="adagrad": Σ g² of each coefficient and the bias (d + 1,), float64
