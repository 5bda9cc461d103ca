"""Every training setting as one frozen dataclass, validated in one place (:class:`TrainConfig`)."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from linsgd.config.rules import check, draw_seed, finite, is_int

ENGINES = ("fused", "reference")
DTYPES = ("float32", "float64")
SOLVERS = ("auto", "sgd", "exact")
# The chapter's settings: linsgd.fit, linsgd demo and linsgd.scratch keep them (TrainConfig's own defaults are
# the practitioner's: solver, lr, epochs and averaging "auto").
CHAPTER = {"lr": 0.03, "epochs": 3, "batch_size": 10, "solver": "sgd", "average": False}
PENALTIES = (None, "l2", "l1", "elasticnet")
LOSSES = ("squared", "huber", "epsilon_insensitive", "quantile")  # linsgd.lstsq.losses defines each
SCHEDULES = ("constant", "invscaling", "cosine", "adagrad")  # the order of linsgd.engines.rule.SCHEDULES
AUTO_PATIENCE = 3  # epochs="auto": epochs without a relative improvement > tol before it stops


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    The defaults are the practitioner's (``linsgd train``, ``fit_file``, ``LinearRegressor``): ``solver="auto"``
    and, where SGD runs, ``lr``, ``epochs`` and ``average`` "auto". ``linsgd.fit`` and ``linsgd demo`` pass
    the chapter's instead (:data:`CHAPTER`: lr 0.03, 3 epochs, batch 10, plain SGD).

    Args:
        lr: learning rate η > 0 of the update ``θ ← θ − η/|B| · Σ_{i∈B} ∇ℓ_i(θ)``, or ``"auto"`` (default):
            train in standardised coordinates with η from their curvature (:func:`linsgd.sgd.lr.auto_lr`).
        epochs: passes over the data (0 trains nothing and returns the initial parameters), or ``"auto"``
            (default, below).
        batch_size: minibatch size B ≥ 1; the last batch of an epoch may be shorter and is normalised
            by its real size.
        engine: ``"fused"`` (compiled kernels) or ``"reference"`` (the chapter's torch autograd code).
        seed: seed of initialisation and epoch order; ``None`` draws one (see :meth:`resolved`).
        dtype: ``"float32"`` (the chapter's) or ``"float64"``.
        init_std: standard deviation of the initial weights, ``w ~ N(0, init_std²)``, ``b = 0``.
        device: torch device of the reference engine (``"cpu"``, ``"cuda"``).
        solver: ``"auto"`` (default: the exact solver where it is exact and cheaper, else SGD; the rule is
            :func:`linsgd.sgd.solver.choose`), ``"sgd"`` (the chapter's) or ``"exact"`` (least squares in one
            pass, :mod:`linsgd.lstsq.qr`).
        solver_reason: filled when ``solver="auto"`` is resolved: which solver ran and why (saved in
            ``config.json`` and the model file); None otherwise.
        patience: early stopping: stop after this many epochs without an improvement of the monitored
            loss by more than ``tol`` (None: train all epochs). tol: that improvement, >= 0.
        max_loss_growth: divergence guard: stop with DivergenceError when an epoch's full-data loss exceeds
            this factor times the best earlier epoch's (None: only inf/nan count). A too-large lr makes the
            loss grow by orders of magnitude per epoch long before float32 overflows (the chapter's lr = 2
            reaches ~1e30 in 3 epochs); stable SGD never grows it by more than a few times.
        average: Polyak–Ruppert averaging: False (off, the chapter's), True (the average of every iterate
            from the first step on), k >= 1 (from step k on) or "auto" (from the first step of the second
            epoch: the first epoch's transient from the initial parameters would otherwise stay in the
            average for long, ~‖w₀ − w*‖²/(η t), which on nearly noiseless data never fades). The averaged
            parameters are returned.
        penalty: None, "l2", "l1" or "elasticnet": scikit-learn's ElasticNet objective
            (1/2n) Σ r_i² + α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²), ρ = 0 for "l2", 1 for "l1", ``l1_ratio`` for
            "elasticnet"; the intercept is not penalised (proximal steps: :mod:`linsgd.engines.rule`).
        alpha: α >= 0 (scikit-learn's SGDRegressor default 1e-4). l1_ratio: ρ in [0, 1] of "elasticnet".
        loss: "squared" (the chapter's), "huber", "epsilon_insensitive" or "quantile", scikit-learn's
            definitions (:mod:`linsgd.lstsq.losses`), with ``epsilon`` >= 0 (huber's threshold, > 0, and the
            insensitive band, in the target's units; default 0.1, SGDRegressor's) and ``quantile`` in (0, 1)
            (default 0.5). A loss other than squared runs its trusted optimum (``solver`` "exact"/"auto").
        schedule: step size η_t of 0-based step t: "constant" η₀ (the chapter's), "invscaling"
            η₀/(1 + t)^power_t, "cosine" η₀·½(1 + cos(π t/T)) over the run's T steps; "adagrad" (sparse X
            only, no penalty): coordinate j steps by η₀·g_j/√(Σ g_j²) over the run's gradients g_j
            (:mod:`linsgd.engines._adagrad_kernels`).
        power_t: the exponent of "invscaling", > 0 (default 0.25, scikit-learn's).
        max_epochs: the most epochs ``epochs="auto"`` runs (default 100).
        threads: threads of one process, each running SGD with batch ``batch_size`` on its slice of each
            process batch of threads·batch_size examples (:mod:`linsgd.engines.threaded`); 1 (the default of
            ``fit``) keeps the chapter's single trajectory. A small job (:mod:`linsgd._small`) uses one.
        sync_every: K, steps between the averages of the threads' (and ranks') parameters, >= 1, or "auto":
            with threads, the K whose averages cost at most 5 % of the epoch
            (:func:`linsgd.engines.threaded.default_sync_every`), on one thread the ranks' 1.

    ``epochs="auto"``: train until the monitored loss (validation loss, else the training objective) has
    not improved by more than a relative ``tol`` for ``patience`` epochs (default 3), at most
    ``max_epochs``; the best epoch's parameters are returned.
    """

    lr: float | str = "auto"
    epochs: int | str = "auto"
    batch_size: int = 10
    engine: str = "fused"
    seed: int | None = None
    dtype: str = "float32"
    init_std: float = 0.01
    device: str = "cpu"
    solver: str = "auto"
    patience: int | None = None
    tol: float = 1e-5
    max_loss_growth: float | None = 1e3
    average: bool | int | str = "auto"
    penalty: str | None = None
    alpha: float = 1e-4
    l1_ratio: float = 0.15
    loss: str = "squared"
    epsilon: float = 0.1
    quantile: float = 0.5
    schedule: str = "constant"
    power_t: float = 0.25
    max_epochs: int = 100
    threads: int = 1
    sync_every: int | str = "auto"
    solver_reason: str | None = None

    def validate(self) -> TrainConfig:
        """Return self if every field is in range, else raise ConfigError naming the field."""
        lr_ok = self.lr == "auto" if isinstance(self.lr, str) else (
            isinstance(self.lr, numbers.Real) and math.isfinite(self.lr) and self.lr > 0)
        check(lr_ok, "lr", self.lr, "a finite number > 0 or 'auto'")
        check(self.epochs == "auto" if isinstance(self.epochs, str) else is_int(self.epochs) and self.epochs >= 0,
               "epochs", self.epochs, "an integer >= 0 or 'auto'")
        check(is_int(self.batch_size) and self.batch_size >= 1,
               "batch_size", self.batch_size, "an integer >= 1")
        check(self.engine in ENGINES, "engine", self.engine, f"one of {', '.join(ENGINES)}")
        check(self.seed is None or (is_int(self.seed) and 0 <= self.seed < 2**63),
               "seed", self.seed, "an integer in [0, 2**63) or None")
        check(self.dtype in DTYPES, "dtype", self.dtype, f"one of {', '.join(DTYPES)}")
        check(isinstance(self.init_std, numbers.Real) and math.isfinite(self.init_std)
               and self.init_std >= 0, "init_std", self.init_std, "a finite number >= 0")
        check(self.solver in SOLVERS, "solver", self.solver, f"one of {', '.join(SOLVERS)}")
        check(self.solver_reason is None or isinstance(self.solver_reason, str), "solver_reason",
               self.solver_reason, "None or a sentence (filled when solver='auto' is resolved)")
        check(self.max_loss_growth is None or (isinstance(self.max_loss_growth, numbers.Real)
                                                 and self.max_loss_growth > 1),
               "max_loss_growth", self.max_loss_growth, "a number > 1 or None")
        check(self.patience is None or (is_int(self.patience) and self.patience >= 1),
               "patience", self.patience, "an integer >= 1 or None")
        check(isinstance(self.tol, numbers.Real) and math.isfinite(self.tol) and 0 <= self.tol < 1,
               "tol", self.tol, "a relative improvement in [0, 1)")
        self._validate_sgd_extras()
        return self

    def _validate_sgd_extras(self) -> None:
        """Averaging, penalty, schedule and epochs="auto" settings."""
        check(isinstance(self.average, bool) or self.average == "auto" or (
            is_int(self.average) and self.average >= 1), "average", self.average,
            "true, false, auto or a step k >= 1 to average from")
        check(self.penalty in PENALTIES, "penalty", self.penalty, "none, l2, l1 or elasticnet")
        check(finite(self.alpha) and self.alpha >= 0, "alpha", self.alpha, "a finite number >= 0")
        check(finite(self.l1_ratio) and 0 <= self.l1_ratio <= 1, "l1_ratio", self.l1_ratio,
               "a number in [0, 1]")
        check(self.loss in LOSSES, "loss", self.loss, ", ".join(LOSSES))
        check(finite(self.epsilon) and self.epsilon >= 0 and (self.epsilon > 0 or self.loss != "huber"),
               "epsilon", self.epsilon, "a finite number >= 0 (> 0 for huber), in the target's units")
        check(finite(self.quantile) and 0 < self.quantile < 1, "quantile", self.quantile,
               "a number strictly between 0 and 1 (0.5: the median)")
        check(self.schedule in SCHEDULES, "schedule", self.schedule, f"one of {', '.join(SCHEDULES)}")
        check(finite(self.power_t) and self.power_t > 0, "power_t", self.power_t, "a finite number > 0")
        check(is_int(self.max_epochs) and self.max_epochs >= 1, "max_epochs", self.max_epochs,
               "an integer >= 1")
        check(is_int(self.threads) and self.threads >= 1, "threads", self.threads, "an integer >= 1")
        check(self.sync_every == "auto" if isinstance(self.sync_every, str) else (
            is_int(self.sync_every) and self.sync_every >= 1), "sync_every", self.sync_every,
            "an integer >= 1 or 'auto'")

    def average_from(self, steps_per_epoch: int) -> int:
        """The 1-based step from which iterates are averaged (0: no averaging)."""
        if self.average == "auto":
            return steps_per_epoch + 1
        return 0 if self.average is False else 1 if self.average is True else int(self.average)

    @property
    def penalty_weights(self) -> tuple[float, float]:
        """(l1, l2) = (αρ, α(1 − ρ)) of the penalty (0, 0 without one)."""
        rho = {None: None, "l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio}[self.penalty]
        return (0.0, 0.0) if rho is None else (self.alpha * rho, self.alpha * (1.0 - rho))

    @property
    def epoch_budget(self) -> int:
        """Epochs the run may take: ``epochs``, or ``max_epochs`` with ``epochs="auto"``."""
        return self.max_epochs if self.epochs == "auto" else self.epochs

    @property
    def stop_patience(self) -> int | None:
        """Epochs without improvement before the run stops: ``patience``; with "auto" at least one rule."""
        if self.patience is None and self.epochs == "auto":
            return AUTO_PATIENCE
        return self.patience

    def resolved(self) -> TrainConfig:
        """Validate, and draw a fresh seed when none was given, so the run can be repeated."""
        self.validate()
        return self if self.seed is not None else dataclasses.replace(self, seed=draw_seed())

    def to_dict(self) -> dict:
        """The settings as plain JSON-able values (saved with every run)."""
        return dataclasses.asdict(self)
