"""Engines run the SGD updates of one epoch; ``get_engine`` is the single place that picks one.

The contract (update rule, shapes, dtypes) is in :mod:`linsgd.engines.base`. The engine modules are
imported when chosen: ``reference`` imports torch and ``fused`` compiles numba kernels, so nothing heavy
is loaded until an engine is asked for, and the fused engine never imports torch.
"""

from __future__ import annotations

from linsgd.config import ENGINES
from linsgd.engines.base import Engine
from linsgd.errors import ConfigError
from linsgd.extras import require


def get_engine(name: str, *, device: str = "cpu", threads: int = 1, lockstep: bool = False,
               sparse: bool = False, loss: tuple[str, float, float] = ("squared", 0.1, 0.5)) -> Engine:
    """The engine called ``name`` ("fused" or "reference"); the only dispatch point.

    ``sparse``: X is a CSR matrix; "fused" is then the O(nnz) :class:`~linsgd.engines.sparse.SparseEngine`
    (an L2 penalty at most: ``linsgd.data.sparse_input.check_sparse_config`` refuses the rest), with threads
    :class:`~linsgd.engines.sparse_threads.SparseThreadedEngine`.

    With ``threads`` > 1 it runs each process batch as that many slices on as many threads, averaged at the
    end of every call (:class:`~linsgd.engines.threaded.ThreadedEngine`; its batch size is the process batch);
    ``lockstep`` (K = 1): one step of the whole process batch per step, the fused engine's threads in lockstep
    (squared loss only: with another, the threads average after every step instead). ``loss``: (loss, ε, q)
    of the full-data loss the engine reports (:mod:`linsgd.lstsq.losses`; its steps take the StepRule's).

    Example:
        >>> import numpy as np
        >>> engine = get_engine("fused")
        >>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 3.0])
        >>> out = engine.run_epoch(X, y, np.zeros(1), 0.0, np.array([0, 1]), 0.1, 2)  # one batch of 2
        >>> out.w.round(6).tolist(), round(out.b, 6)  # w ← 0 − 0.1/2·Σ x·r = 0.35, b ← 0 − 0.1/2·Σ r = 0.2
        ([0.35], 0.2)

    Raises:
        ConfigError: an unknown engine, or a device the engine cannot use. MissingExtraError: the
            reference engine without PyTorch installed (``pip install 'linsgd[torch]'``).
    """
    if sparse and name == "fused" and device == "cpu":
        if threads > 1:
            from linsgd.engines.sparse_threads import SparseThreadedEngine
            return SparseThreadedEngine(threads, lockstep)
        from linsgd.engines.sparse import SparseEngine
        return SparseEngine()
    engine = _one(name, device, loss)
    if threads > 1:
        from linsgd.engines.threaded import ThreadedEngine
        return ThreadedEngine(engine, threads, lockstep and loss[0] == "squared")
    return engine


def _one(name: str, device: str, loss) -> Engine:
    if name == "reference":
        require("torch", "the reference engine (engine='reference')")
        from linsgd.engines.reference import ReferenceEngine
        return ReferenceEngine(device=device, loss=loss)
    if name == "fused":
        if device != "cpu":
            raise ConfigError("device", device, "'cpu' with the fused engine (use engine='reference')")
        from linsgd.engines.fused import FusedEngine
        return FusedEngine(loss)
    raise ConfigError("engine", name, f"one of {', '.join(ENGINES)}")
