"""Every training setting as one frozen dataclass, validated in one place.

The CLI and the Python API build the same :class:`TrainConfig`; ``validate`` rejects a bad value with the
parameter's name, the value and the allowed range (:class:`~linsgd.errors.ConfigError`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import secrets
from dataclasses import dataclass

from linsgd.errors import ConfigError

ENGINES = ("fused", "reference")
DTYPES = ("float32", "float64")
SOLVERS = ("sgd", "exact")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one SGD run.

    Args:
        lr: learning rate η > 0 of the update ``θ ← θ − η/|B| · Σ_{i∈B} ∇ℓ_i(θ)``, or ``"auto"``: train
            in standardised coordinates with η from their curvature (:func:`linsgd.curvature.auto_lr`).
        epochs: passes over the data (0 trains nothing and returns the initial parameters).
        batch_size: minibatch size B ≥ 1; the last batch of an epoch may be shorter and is normalised
            by its real size.
        engine: ``"fused"`` (compiled kernels) or ``"reference"`` (the chapter's torch autograd code).
        seed: seed of initialisation and epoch order; ``None`` draws one (see :meth:`resolved`).
        dtype: ``"float32"`` (the chapter's) or ``"float64"``.
        init_std: standard deviation of the initial weights, ``w ~ N(0, init_std²)``, ``b = 0``.
        device: torch device of the reference engine (``"cpu"``, ``"cuda"``).
        solver: ``"sgd"`` (the chapter's) or ``"exact"`` (least squares in one pass, :mod:`linsgd.solve`).
        patience: early stopping: stop after this many epochs without an improvement of the monitored
            loss by more than ``tol`` (None: train all epochs). tol: that improvement, >= 0.
        max_loss_growth: divergence guard: stop with DivergenceError when an epoch's full-data loss exceeds
            this factor times the best earlier epoch's (None: only inf/nan count). A too-large lr makes the
            loss grow by orders of magnitude per epoch long before float32 overflows (the chapter's lr = 2
            reaches ~1e30 in 3 epochs); stable SGD never grows it by more than a few times.
    """

    lr: float | str = 0.03
    epochs: int = 3
    batch_size: int = 10
    engine: str = "fused"
    seed: int | None = None
    dtype: str = "float32"
    init_std: float = 0.01
    device: str = "cpu"
    solver: str = "sgd"
    patience: int | None = None
    tol: float = 0.0
    max_loss_growth: float | None = 1e3

    def validate(self) -> TrainConfig:
        """Return self if every field is in range, else raise ConfigError naming the field."""
        lr_ok = self.lr == "auto" if isinstance(self.lr, str) else (
            isinstance(self.lr, numbers.Real) and math.isfinite(self.lr) and self.lr > 0)
        _check(lr_ok, "lr", self.lr, "a finite number > 0 or 'auto'")
        _check(_is_int(self.epochs) and self.epochs >= 0, "epochs", self.epochs, "an integer >= 0")
        _check(_is_int(self.batch_size) and self.batch_size >= 1,
               "batch_size", self.batch_size, "an integer >= 1")
        _check(self.engine in ENGINES, "engine", self.engine, f"one of {', '.join(ENGINES)}")
        _check(self.seed is None or (_is_int(self.seed) and 0 <= self.seed < 2**63),
               "seed", self.seed, "an integer in [0, 2**63) or None")
        _check(self.dtype in DTYPES, "dtype", self.dtype, f"one of {', '.join(DTYPES)}")
        _check(isinstance(self.init_std, numbers.Real) and math.isfinite(self.init_std)
               and self.init_std >= 0, "init_std", self.init_std, "a finite number >= 0")
        _check(self.solver in SOLVERS, "solver", self.solver, f"one of {', '.join(SOLVERS)}")
        _check(self.max_loss_growth is None or (isinstance(self.max_loss_growth, numbers.Real)
                                                 and self.max_loss_growth > 1),
               "max_loss_growth", self.max_loss_growth, "a number > 1 or None")
        _check(self.patience is None or (_is_int(self.patience) and self.patience >= 1),
               "patience", self.patience, "an integer >= 1 or None")
        _check(isinstance(self.tol, numbers.Real) and math.isfinite(self.tol) and self.tol >= 0,
               "tol", self.tol, "a finite number >= 0")
        return self

    def resolved(self) -> TrainConfig:
        """Validate, and draw a fresh seed when none was given, so the run can be repeated."""
        self.validate()
        return self if self.seed is not None else dataclasses.replace(self, seed=draw_seed())

    def to_dict(self) -> dict:
        """The settings as plain JSON-able values (saved with every run)."""
        return dataclasses.asdict(self)


