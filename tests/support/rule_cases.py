"""Helpers of the update-rule tests: the three engine paths and a rule with every option on."""

from __future__ import annotations

from linsgd._small import SMALL_STEPS
from linsgd.engines import get_engine
from linsgd.engines.rule import StepRule

PATHS = ("reference", "fused-numpy", "fused-numba")


def run(path: str, X, y, w, b, order, rule: StepRule, batch: int, **kw):
    """One ``run_epoch`` on ``path``: the torch oracle, or the fused engine's NumPy or numba kernels (a run
    of more than SMALL_STEPS steps in all takes numba, whatever the rows)."""
    if path == "fused-numba":
        rule = StepRule(**{**rule.__dict__, "total_steps": max(rule.total_steps, SMALL_STEPS + 1)})
    return get_engine(path.split("-")[0]).run_epoch(X, y, w, b, order, rule, batch, **kw)
