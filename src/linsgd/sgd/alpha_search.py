"""``--alpha auto``: the penalty's α chosen by K-fold cross-validation on a data view, in one pass.

The training rows (in memory or streamed) are read once into one least-squares state per fold
(:mod:`linsgd.lstsq.cv`: K folds of consecutive rows, scikit-learn's ``KFold(K)``), on the raw feature scale
the penalised objective is defined on; the path of scikit-learn's default grid (100 values of α) is solved
on every fold's complement and scored on the fold, and the α of least mean validation error is the one the
run then trains with (``ElasticNetCV``'s choice on the same rows).
"""

from __future__ import annotations

import math

import numpy as np

from linsgd.data.views import InMemory, Streamed
from linsgd.errors import ConfigError
from linsgd.lstsq.cv import cross_validate, fold_bounds, fold_states
from linsgd.lstsq.path import Path, alpha_grid
from linsgd.lstsq.penalized import penalty_of
from linsgd.lstsq.qr import merge_all
from linsgd.sgd.exact_fit import weighted_rows

NEEDS_PENALTY = "a penalty to tune: --penalty l1, l2 or elasticnet (with --l1-ratio)"


def choose_alpha(data, config, folds: int, names: list[str], standardizer=None) -> Path:
    """The cross-validated path of ``data`` (a view of one process) for ``config``'s penalty.

    Args:
        data: an :class:`~linsgd.data.views.InMemory` or :class:`~linsgd.data.views.Streamed` view.
        config: the TrainConfig; its ``penalty`` and ``l1_ratio`` fix ρ (its ``alpha`` is what is chosen).
        folds: K >= 2. names: the encoded features' names. standardizer: the view's standardisation
            (None: raw), undone so that α is that of the raw objective.

    Returns:
        :class:`~linsgd.lstsq.path.Path` with ``mse`` and the chosen ``alpha``.

    Raises:
        ConfigError: no penalty, K < 2, or a view split between ranks. DataError: fewer rows than folds.
    """
    if config.penalty is None:
        raise ConfigError("alpha", "auto", NEEDS_PENALTY)
    if not isinstance(data, InMemory | Streamed):
        raise ConfigError("alpha", "auto", "one process: under torchrun, choose alpha first on one process and "
                                            "pass the number")
    _, l1_ratio = penalty_of(config, alpha=0.0)
    bounds = fold_bounds(data.n, folds)
    rows = ((X if standardizer is None else np.asarray(X, np.float64) * standardizer.scale + standardizer.mean,
             y, v) for X, y, v in weighted_rows(data))
    states = fold_states(rows, bounds, len(names))
    return cross_validate(states, alpha_grid(merge_all(states), l1_ratio), l1_ratio, names)


def cv_metrics(path: Path) -> dict:
    """What the run folder keeps of the cross-validation: K, ρ, the chosen α and the curve (JSON values)."""
    mean = path.mse.mean(axis=1)
    return {"folds": path.folds, "l1_ratio": path.l1_ratio, "alpha": path.alpha,
            "alphas": [float(a) for a in path.alphas], "mean_mse": [_json(m) for m in mean],
            "sd_mse": [_json(s) for s in path.mse.std(axis=1)]}


def cv_lines(path: Path) -> list[str]:
    """The chosen α and the curve in words: every tenth α of the grid and the chosen one."""
    mean, k = path.mse.mean(axis=1), path.best_index
    lines = [f"alpha chosen by {path.folds}-fold cross-validation: {path.alpha:.6g} (l1_ratio {path.l1_ratio:g}; "
             f"{len(path.alphas)} alphas from {path.alphas.max():.4g} down to {path.alphas.min():.4g}); "
             f"mean validation MSE {mean[k]:.6g}, {int(np.count_nonzero(path.w))} nonzero coefficients",
             "  alpha        mean validation MSE (over folds)"]
    shown = sorted(set(range(0, len(mean), max(1, len(mean) // 10))) | {k, len(mean) - 1})
    lines += [f"  {path.alphas[i]:<12.5g} {mean[i]:.6g}{'  <- chosen' if i == k else ''}" for i in shown]
    if k == len(mean) - 1 and len(mean) > 1:
        lines.append("note: the chosen alpha is the smallest of the grid: the validation error may go on falling "
                     "below it, towards the unpenalised fit (try --penalty none)")
    return lines


def _json(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None
