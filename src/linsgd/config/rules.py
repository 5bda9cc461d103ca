"""The checks every setting goes through: one ConfigError per bad value, naming the parameter, the value and
the allowed range; and the seed drawn when none is given."""

from __future__ import annotations

import math
import numbers
import secrets

from linsgd.errors import ConfigError


def draw_seed() -> int:
    """A fresh 32-bit seed from the OS (short enough to type back in with --seed)."""
    return secrets.randbits(32)


def finite(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check(ok: bool, param: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(param, value, allowed)
