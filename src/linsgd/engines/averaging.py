"""The averaging rule shared by threads and ranks: the example-weighted mean of the workers' parameters.

Worker k (a thread, :mod:`linsgd.engines.threaded`, or a rank, :mod:`linsgd.runs.distributed`) ran its steps
on m_k examples since the last average. From common parameters θ, one step each gives
θ_k = θ − η/m_k · g_k, and Σ m_k θ_k / Σ m_k = θ − η/Σm_k · Σ g_k: exactly the step of one worker on the
union of the batches, also when a short batch is split unevenly. The proximal step of an L2 penalty and the
running average (w̄, b̄) are linear in the iterates, so they average exactly too; the soft threshold of an
L1 penalty is not, so with L1 averaging equals the one-worker step only while no coordinate crosses it.

The state is averaged as one float64 vector: ``[w, w̄, b̄]`` when the rule averages (the packing of
:func:`pack`), else ``[w]``, and the bias b beside it.
"""

from __future__ import annotations

import numpy as np


def pack(w: np.ndarray, avg: tuple[np.ndarray, float] | None) -> np.ndarray:
    """``[w, w̄, b̄]`` as one float64 vector (``[w]`` without a running average)."""
    if avg is None:
        return np.asarray(w, dtype=np.float64)
    return np.concatenate([np.asarray(w, dtype=np.float64), avg[0], [avg[1]]])


def unpack(flat: np.ndarray, d: int, dtype) -> tuple[np.ndarray, tuple[np.ndarray, float] | None]:
    """``(w in dtype, (w̄, b̄) or None)`` from a vector of :func:`pack` (of length d or 2d + 1)."""
    w = flat[:d].astype(dtype)
    return w, ((flat[d:2 * d].copy(), float(flat[2 * d])) if len(flat) > d else None)


def weighted_mean(states: list[tuple[np.ndarray, float]], examples: list[int]) -> tuple[np.ndarray, float] | None:
    """Σ m_k (flat_k, b_k) / Σ m_k over the workers' ``(flat, b)`` states and example counts m_k (float64).

    None when no worker saw an example (the caller keeps its parameters).
    """
    total = float(sum(examples))
    if total == 0:
        return None
    flat = sum(m * f for m, (f, _) in zip(examples, states, strict=True)) / total
    b = sum(m * float(bk) for m, (_, bk) in zip(examples, states, strict=True)) / total
    return flat, b
