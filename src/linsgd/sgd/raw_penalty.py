"""The penalty one name stands for: scikit-learn's ElasticNet penalty of the raw coefficients, whatever the
scale training runs on.

``lr="auto"`` and ``--standardize`` train on z_j = (x_j − μ_j)/s_j for conditioning; the model z·w_z + b
is x·(w_z/s) + …, so the documented penalty α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²) of the raw coefficients w = w_z/s is,
per standardised coefficient, α(ρ|w_z,j|/s_j + (1−ρ)/2 · w_z,j²/s_j²): a proximal step with l1_j = αρ/s_j
and l2_j = α(1−ρ)/s_j² (:mod:`linsgd.engines.rule`). Every lr and solver then minimises one objective.
"""

from __future__ import annotations

import numpy as np

from linsgd.config import TrainConfig


def penalty_weights(config: TrainConfig, penalty_scale=None):
    """(l1, l2) of the proximal step: (αρ, α(1 − ρ)) on raw features; on features standardised with scales
    s (``penalty_scale``), per coefficient (αρ/s_j, α(1 − ρ)/s_j²), so that the penalty of the standardised
    w_j is the documented one of the raw coefficient w_j/s_j: one objective whatever the scale trained on.

    >>> from linsgd.config import TrainConfig
    >>> penalty_weights(TrainConfig(penalty="elasticnet", alpha=0.5, l1_ratio=0.5), np.array([1.0, 2.0]))
    ((0.25, 0.125), (0.25, 0.0625))
    """
    l1, l2 = config.penalty_weights
    if penalty_scale is None or not (l1 or l2):
        return l1, l2
    s = np.asarray(penalty_scale, dtype=np.float64)
    return tuple((l1 / s).tolist()), tuple((l2 / s**2).tolist())


def penalty_value(w: np.ndarray, config: TrainConfig, penalty_scale=None) -> float:
    """α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²) of the raw-scale coefficients (w/s with ``penalty_scale`` s), the penalty
    term of the objective (0 without a penalty)."""
    l1, l2 = config.penalty_weights
    if not (l1 or l2):
        return 0.0
    w = np.asarray(w, dtype=np.float64)
    if penalty_scale is not None:
        w = w / np.asarray(penalty_scale, dtype=np.float64)
    return float((l1 * np.abs(w).sum() if l1 else 0.0) + 0.5 * l2 * (w @ w))  # an L2 run: no |w| temporary
