"""``lr="auto"``: a learning rate from the data's curvature, on standardised features.

:func:`auto_step` picks the step on standardised features; :func:`train_standardized` trains arrays that
way and hands back raw-scale coefficients (``linsgd.fit``); a file run's view is standardised by the first
pass, and :func:`linsgd.sgd.fit.fit_data` takes the step and :func:`mean_target` from here. It runs the plain
loop (:func:`linsgd.sgd.loop.train_arrays`), never the dispatcher of :mod:`linsgd.sgd.fit` that calls it.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np

from linsgd.data.views import normalized_weights
from linsgd.errors import DivergenceError
from linsgd.sgd.loop import init_params, train_arrays
from linsgd.sgd.lr import auto_step
from linsgd.standardize import Moments, Standardizer


@contextlib.contextmanager
def auto_divergence():
    """A divergence under lr="auto" advises the exact solver, not lr="auto" (already in force) nor a step on
    another scale."""
    try:
        yield
    except DivergenceError as e:
        if e.auto:
            raise
        raise DivergenceError(e.epoch, e.step, e.lr, e.suggested_lr, e.reason, auto=True) from None


def mean_target(data, sync=None) -> float:
    """The mean of y over the view's rows (all ranks' rows under torchrun, so every rank starts alike)."""
    total = np.zeros(2)
    for _, y in data.rows():
        total += (float(np.sum(y, dtype=np.float64)), len(y))
    if sync is not None and sync.every is not None:  # a distributed Sync: add the ranks' sums
        total = sync.gather(total).sum(axis=0)
    return float(total[0] / total[1]) if total[1] else 0.0


def train_standardized(X: np.ndarray, y: np.ndarray, config, *, init=None, first_epoch: int = 0, weight=None,
                       val=None):
    """``lr="auto"``: train on z = (x − μ)/s with :func:`auto_lr` of z, and return raw-scale coefficients.

    A penalty stays the documented one on the raw coefficients w_z/s (per-coefficient weights,
    :func:`linsgd.sgd.raw_penalty.penalty_weights`): standardising only conditions the problem.

    The model z·w_z + b_z equals x·(w_z/s) + (b_z − Σ w_z μ/s) (``Standardizer.to_raw``), so the loss
    history is the raw model's. A fresh run starts its intercept at the (weighted) mean of y: on
    centred features that is the optimal intercept, so SGD does not spend its first epochs walking the
    intercept from 0 to ȳ (Longley: ȳ = 65,317 against coefficients of order 1). The returned config keeps
    ``lr="auto"`` (it repeats the run); ``.lr`` is the chosen one. ``init`` is on the raw scale and mapped
    in with ``Standardizer.to_standardized``.
    """
    scaler, Z, lr = standardized(X, config.batch_size, weight, averaged=config.average is not False)
    if init is not None:
        z_init = scaler.to_standardized(*init)
    else:
        w0, _ = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        z_init = (w0, float(np.average(y, weights=weight)))
    with auto_divergence():
        result = train_arrays(Z, y, dataclasses.replace(config, lr=lr), init=z_init, first_epoch=first_epoch,
                              weight=weight, val=RawScale(val, scaler) if val is not None else None,
                              penalty_scale=scaler.scale)
    w, b = scaler.to_raw(result.w, result.b)
    best = result.best_epoch
    return dataclasses.replace(result, w=w.astype(config.dtype), b=b, config=config, best_epoch=best)


def standardized(X: np.ndarray, batch_size: int, weight: np.ndarray | None = None, *, averaged: bool = False):
    """Standardise X for training with ``lr="auto"``.

    Returns:
        ``(standardizer, Z, lr)``: the :class:`~linsgd.standardize.Standardizer` (z = (x − μ)/s, whose
        ``to_raw`` maps trained coefficients back to the raw columns), Z in X's dtype, and the lr:
        :func:`auto_step` of Z (with sample weights, of the rows scaled by √v: the curvature of the
        weighted loss).
    """
    scaler = Standardizer.from_moments(Moments.of(X))
    Z = scaler.transform(X)
    v = normalized_weights(weight, len(X), np.float64)
    Zv = Z if v is None else Z * np.sqrt(v)[:, None]
    return scaler, Z, auto_step(Zv, batch_size, averaged=averaged)


class RawScale:
    """A validation view on the raw scale, for a loop that trains on standardised features: its ``loss``
    maps the standardised coefficients back first (``Standardizer.to_raw``)."""

    def __init__(self, val, scaler: Standardizer) -> None:
        self.val, self.scaler = val, scaler

    def loss(self, engine, w, b) -> float:
        w_raw, b_raw = self.scaler.to_raw(w, b)
        return self.val.loss(engine, w_raw.astype(np.asarray(w).dtype), b_raw)
