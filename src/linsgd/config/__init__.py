"""Every setting as a frozen dataclass, validated in one place.

The CLI and the Python API build the same :class:`TrainConfig` (training, :mod:`linsgd.config.train`) and
:class:`DataConfig` (reading a file, :mod:`linsgd.config.data`); ``validate`` rejects a bad value with the
parameter's name, the value and the allowed range (:class:`~linsgd.errors.ConfigError`,
:mod:`linsgd.config.rules`).
"""

from __future__ import annotations

from linsgd.config.data import (
    MAX_CHUNK_BYTES,
    MAX_HASH_BITS,
    MAX_MEMORY,
    MISSING,
    ON_BAD_ROWS,
    DataConfig,
    default_max_memory,
)
from linsgd.config.rules import draw_seed
from linsgd.config.train import (
    AUTO_PATIENCE,
    CHAPTER,
    DTYPES,
    ENGINES,
    LOSSES,
    PENALTIES,
    SCHEDULES,
    SOLVERS,
    TrainConfig,
)

__all__ = ["AUTO_PATIENCE", "CHAPTER", "DTYPES", "ENGINES", "LOSSES", "MAX_CHUNK_BYTES", "MAX_HASH_BITS", "MAX_MEMORY",
           "MISSING", "ON_BAD_ROWS", "PENALTIES", "SCHEDULES", "SOLVERS", "DataConfig", "TrainConfig",
           "default_max_memory", "draw_seed"]
