"""What an engine is: the contract every engine keeps, and what one epoch returns.

An engine is an object with

* ``run_epoch(X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None) -> EpochOutcome`` —
  visit ``order`` in consecutive batches ``order[k·B : min((k+1)·B, n)]`` and apply, per batch with
  r = X_B w + b − y_B, ``w ← w − lr/|B| · X_Bᵀ r`` and ``b ← b − lr/|B| · Σ r`` (the chapter's step).
  ``lr`` may instead be a :class:`~linsgd.engines.rule.StepRule`: step size schedule (``t0``: steps
  already run), proximal ElasticNet penalty, averaging (``avg``: the average (w̄, b̄) so far) — the rule
  is written out in :mod:`linsgd.engines.rule`; ``weight`` (n,) are sample weights of mean 1. ``X`` is (n, d)
C-contiguous, ``y`` (n,),
  ``w`` (d,), all of the engine's dtype; ``order`` is int32 or int64: an epoch's permutation of range(n), or a
  consecutive segment of one (the loop stops at sync points and checkpoints; streamed data hands over one
  window at a time). Inputs are not modified.
* ``loss(X, y, w, b, weight=None) -> float`` — the full-data mean of ½(Xw + b − y)², the chapter's
  ``l.mean()`` (each term times its weight when ``weight`` is given).
* ``prepare(X, y) -> None`` — a hint that these arrays come back every epoch (data in memory): the
  engine may lay them out for itself once (the fused engine packs narrow rows). Changes no result.

Engines do no validation: Python validates and allocates (linsgd.sgd.fit, linsgd.data.checks), engines compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class EpochOutcome:
    """Parameters after an epoch, and the 1-based step at which training first went non-finite (0: none).

    A step diverges when its minibatch loss ½Σr² (before the update) or its updated parameters are not
    finite; the loss overflows first, so this names the step long before the parameters become inf.
    When ``diverged_at`` is not 0, ``w`` and ``b`` are the parameters before that step, never inf/nan ones.
    """

    w: np.ndarray
    b: float
    diverged_at: int = 0
    avg: tuple[np.ndarray, float] | None = None  # (w̄ float64, b̄) when the rule averages


class Engine(Protocol):
    """What the train loop needs of an engine (see the module docstring for the update rule)."""

    name: str

    def run_epoch(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, order: np.ndarray,
                  lr, batch_size: int, *, t0: int = 0, avg=None, weight=None) -> EpochOutcome: ...

    def loss(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, weight=None) -> float: ...

    def prepare(self, X: np.ndarray, y: np.ndarray) -> None: ...
