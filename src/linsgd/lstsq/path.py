"""The regularisation path: the elastic-net optimum for many α from one streamed factor, no further pass.

For a decreasing grid α₁ > α₂ > … the objective of :mod:`linsgd.lstsq.penalized` (scikit-learn's
``ElasticNet`` / ``enet_path``)::

    F_α(w, b) = 1/(2W) Σ w_i (x_i·w + b − y_i)²  +  α (ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²)

is minimised at each α by coordinate descent on G = RxxᵀRxx/W, c = Rxxᵀr/W (the streamed factor of the
centred [X y]), started from the previous α's answer (a *warm start*: neighbouring optima are close, so a
few sweeps find the active set) and finished by the exact solve on the active set. The cost is one pass
over the rows for the factor, then O(d²) per sweep whatever the number of rows: out of core the whole path
costs about one exact solve.

The default grid is scikit-learn's: ``n_alphas`` values spaced evenly in log from α_max = max_j |c_j| / ρ
(the smallest α whose optimum is w = 0) down to ``eps``·α_max. scikit-learn refuses the automatic grid for
ρ = 0 (ridge: no α gives w = 0); here α_max is then computed with ρ = 0.001, glmnet's convention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linsgd.errors import ConfigError
from linsgd.lstsq.design import check_design
from linsgd.lstsq.linalg import solve_triangular
from linsgd.lstsq.penalized import check_penalty, solve_penalized

RIDGE_GRID_RATIO = 1e-3  # ρ used for α_max when ρ = 0 (glmnet's convention; scikit-learn has none)


@dataclass(frozen=True)
class Path:
    """The optimum at every α of a grid (and, after cross-validation, the α chosen).

    Attributes:
        alphas: (k,) the grid, decreasing. l1_ratio: ρ. coefs: (d, k), column j the w at alphas[j]
            (scikit-learn's ``enet_path`` layout). intercepts: (k,) b at each α. feature_names: d names.
        mse: (k, K) the validation mean squared error (ŷ − y)² of each α on each of K folds (scikit-learn's
            ``mse_path_``), or None without cross-validation.
    """

    alphas: np.ndarray
    l1_ratio: float
    coefs: np.ndarray
    intercepts: np.ndarray
    feature_names: list[str]
    mse: np.ndarray | None = None

    @property
    def folds(self) -> int:
        """K, the number of folds (0 without cross-validation)."""
        return 0 if self.mse is None else self.mse.shape[1]

    @property
    def best_index(self) -> int:
        """The grid index of the α of least mean validation error over the folds (the first of ties, i.e.
        the largest α, as scikit-learn's ``ElasticNetCV``)."""
        if self.mse is None:
            raise ValueError("this path was not cross-validated: pass cv=K to linsgd.path")
        return int(np.argmin(self.mse.mean(axis=1)))

    @property
    def alpha(self) -> float:
        """The α chosen by cross-validation (scikit-learn's ``alpha_``)."""
        return float(self.alphas[self.best_index])

    @property
    def w(self) -> np.ndarray:
        """The coefficients at the chosen α, refitted on all rows (scikit-learn's ``coef_``)."""
        return self.coefs[:, self.best_index].copy()

    @property
    def b(self) -> float:
        """The intercept at the chosen α."""
        return float(self.intercepts[self.best_index])


def alpha_grid(state, l1_ratio: float, n_alphas: int = 100, eps: float = 1e-3) -> np.ndarray:
    """scikit-learn's default grid for the rows of ``state`` (a :class:`~linsgd.lstsq.qr.LeastSquares`):
    ``n_alphas`` values from α_max down to ``eps``·α_max, evenly spaced in log, decreasing.

    Raises:
        ConfigError: ``n_alphas`` < 1 or ``eps`` outside (0, 1].
    """
    if not (isinstance(n_alphas, int) and n_alphas >= 1):
        raise ConfigError("n_alphas", n_alphas, "an integer >= 1")
    if not (isinstance(eps, float | int) and 0 < eps <= 1):
        raise ConfigError("eps", eps, "a number in (0, 1]")
    Rxx, rxy = _factor(state)
    c = Rxx.T @ rxy / state.weight
    alpha_max = float(np.abs(c).max(initial=0.0)) / max(l1_ratio, RIDGE_GRID_RATIO)
    if alpha_max <= np.finfo(float).resolution:  # y constant (or no spread): scikit-learn's answer
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def solve_path(state, alphas, l1_ratio: float, feature_names: Sequence[str]) -> Path:
    """The optimum at every α of ``alphas`` (any order; solved largest first, each warm-started from the
    previous) from the streamed state, with no pass over the rows.

    Raises:
        ConfigError: an α < 0 or not finite, ρ outside [0, 1], or no α at all.
        DataError: α = 0 on a design without a unique least-squares solution (names the column).
    """
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if len(alphas) == 0:
        raise ConfigError("alphas", "[]", "at least one alpha >= 0")
    for a in alphas:
        check_penalty(float(a), l1_ratio)
    d, W = state.n_features, state.weight
    Rxx, rxy = _factor(state)
    gram = (Rxx.T @ Rxx / W, Rxx.T @ rxy / W)
    coefs, w = np.zeros((d, len(alphas))), np.zeros(d)
    for j in np.argsort(-alphas, kind="stable"):
        if alphas[j] == 0:
            check_design(state, list(feature_names))
            w = solve_triangular(Rxx, rxy)
        else:
            w = solve_penalized(Rxx, rxy, W, float(alphas[j]), l1_ratio, start=w, gram=gram)
        coefs[:, j] = w
    mean = state.mean
    intercepts = mean[d] - mean[:d] @ coefs if state.fit_intercept else np.zeros(len(alphas))
    return Path(alphas, float(l1_ratio), coefs, intercepts, list(feature_names))


def squared_errors(state, coefs: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """Σ w_i (y_i − x_i·w − b)² over the rows of ``state`` for every column (w, b) of a path, from the
    state alone: with v = [−w; 1] and the rows' factor R and mean μ, it is ‖Rv‖² + W(μ·v − b)² (the first term
    alone for a state without an intercept, whose R is of the raw rows).
    """
    d = state.n_features
    R = np.zeros((max(len(state.R), 1), d + 1))
    R[:len(state.R)] = state.R
    V = np.vstack([-coefs, np.ones((1, coefs.shape[1]))])
    sse = np.sum((R @ V) ** 2, axis=0)
    if state.fit_intercept:
        sse = sse + state.weight * (state.mean @ V - intercepts) ** 2
    return sse


def _factor(state) -> tuple[np.ndarray, np.ndarray]:
    """(Rxx, rxy) of the state, R padded to square when there are fewer rows than columns."""
    d = state.n_features
    R = np.zeros((max(len(state.R), d + 1), d + 1))
    R[:len(state.R)] = state.R
    return R[:d, :d], R[:d, d]