def draw_seed() -> int:
    """A fresh 32-bit seed from the OS (short enough to type back in with --seed)."""
    return secrets.randbits(32)


def _is_int(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _check(ok: bool, param: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(param, value, allowed)


ON_BAD_ROWS = ("error", "skip")
MAX_MEMORY = 1 << 60  # bytes: beyond any machine; larger numbers overflow the sizes computed from it
MAX_CHUNK_BYTES = 1 << 30  # pyarrow's CSV block size is a 32-bit integer


@dataclass(frozen=True)
class DataConfig:
    """How a data file is read, validated, split and held in memory (``linsgd train``, ``fit_file``).

    Args:
        target: the target column. features: the feature columns (None: every other numeric one).
        val_fraction: share of rows held out for validation, in [0, 1), split by the training seed.
        standardize: train on standardised features (coefficients are reported on the raw scale).
        max_memory: bytes the rows may take in memory (None: a quarter of RAM); beyond it, training
            streams them from temporary files in ``tmp_dir`` (None: the system's temporary folder).
        on_bad_rows: "error" (stop at the first bad row) or "skip" (drop and count bad rows).
        chunk_bytes: bytes of values read per chunk.
    """

    target: str
    features: tuple[str, ...] | None = None
    val_fraction: float = 0.0
    standardize: bool = False
    max_memory: int | None = None
    on_bad_rows: str = "error"
    chunk_bytes: int = 4 << 20
    tmp_dir: str | None = None

    def validate(self) -> DataConfig:
        """Return self if every field is in range, else raise ConfigError naming the field."""
        _check(isinstance(self.target, str) and self.target != "", "target", self.target, "a column name")
        _check(self.features is None or (len(self.features) > 0
                                         and all(isinstance(c, str) and c for c in self.features)),
               "features", self.features, "None or a non-empty list of column names")
        if self.features is not None:
            twice = sorted({c for c in self.features if self.features.count(c) > 1})
            _check(not twice, "features", ",".join(self.features),
                   f"each column once ({', '.join(repr(c) for c in twice)} listed more than once)")
        _check(isinstance(self.val_fraction, numbers.Real) and 0 <= self.val_fraction < 1,
               "val_fraction", self.val_fraction, "a number in [0, 1)")
        _check(self.max_memory is None or (_is_int(self.max_memory) and 0 < self.max_memory <= MAX_MEMORY),
               "max_memory", self.max_memory, "None or a number of bytes in [1, 2**60] (e.g. 512M, 2G)")
        _check(self.on_bad_rows in ON_BAD_ROWS, "on_bad_rows", self.on_bad_rows, f"one of {', '.join(ON_BAD_ROWS)}")
        _check(_is_int(self.chunk_bytes) and 0 < self.chunk_bytes <= MAX_CHUNK_BYTES, "chunk_bytes",
               self.chunk_bytes, "a number of bytes in [1, 1G] (e.g. 4M, 64M)")
        return self

    def to_dict(self) -> dict:
        """The settings as plain JSON-able values (saved with every run)."""
        d = dataclasses.asdict(self)
        d["features"] = list(self.features) if self.features is not None else None
        return d
