"""Several targets by SGD: ``linsgd.fit(X, Y)`` with Y of shape (n, k).

With the squared loss the k columns of W = [w₁ … w_k] never meet: the gradient of target j's loss involves
only w_j, b_j and y_j, so one run of a (d, k) parameter over an epoch order is, column by column, the k runs of
one target over the same order. That is how it runs here — k single-target runs with one seed (so one order
of rows, and one initialisation) — which keeps every engine, schedule, penalty and the stopping rule as they
are. The exact solve of the k targets is one pass over [X Y] (:mod:`linsgd.lstsq.multi`). Losses other
than squared and ``scipy.sparse`` X are single-target only and refused in one line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from linsgd.config import draw_seed
from linsgd.data.formula import frame_design
from linsgd.data.formula_text import parse
from linsgd.data.sparse_input import is_sparse
from linsgd.errors import ConfigError, DataError
from linsgd.sgd.convergence import warn_if_not_converged
from linsgd.sgd.fit import fit as fit_one
from linsgd.sgd.fit import gap_of, train
from linsgd.sgd.result import FitResult


@dataclass
class MultiFit:
    """k fits sharing X: ``results[j]`` is target j's :class:`FitResult` (same seed, same order of rows);
    ``w`` (d, k) and ``b`` (k,) stack their parameters; ``target_names`` name the columns of Y."""

    results: list[FitResult]
    target_names: list[str]

    @property
    def w(self) -> np.ndarray:
        return np.column_stack([r.w for r in self.results])

    @property
    def b(self) -> np.ndarray:
        return np.array([r.b for r in self.results])

    @property
    def seed(self) -> int:
        return self.results[0].seed

    def predict(self, X) -> np.ndarray:
        """Ŷ = X W + b, shape (n, k)."""
        return np.asarray(X, dtype=np.float64) @ self.w + self.b


def _formula_rows(frame, y, formula: str):
    """The design (a DataFrame named by formulaic's columns) and the target(s) of ``formula`` on ``frame``."""
    if y is not None or not hasattr(frame, "columns"):
        raise ConfigError("formula", formula, "a formula with X a DataFrame holding its columns and y None (the "
                          "formula names the target)")
    import pandas as pd

    parsed = parse(formula)
    absent = [c for c in (*parsed.targets, *parsed.variables) if c not in frame.columns]
    if absent:
        raise DataError(f"formula {formula!r}: the DataFrame has no column '{absent[0]}'")
    X, names, _ = frame_design(parsed.rhs, frame[list(parsed.variables)])
    targets = frame[list(parsed.targets)]
    return pd.DataFrame(X, columns=names), targets.iloc[:, 0] if len(parsed.targets) == 1 else targets


def check_targets(y, *, loss: str = "squared", sparse: bool = False) -> int:
    """k, the number of targets of a 2-D y (n, k); ConfigError/DataError for what cannot take several."""
    k = np.shape(y)[1]
    if k == 0:
        raise DataError("y has no column: give y of shape (n,) or (n, k) with k >= 1")
    if loss != "squared":
        raise ConfigError("loss", loss, "squared with several targets (fit each target alone for another loss)")
    if sparse:
        raise DataError("several targets need a dense X: fit each target alone on a sparse X")
    return k


def fit(X, y=None, *, formula: str | None = None, **settings):
    """:func:`linsgd.sgd.fit.fit`, and for a 2-D ``y`` (n, k) with k > 1 a :class:`MultiFit` of the k targets
    (one seed, drawn once when none is given, so every target sees the same order of rows).

    ``formula``: ``"price ~ area * rooms + C(city)"`` with X a pandas DataFrame holding every column it names
    and y None: the design is formulaic's on X (:func:`linsgd.data.formula.frame_design`; its columns name the
    coefficients), the target the left side (``"a + b ~ …"``: several). To predict new rows by name, use
    ``fit_file``'s model or ``LinearRegressor(formula=…)``, which carry the formula.

    Example:
        >>> from linsgd.data.synthetic import make_regression
        >>> X, y = make_regression(1000, [2, -3.4], 4.2, seed=1)
        >>> m = fit(X, np.column_stack([y, 1 - y]), seed=1, solver="exact")
        >>> np.round(m.b, 1).tolist()
        [4.2, -3.2]
    """
    if formula is not None:
        X, y = _formula_rows(X, y, formula)
    if np.ndim(y) != 2 or np.shape(y)[1] == 1:
        return fit_one(X, y, **settings)
    check_targets(y, loss=settings.get("loss", "squared"), sparse=is_sparse(X))
    names = [str(c) for c in y.columns] if hasattr(y, "columns") else [f"y{j + 1}" for j in range(np.shape(y)[1])]
    Y = np.asarray(y)
    settings = dict(settings, seed=draw_seed() if settings.get("seed") is None else settings["seed"])
    results = [fit_one(X, Y[:, j], **settings) for j in range(Y.shape[1])]
    return MultiFit(results, names)


def train_targets(X: np.ndarray, Y: np.ndarray, config, weight, names, warning) -> list[FitResult]:
    """The k single-target :func:`~linsgd.sgd.fit.train` runs of ``config`` (one seed) on the columns of Y,
    each checked for convergence against its exact solution (``warning``: the class to warn with)."""
    results = []
    for j in range(Y.shape[1]):
        y = Y[:, j].astype(X.dtype)
        r = train(X, y, config, weight=weight, names=names)
        warn_if_not_converged(r, gap_of(X, y, dataclasses.replace(r, feature_names=names), weight), warning,
                              se_rule=True)
        results.append(r)
    return results
