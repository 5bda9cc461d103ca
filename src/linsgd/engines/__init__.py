"""Engines run the SGD updates of one epoch; ``get_engine`` is the single place that picks one.

The contract (update rule, shapes, dtypes) is in :mod:`linsgd.engines.base`. The engine modules are
imported when chosen: ``reference`` imports torch and ``fused`` compiles numba kernels, so nothing heavy
is loaded until an engine is asked for, and the fused engine never imports torch.
"""

from __future__ import annotations

from linsgd.config import ENGINES
from linsgd.engines.base import Engine
from linsgd.errors import ConfigError


def get_engine(name: str, *, device: str = "cpu") -> Engine:
    """The engine called ``name`` ("fused" or "reference"); the only dispatch point.

    Imports are lazy so that the fused engine never imports torch.
    """
    if name == "reference":
        from linsgd.engines.reference import ReferenceEngine
        return ReferenceEngine(device=device)
    if name == "fused":
        if device != "cpu":
            raise ConfigError("device", device, "'cpu' with the fused engine (use engine='reference')")
        from linsgd.engines.fused import FusedEngine
        return FusedEngine()
    raise ConfigError("engine", name, f"one of {', '.join(ENGINES)}")
