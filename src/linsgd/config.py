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


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one SGD run.

    Args:
        lr: learning rate η > 0 of the update ``θ ← θ − η/|B| · Σ_{i∈B} ∇ℓ_i(θ)``.
        epochs: passes over the data (0 trains nothing and returns the initial parameters).
        batch_size: minibatch size B ≥ 1; the last batch of an epoch may be shorter and is normalised
            by its real size.
        engine: ``"fused"`` (compiled kernels) or ``"reference"`` (the chapter's torch autograd code).
        seed: seed of initialisation and epoch order; ``None`` draws one (see :meth:`resolved`).
        dtype: ``"float32"`` (the chapter's) or ``"float64"``.
        init_std: standard deviation of the initial weights, ``w ~ N(0, init_std²)``, ``b = 0``.
        device: torch device of the reference engine (``"cpu"``, ``"cuda"``).
        patience: early stopping: stop after this many epochs without an improvement of the monitored
            loss by more than ``tol`` (None: train all epochs). tol: that improvement, >= 0.
    """

    lr: float = 0.03
    epochs: int = 3
    batch_size: int = 10
    engine: str = "fused"
    seed: int | None = None
    dtype: str = "float32"
    init_std: float = 0.01
    device: str = "cpu"
    patience: int | None = None
    tol: float = 0.0

    def validate(self) -> TrainConfig:
        """Return self if every field is in range, else raise ConfigError naming the field."""
        _check(isinstance(self.lr, numbers.Real) and math.isfinite(self.lr) and self.lr > 0,
               "lr", self.lr, "a finite number > 0")
        _check(_is_int(self.epochs) and self.epochs >= 0, "epochs", self.epochs, "an integer >= 0")
        _check(_is_int(self.batch_size) and self.batch_size >= 1,
               "batch_size", self.batch_size, "an integer >= 1")
        _check(self.engine in ENGINES, "engine", self.engine, f"one of {', '.join(ENGINES)}")
        _check(self.seed is None or (_is_int(self.seed) and 0 <= self.seed < 2**63),
               "seed", self.seed, "an integer in [0, 2**63) or None")
        _check(self.dtype in DTYPES, "dtype", self.dtype, f"one of {', '.join(DTYPES)}")
        _check(isinstance(self.init_std, numbers.Real) and math.isfinite(self.init_std)
               and self.init_std >= 0, "init_std", self.init_std, "a finite number >= 0")
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
