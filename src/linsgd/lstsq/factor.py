"""The two operations every streamed least-squares state is built from: one chunk's factor and the merge of
two states (the pairwise formula of :mod:`linsgd.lstsq.qr`'s docstring), for [X y] (one target,
:class:`~linsgd.lstsq.qr.LeastSquares`) and [X Y] (k targets, :class:`~linsgd.lstsq.multi.MultiLeastSquares`)
alike: chunks, files and ranks merge by the same lines."""

from __future__ import annotations

import numpy as np


def chunk_state(A: np.ndarray, wts: np.ndarray | None, d: int, *, centred: bool):
    """``(count, mean, R, lo, hi, W)`` of the rows A (m, d + k) = [X Y] of weight > 0 (``wts`` None: 1 each):
    their (weighted) column means, the R factor of √w_i (a_i − μ) (of √w_i a_i when not ``centred``: no
    intercept), X's column range and W = Σw; None when no row has weight. Shared by every state that
    merges by :func:`merged_state` (one target here, k in :mod:`linsgd.lstsq.multi`)."""
    if wts is not None:
        A, wts = A[wts > 0], wts[wts > 0]
    if len(A) == 0:
        return None
    W = float(len(A)) if wts is None else float(wts.sum())
    mean = A.mean(axis=0) if wts is None else wts @ A / W
    B = A - mean if centred else A
    if wts is not None:
        B = B * np.sqrt(wts)[:, None]
    return len(A), mean, r_factor(B), A[:, :d].min(axis=0), A[:, :d].max(axis=0), W


def merged_state(a, b, *, centred: bool):
    """``(count, mean, R, lo, hi, W)`` of the union of two states' rows (both with rows): the pairwise
    formula of the module docstring (a centred pair also stacks √(W_a W_b / W) (μ_b − μ_a))."""
    W = a.weight + b.weight
    delta = b.mean - a.mean
    blocks = [a.R, b.R]
    if centred:
        blocks.append(np.sqrt(a.weight * b.weight / W) * delta[None, :])
    return (a.count + b.count, a.mean + delta * (b.weight / W), r_factor(np.vstack(blocks)), np.minimum(a.lo, b.lo),
            np.maximum(a.hi, b.hi), W)


def r_factor(A: np.ndarray) -> np.ndarray:
    """R of the Householder QR of A (LAPACK dgeqrf via numpy), rows = min(m, columns)."""
    return np.linalg.qr(A, mode="r")
