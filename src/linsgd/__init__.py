"""linsgd: linear regression trained by minibatch SGD, from the d2l chapter to data bigger than memory.

The public API is the names in ``__all__``; they are imported on first use so that ``import linsgd``
(and ``linsgd --help``) stays fast and never imports torch or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "fit": "linsgd.train",
    "FitResult": "linsgd.train",
    "TrainConfig": "linsgd.config",
    "make_regression": "linsgd.data.synthetic",
    "epoch_order": "linsgd.data.batching",
    "stable_lr": "linsgd.curvature",
    "auto_lr": "linsgd.curvature",
    "exact": "linsgd.solve",
    "LeastSquares": "linsgd.solve",
    "Solution": "linsgd.solve",
    "summarize": "linsgd.summary",
    "Summary": "linsgd.summary",
    "optimality_gap": "linsgd.summary",
    "OptimalityGap": "linsgd.summary",
    "LinearRegressor": "linsgd.estimator",
    "LinsgdWarning": "linsgd.errors",
    "LinsgdError": "linsgd.errors",
    "ConfigError": "linsgd.errors",
    "DataError": "linsgd.errors",
    "DivergenceError": "linsgd.errors",
    "StorageError": "linsgd.errors",
    "LinearModel": "linsgd.model",
    "load_model": "linsgd.model",
    "save_model": "linsgd.model",
    "open_source": "linsgd.data.sources",
    "regression_metrics": "linsgd.metrics",
    "DataConfig": "linsgd.config",
    "fit_file": "linsgd.runs",
    "write_run": "linsgd.runs",
}
__all__ = [  # noqa: RUF022 (grouped by topic)
    "fit", "FitResult", "TrainConfig", "make_regression", "epoch_order", "stable_lr",
    "auto_lr", "exact", "LeastSquares", "Solution", "summarize", "Summary", "optimality_gap", "OptimalityGap",
    "LinearRegressor", "LinsgdWarning",
    "LinsgdError", "ConfigError", "DataError", "DivergenceError", "StorageError", "__version__",
    "LinearModel", "load_model", "save_model", "open_source", "regression_metrics",
    "DataConfig", "fit_file", "write_run",
]

if TYPE_CHECKING:
    from linsgd.config import DataConfig, TrainConfig
    from linsgd.curvature import auto_lr, stable_lr
    from linsgd.data.batching import epoch_order
    from linsgd.data.sources import open_source
    from linsgd.data.synthetic import make_regression
    from linsgd.errors import ConfigError, DataError, DivergenceError, LinsgdError, LinsgdWarning, StorageError
    from linsgd.estimator import LinearRegressor
    from linsgd.metrics import regression_metrics
    from linsgd.model import LinearModel, load_model, save_model
    from linsgd.runs import fit_file, write_run
    from linsgd.solve import LeastSquares, Solution, exact
    from linsgd.summary import OptimalityGap, Summary, optimality_gap, summarize
    from linsgd.train import FitResult, fit


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'linsgd' has no attribute {name!r}")
