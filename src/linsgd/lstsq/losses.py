"""The regression losses beyond least squares, with scikit-learn's definitions, and their objective.

With the residual r = y − ŷ (ŷ = x·w + b)::

    squared               ½ r²
    huber                 ½ r²  where |r| ≤ ε,   ε|r| − ½ε²  elsewhere            (SGDRegressor's, ε in y's units)
    epsilon_insensitive   max(|r| − ε, 0)                                          (SGDRegressor's, LinearSVR's)
    quantile              max(q r, (q − 1) r),  q ∈ (0, 1)                         (QuantileRegressor's pinball)

and the objective of a fit is their mean, weighted by the sample weights s_i and normalised by W = Σ s_i,
plus scikit-learn's elastic-net penalty (:mod:`linsgd.lstsq.penalized`)::

    F(w, b) = 1/W Σ s_i L(y_i − x_i·w − b)  +  α (ρ‖w‖₁ + (1 − ρ)/2 ‖w‖²)

scikit-learn scales some of these differently; the mappings are stated where the solvers are
(:mod:`linsgd.lstsq.robust`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from linsgd.config import LOSSES
from linsgd.errors import ConfigError
from linsgd.lstsq.penalized import penalty

EPSILON = 0.1  # scikit-learn SGDRegressor's default ε for huber and epsilon_insensitive
QUANTILE = 0.5  # QuantileRegressor's default: the median


def check_loss(loss: str, epsilon: float = EPSILON, quantile: float = QUANTILE) -> tuple[str, float, float]:
    """``(loss, ε, q)`` when the loss is known, ε ≥ 0 is finite (ε > 0 for huber) and q ∈ (0, 1).

    Raises:
        ConfigError: naming ``loss``, ``epsilon`` or ``quantile``.
    """
    if loss not in LOSSES:
        raise ConfigError("loss", loss, " | ".join(LOSSES))
    if not (isinstance(epsilon, numbers.Real) and math.isfinite(epsilon) and epsilon >= 0
            and (epsilon > 0 or loss != "huber")):
        raise ConfigError("epsilon", epsilon, "a finite number >= 0 (> 0 for huber), in the target's units")
    if not (isinstance(quantile, numbers.Real) and 0 < quantile < 1):
        raise ConfigError("quantile", quantile, "a number strictly between 0 and 1 (0.5: the median)")
    return loss, float(epsilon), float(quantile)


def describe_loss(loss: str, epsilon: float, quantile: float) -> str:
    """The loss in words for reports, e.g. ``huber (epsilon 1.35)``."""
    extra = {"huber": f" (epsilon {epsilon:g})", "epsilon_insensitive": f" (epsilon {epsilon:g})",
             "quantile": f" (quantile {quantile:g})"}.get(loss, "")
    return f"{loss}{extra}"


def loss_values(r: np.ndarray, loss: str, epsilon: float = EPSILON, quantile: float = QUANTILE) -> np.ndarray:
    """L(r) for each residual r = y − ŷ (the table in the module docstring)."""
    r = np.asarray(r, dtype=np.float64)
    a = np.abs(r)
    if loss == "squared":
        return 0.5 * r * r
    if loss == "huber":
        return np.where(a <= epsilon, 0.5 * r * r, epsilon * a - 0.5 * epsilon * epsilon)
    if loss == "epsilon_insensitive":
        return np.maximum(a - epsilon, 0.0)
    return np.maximum(quantile * r, (quantile - 1.0) * r)


def objective(X, y, w, b: float, *, loss: str, epsilon: float = EPSILON, quantile: float = QUANTILE,
              alpha: float = 0.0, l1_ratio: float = 0.0, sample_weight=None) -> float:
    """F(w, b) of the module docstring on the rows (X, y) with weights s (None: 1 each)."""
    r = np.asarray(y, dtype=np.float64) - (np.asarray(X, dtype=np.float64) @ np.asarray(w, np.float64) + b)
    values = loss_values(r, loss, epsilon, quantile)
    data = float(values.mean()) if sample_weight is None else float(np.average(values, weights=sample_weight))
    return data + penalty(w, alpha, l1_ratio)
