"""The update rule of one SGD step: step size schedule, proximal penalty, sample weights and averaging.

Every engine applies the same rule (the numba kernels, their NumPy twin and the torch reference). For
step t (0-based, counted from the start of the run) over batch B with residuals r_i = x_i·w + b − y_i
and sample weights v_i (normalised to mean 1 over the data, all 1 without weights):

1. **step size** η_t (:meth:`StepRule.lr_at`): ``constant`` η₀; ``invscaling`` η₀ / (1 + t)^p
   (scikit-learn's ``eta0 / t^power_t``, shifted so that step 0 takes η₀; p = ``power_t``, default 0.25,
   scikit-learn's default: slow enough that the stable η₀ of ``lr="auto"`` is not lost in the first
   epoch); ``cosine`` η₀ · ½(1 + cos(π t / T)) over the run's T steps; ``adagrad`` (sparse X only, no
   penalty; :mod:`linsgd.engines._adagrad_kernels`): the step of coordinate j is η₀/√G_j, G_j the sum of
   its squared batch gradients so far (this one included); :meth:`StepRule.lr_at` gives η₀.
2. **gradient step** on the data term ``(1/2n) Σ v_i r_i²``:
   ``w' = w − η_t/|B| · Σ_{i∈B} v_i r_i x_i``, ``b ← b − η_t/|B| · Σ_{i∈B} v_i r_i``; with another ``loss``
   (:mod:`linsgd.lstsq.losses`: huber, epsilon_insensitive, quantile) r_i is replaced by the loss's slope
   ψ(r_i) = ∂L/∂ŷ (:mod:`linsgd.engines._loss_kernels`), the (sub)gradient of ``(1/n) Σ v_i L_i``.
3. **proximal step** on the penalty α(ρ‖w‖₁ + (1−ρ)/2 ‖w‖²) (scikit-learn's ElasticNet; the intercept
   is not penalised), with l1 = αρ and l2 = α(1 − ρ):
   ``w ← S(w', η_t·l1) / (1 + η_t·l2)``, S(u, τ) = sign(u)·max(|u| − τ, 0), the exact minimiser of
   ``½‖w − w'‖² + η_t(l1‖w‖₁ + l2/2 ‖w‖²)``. l1 and l2 may also be per coefficient (l1_j, l2_j), the
   proximal step then coordinate by coordinate: training on standardised features z_j = (x_j − μ_j)/s_j,
   l1_j = αρ/s_j and l2_j = α(1 − ρ)/s_j² make it the raw-scale penalty of w_j/s_j
   (:func:`linsgd.sgd.raw_penalty.penalty_weights`). Why proximal and not a subgradient or scikit-learn's
   cumulative L1 truncation (Tsuruoka et al.): the soft threshold sets coefficients exactly to zero
   (a subgradient step only makes them oscillate around it), it is the textbook proximal SGD whose
   fixed points are exactly the ElasticNet optimum, and the implicit L2 factor 1/(1 + η l2) never
   overshoots, whatever η·α (an explicit (1 − η l2) flips the sign of w when η l2 > 1).
4. **averaging** (Polyak–Ruppert) from step k = ``average_from`` (1-based; 0: off): after step t
   (1-based count t ≥ k) with m = t − k + 1, ``w̄ ← w̄ + (w − w̄)/m`` and ``b̄ ← b̄ + (b − b̄)/m``, in
   float64 whatever the training dtype (a float32 running mean stops moving once (w − w̄)/m falls
   below its rounding). The averaged model is what training returns; the iterate (w, b) keeps moving.

The rule is a frozen dataclass of plain numbers so that the kernels get scalars (Python validates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from linsgd.config import LOSSES, SCHEDULES


@dataclass(frozen=True)
class StepRule:
    """The numbers of the update rule (see the module docstring).

    Attributes:
        lr: η₀ > 0. schedule: one of :data:`SCHEDULES`. power_t: p of ``invscaling``.
        total_steps: T of ``cosine`` (steps of the whole run, >= 1). l1, l2: αρ and α(1 − ρ), >= 0, or
            tuples of one weight >= 0 per coefficient.
        average_from: 1-based step from which iterates are averaged (0: no averaging).
        loss, epsilon, quantile: the loss whose (sub)gradient the step takes (:data:`LOSSES`) and its ε, q.
    """

    lr: float
    schedule: str = "constant"
    power_t: float = 0.25
    total_steps: int = 1
    l1: float | tuple[float, ...] = 0.0
    l2: float | tuple[float, ...] = 0.0
    average_from: int = 0
    loss: str = "squared"
    epsilon: float = 0.1
    quantile: float = 0.5

    @property
    def loss_code(self) -> int:
        """The loss as the kernels' integer: its position in :data:`LOSSES` (0: squared)."""
        return LOSSES.index(self.loss)

    @property
    def schedule_code(self) -> int:
        """The schedule as the kernels' integer: 0 constant, 1 invscaling, 2 cosine, 3 adagrad (sparse kernel)."""
        return SCHEDULES.index(self.schedule)

    @property
    def penalized(self) -> bool:
        return bool(np.any(np.asarray(self.l1) > 0) or np.any(np.asarray(self.l2) > 0))

    def penalty_vectors(self, d: int) -> np.ndarray:
        """(2, d) float64: rows l1_j and l2_j of each of d coefficients; (2, 0) without a penalty."""
        if not self.penalized:
            return np.zeros((2, 0))
        return np.array([np.broadcast_to(np.asarray(self.l1, dtype=np.float64), (d,)),
                         np.broadcast_to(np.asarray(self.l2, dtype=np.float64), (d,))])

    def lr_at(self, t: int) -> float:
        """η_t of 0-based step t (float64; the kernels compute the same expression)."""
        if self.schedule in ("constant", "adagrad"):  # adagrad: η₀, divided per coordinate in its kernel
            return self.lr
        if self.schedule == "invscaling":
            return self.lr / (1.0 + t) ** self.power_t
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(t, self.total_steps) / self.total_steps))

    def averaging(self, steps_done: int) -> int:
        """m: how many iterates the average holds after ``steps_done`` steps (0: not started)."""
        return max(0, steps_done - self.average_from + 1) if self.average_from else 0


def as_rule(lr) -> StepRule:
    """A StepRule from a StepRule or a plain learning rate (the chapter's constant step)."""
    return lr if isinstance(lr, StepRule) else StepRule(float(lr))
