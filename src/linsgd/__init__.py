"""linsgd: linear regression trained by minibatch SGD, from the d2l chapter to data bigger than memory.

The public API is the names in ``__all__``; they are imported on first use so that ``import linsgd``
(and ``linsgd --help``) stays fast and never imports torch or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from linsgd._version import __version__

_EXPORTS = {
    "fit": "linsgd.sgd.targets",
    "FitResult": "linsgd.sgd.result",
    "TrainConfig": "linsgd.config",
    "make_regression": "linsgd.data.synthetic",
    "epoch_order": "linsgd.data.batching",
    "stable_lr": "linsgd.sgd.lr",
    "auto_lr": "linsgd.sgd.lr",
    "exact": "linsgd.lstsq.multi",
    "path": "linsgd.lstsq.cv",
    "Path": "linsgd.lstsq.path",
    "LeastSquares": "linsgd.lstsq.qr",
    "Solution": "linsgd.lstsq.solution",
    "summarize": "linsgd.lstsq.summary",
    "Summary": "linsgd.lstsq.summary",
    "optimality_gap": "linsgd.lstsq.summary",
    "OptimalityGap": "linsgd.lstsq.summary",
    "LinearRegressor": "linsgd.estimator",
    "LinsgdWarning": "linsgd.errors",
    "ConvergenceWarning": "linsgd.errors",
    "LinsgdError": "linsgd.errors",
    "ConfigError": "linsgd.errors",
    "DataError": "linsgd.errors",
    "DivergenceError": "linsgd.errors",
    "StorageError": "linsgd.errors",
    "LinearModel": "linsgd.model",
    "load_model": "linsgd.model",
    "save_model": "linsgd.model",
    "open_source": "linsgd.data.formats.registry",
    "regression_metrics": "linsgd.metrics",
    "DataConfig": "linsgd.config",
    "fit_file": "linsgd.runs.run",
    "write_run": "linsgd.runs.folder",
}
__all__ = [  # noqa: RUF022 (grouped by topic)
    "fit", "FitResult", "TrainConfig", "make_regression", "epoch_order", "stable_lr",
    "auto_lr", "exact", "path", "Path", "LeastSquares", "Solution", "summarize", "Summary", "optimality_gap",
    "OptimalityGap",
    "LinearRegressor", "LinsgdWarning", "ConvergenceWarning",
    "LinsgdError", "ConfigError", "DataError", "DivergenceError", "StorageError", "__version__",
    "LinearModel", "load_model", "save_model", "open_source", "regression_metrics",
    "DataConfig", "fit_file", "write_run",
]

if TYPE_CHECKING:
    from linsgd.config import DataConfig, TrainConfig
    from linsgd.data.batching import epoch_order
    from linsgd.data.formats.registry import open_source
    from linsgd.data.synthetic import make_regression
    from linsgd.errors import (
        ConfigError,
        ConvergenceWarning,
        DataError,
        DivergenceError,
        LinsgdError,
        LinsgdWarning,
        StorageError,
    )
    from linsgd.estimator import LinearRegressor
    from linsgd.lstsq.cv import path
    from linsgd.lstsq.multi import exact
    from linsgd.lstsq.path import Path
    from linsgd.lstsq.qr import LeastSquares
    from linsgd.lstsq.solution import Solution
    from linsgd.lstsq.summary import OptimalityGap, Summary, optimality_gap, summarize
    from linsgd.metrics import regression_metrics
    from linsgd.model import LinearModel, load_model, save_model
    from linsgd.runs.folder import write_run
    from linsgd.runs.run import fit_file
    from linsgd.sgd.lr import auto_lr, stable_lr
    from linsgd.sgd.result import FitResult
    from linsgd.sgd.targets import fit


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'linsgd' has no attribute {name!r}")
