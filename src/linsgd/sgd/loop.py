"""The training loop: one readable function, the same for every engine, data size and number of ranks.

:func:`train_data` runs epochs over a data view (:mod:`linsgd.data.views`) with an engine
(:mod:`linsgd.engines`); what to do at sync points and checkpoints comes in as arguments (a
:class:`NoSync` and no checkpoints on one process), so the loop knows nothing of ranks or files.
Choosing between SGD, ``lr="auto"`` and the exact solver happens before the loop, in :mod:`linsgd.sgd.fit`.

Each epoch's full-data loss comes from the statistics of [X y] where the loop gathered them
(:mod:`linsgd.lstsq.loss`; for one or two features the fused engine sums them while it packs the rows), else
from a pass; where nothing needs that loss before the next epoch starts and a core is idle beside the SGD threads,
the pass runs on that core while the next epoch trains (the same sum); with no core idle, the sparse kernel of the
next epoch measures it on the way (:class:`linsgd.engines.sparse.RowLosses`), and so does the dense threads' lockstep
kernel (:class:`linsgd.engines.measured.MeasuredLoss`, the same to the rounding of a residual), and one thread's
kernel over wide rows read from memory, even with a core idle (:mod:`linsgd.sgd.loss_later`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from linsgd import _held
from linsgd._parallel import one_core
from linsgd.config import TrainConfig
from linsgd.data.batching import INIT_STREAM
from linsgd.data.checks import check_values_of
from linsgd.data.sparse_input import ADAGRAD_DENSE, is_sparse
from linsgd.data.views import InMemory, normalized_weights
from linsgd.engines import get_engine
from linsgd.engines.averaging import pack, unpack
from linsgd.engines.rule import StepRule
from linsgd.errors import ConfigError, DivergenceError
from linsgd.lstsq.loss import from_moments, loss_statistics, pays_off
from linsgd.sgd.loss_later import loss_later
from linsgd.sgd.lr import stable_lr
from linsgd.sgd.raw_penalty import penalty_value, penalty_weights
from linsgd.sgd.result import FitResult, TrainState
from linsgd.sgd.segments import cut
from linsgd.sgd.threads import process_batch
from linsgd.sgd.threads import resolve as resolve_threads


class NoSync:
    """One process: nothing to average. The loop's default; ``linsgd.runs.distributed.Sync`` under torchrun.

    A sync has ``every`` (steps between averages, None: never stop for one), ``average(w, b, examples)``
    at a sync point and ``drain(w, b, examples)`` at an epoch's end, each returning the new (w, b).
    """

    every: int | None = None
    calls, seconds = 0, 0.0

    def average(self, w: np.ndarray, b: float, examples: int) -> tuple[np.ndarray, float]:
        return w, b

    def drain(self, w: np.ndarray, b: float, examples: int) -> tuple[np.ndarray, float]:
        return w, b


def train_data(data, config: TrainConfig, *, val=None, progress: bool = False, sync=None,
               checkpoints=None, resume=None, penalty_scale=None) -> FitResult:
    """Run ``config.epochs`` epochs over ``data``, in memory or streamed, with optional validation.

    Args:
        data: :class:`~linsgd.data.views.InMemory` or :class:`~linsgd.data.views.Streamed` (or a
            wrapper of :mod:`linsgd.runs.distributed`): ``epoch_orders``, ``epoch_runs``, ``loss``, ``sample``,
            ``steps_per_epoch``. val: the same kind, or None.
        config: resolved settings; ``config.patience`` (not None; ``epochs="auto"``: 3) stops when the
            validation loss (the training objective without val) has not improved by more than a
            relative ``config.tol`` for that many epochs, and returns the best epoch's parameters.
            progress: show a tqdm bar over epochs.
        sync: a :class:`NoSync` (None: one process) or a ``linsgd.runs.distributed.Sync`` — parameters (and
            their running average) are averaged every ``sync.every`` steps. checkpoints: a
            ``linsgd.runs.checkpoint.Checkpointer``, or None. resume: a :class:`TrainState` to continue
            from (None: start afresh).
        penalty_scale: the scales s (d,) of features standardised as z = (x − μ)/s (None: raw features):
            the penalty is then that of the raw-scale coefficients w/s (:func:`penalty_weights`).

    Returns:
        FitResult (``val_history`` is empty without val); history covers the resumed epochs too.

    Raises:
        DivergenceError: the loss or parameters became non-finite.
        StorageError: a checkpoint could not be written. CollectiveError: another rank failed.
    """
    sample = data.sample()
    config, sync, d = config.resolved(), sync or NoSync(), sample.shape[1]
    row_nnz = sample.nnz / max(1, sample.shape[0]) if is_sparse(sample) else None  # sparse: K from O(d) syncs
    config = resolve_threads(config, data.n, d, sync.every, row_nnz=row_nnz)  # threads used, K; the loop steps
    # in process batches of N·B
    engine = get_engine(config.engine, device=config.device, threads=config.threads,
                        lockstep=config.sync_every == 1 and sync.every in (None, 1),
                        sparse=is_sparse(sample), loss=loss_spec(config))
    if config.schedule == "adagrad" and not is_sparse(sample):
        raise ConfigError("schedule", config.schedule, ADAGRAD_DENSE)
    if isinstance(data, InMemory):  # the same arrays every epoch: the engine may lay them out once, and
        engine.prepare(data.X, data.y)  # each epoch's squared loss comes from the statistics of [X y] (no pass)
        if data.statistics is None and config.loss == "squared" and not is_sparse(data.X):
            moments = getattr(engine, "moments", None)  # gathered while laying the rows out: free
            if moments is not None and data.weight is None:
                data.statistics = from_moments(moments, d)
            elif pays_off(config.epoch_budget, d):  # (the run's epochs, not those left: resumed == whole)
                data.statistics = loss_statistics(data.X, data.y, data.weight)
    rule = step_rule(config, data.steps_per_epoch(process_batch(config)), penalty_scale)
    s = copy.deepcopy(resume) if resume is not None else TrainState(
        *init_params(config.seed, d, config.init_std, config.dtype))
    if config.schedule == "adagrad":  # the engine steps with the state's sums (a checkpoint then holds them)
        s.sumsq = engine.share_sums(s.sumsq, d, resumed=s.step > 0)
    # threads and ranks average every K steps (checkpoints then fall on those points); else checkpoints cut
    # (threads in lockstep, K = 1, sync inside the kernel: no segment per step)
    averaged = (config.threads > 1 and not getattr(engine, "lockstep", False)) or sync.every is not None
    stop_every = config.sync_every if averaged else (checkpoints.segment_steps if checkpoints else None)
    start = time.perf_counter()
    stop, pending = False, None
    later = loss_later(data, config, val, checkpoints, engine, one_process=type(sync) is NoSync)
    # 1. the order of each epoch, shared by every engine (in memory: a permutation of all rows;
    #    streamed: the stratified block shuffle of linsgd.data.views, drawn window by window), from the resumed one;
    #    dense threads in lockstep on every core: each drawn between epochs, on two threads, not beside them
    between = {"ahead": False} if later == "measured" and config.threads > 1 and not is_sparse(sample) else {}
    orders = enumerate(data.epoch_orders(config.seed, config.epoch_budget, s.epoch, **between), start=s.epoch)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linsgd-loss") as idle_core:
        for epoch, order in _progress(orders, config, progress, s.epoch):
            t0 = time.perf_counter()
            # 2. the epoch's minibatch updates, segment by segment: sync and checkpoint at segment ends
            _run_epoch(engine, data, order, s, config, rule, sync, checkpoints, stop_every,
                       pending[0] if pending is not None and later == "measured" else None)
            s.epoch, s.position = epoch + 1, 0
            w, b = model_params(s, rule, config.dtype)
            if pending is not None:  # the previous epoch's loss, summed on the idle core or measured meanwhile
                _close_epoch(s, data, engine, config, pending[0].result(), *pending[1:], penalty_scale=penalty_scale)
            if later and s.epoch < config.epoch_budget:  # 3. full-data loss of the model training returns
                w = w.copy()  # (the average, once averaging started), while the next epoch runs
                loss = (engine.row_losses(data.X, data.y, w, b, data.weight) if later == "measured"
                        else idle_core.submit(_loss_on_one_core, data, engine, w, b))
                pending = (loss, w, b, epoch, time.perf_counter() - t0)
                continue
            pending = None
            stop = _close_epoch(s, data, engine, config, data.loss(engine, w, b), w, b, epoch,
                                time.perf_counter() - t0, val=val, penalty_scale=penalty_scale, checkpoints=checkpoints)
            if stop:
                break
    w, b = (s.best_w, s.best_b) if stop and s.best_w is not None else model_params(s, rule, config.dtype)
    return FitResult(w=w, b=float(b), history=s.history, seed=config.seed, config=config,
                     seconds=time.perf_counter() - start, epoch_seconds=s.seconds,
                     val_history=s.val_history, best_epoch=s.best_epoch, lr=float(config.lr),
                     stopped_epoch=s.epoch if stop else 0, objective=s.objective)


def _close_epoch(s: TrainState, data, engine, config: TrainConfig, loss: float, w, b, epoch: int, seconds: float,
                 *, val=None, penalty_scale=None, checkpoints=None) -> bool:
    """Record epoch ``epoch`` (0-based) whose model (w, b) has full-data loss ``loss``; True: stop early."""
    # 4. guard: never hand back or write a non-finite model, nor one whose loss exploded
    if not math.isfinite(loss):
        raise _diverged(data, config, epoch + 1, 0)
    if config.max_loss_growth and s.history and loss > config.max_loss_growth * min(s.history):
        raise _diverged(data, config, epoch + 1, 0, f"the loss grew from {min(s.history):.3g} to {loss:.3g}")
    s.history.append(loss)
    if val is not None:
        s.val_history.append(val.loss(engine, w, b))
    s.objective.append(s.val_history[-1] if val is not None else loss + penalty_value(w, config, penalty_scale))
    s.seconds.append(seconds)
    _held.raise_pending()  # a signal whose exception a library's callback swallowed still ends the run
    # 5. early stopping (and epochs="auto") on the monitored loss; keep the best parameters
    stop = _early_stop(s, w, b, config, epoch + 1)
    # 6. checkpoint at the epoch's end (all ranks hold the same parameters after the epoch's syncs)
    if checkpoints and not stop and checkpoints.due_at_epoch_end(s.epoch):
        checkpoints.save(s)
    return stop


def _loss_on_one_core(data, engine, w, b) -> float:
    """``data.loss(engine, w, b)`` on this thread alone: the same halves summed as a pass on two cores."""
    with one_core():
        return data.loss(engine, w, b)


def train_arrays(X: np.ndarray, y: np.ndarray, config: TrainConfig, *, init: tuple[np.ndarray, float] | None = None,
                 first_epoch: int = 0, weight: np.ndarray | None = None, val=None, penalty_scale=None) -> FitResult:
    """Plain SGD epochs on validated arrays: :func:`train_data` on them in memory, continuing a run when
    ``init`` ((w, b) to start from) or ``first_epoch`` (the 0-based index of the first epoch, which picks
    the order) is given; ``weight``: raw sample weights (n,) or None (see :func:`linsgd.sgd.fit.train`)."""
    resume = None
    if init is not None or first_epoch:  # continue a run: the loop resumes at the start of first_epoch
        w, b = init_params(config.seed, X.shape[1], config.init_std, config.dtype)
        if init is not None:
            w, b = np.array(init[0], dtype=config.dtype), float(init[1])
        resume = TrainState(w=w, b=b, epoch=first_epoch)
        more = {"epochs": first_epoch + config.epochs} if config.epochs != "auto" else {
            "max_epochs": first_epoch + config.max_epochs}
        config = dataclasses.replace(config, **more)
    return train_data(InMemory(X, y, normalized_weights(weight, len(y), config.dtype)), config, resume=resume,
                      val=val, penalty_scale=penalty_scale)


def step_rule(config: TrainConfig, steps_per_epoch: int, penalty_scale=None) -> StepRule:
    """The update rule of ``config`` (:mod:`linsgd.engines.rule`); T = the steps of the whole epoch budget;
    the penalty of :func:`penalty_weights`."""
    l1, l2 = penalty_weights(config, penalty_scale)
    return StepRule(lr=float(config.lr), schedule=config.schedule, power_t=float(config.power_t),
                    total_steps=max(1, config.epoch_budget * steps_per_epoch), l1=l1, l2=l2,
                    average_from=config.average_from(steps_per_epoch), loss=config.loss,
                    epsilon=float(config.epsilon), quantile=float(config.quantile))


def loss_spec(config: TrainConfig) -> tuple[str, float, float]:
    """(loss, ε, q) of ``config``, what an engine reports the full-data loss of."""
    return config.loss, float(config.epsilon), float(config.quantile)


def model_params(s: TrainState, rule: StepRule, dtype: str) -> tuple[np.ndarray, float]:
    """The parameters training returns now: the running average once it holds an iterate, else (w, b)."""
    if rule.averaging(s.step) and s.wa is not None:
        return s.wa.astype(dtype), float(s.ba)
    return s.w, float(s.b)


def _run_epoch(engine, data, order, s, config: TrainConfig, rule: StepRule, sync, checkpoints,
               every: int | None, measure=None) -> None:
    """The epoch's updates from step ``s.position / B`` on, piece by piece (see :func:`linsgd.sgd.segments.cut`).

    At every segment end the parameters are averaged over ranks (one process: unchanged) and a
    checkpoint is written when due; at the epoch's end the last, partial segment is synced. ``measure``: the
    engine's row losses of the previous epoch's model, for every piece to fill (the epoch visits every row).
    """
    more = {"measure": measure} if measure is not None else {}  # engines that cannot measure take no such word
    B = process_batch(config)  # every thread's batch
    pending = 0  # examples run since the last sync
    mark = s.position // B  # epoch step of the last checkpoint (or of the resume)
    for p in cut(data.epoch_runs(order, B), B, every, start=s.position // B):
        avg = (s.wa, s.ba) if s.wa is not None else None
        out = engine.run_epoch(p.X, p.y, s.w, s.b, p.idx, rule, B, t0=s.step, avg=avg, weight=p.v, **more)
        if out.diverged_at:
            raise _diverged(data, config, s.epoch + 1, p.first + out.diverged_at)
        s.w, s.b, s.step, pending = out.w, out.b, s.step + p.end - p.first, pending + len(p.idx)
        if out.avg is not None:
            s.wa, s.ba = out.avg
        if p.boundary:
            _sync(sync.average, s, pending)
            pending, s.position = 0, p.end * B
            if checkpoints and checkpoints.due_within_epoch(mark, p.end):
                checkpoints.save(s)
                mark = p.end
    _sync(sync.drain, s, pending)


def _sync(average, s: TrainState, examples: int) -> None:
    """Average the parameters over ranks, with their running average when there is one (one all-reduce).

    The running average is linear in the iterates, so averaging it over ranks gives the average of the
    averaged iterates: with K = 1 exactly the single process's w̄ with the N-times batch.
    """
    if s.wa is None:
        s.w, s.b = average(s.w, s.b, examples)
        return
    flat, b = average(pack(s.w, (s.wa, s.ba)), s.b, examples)  # the packing threads average too
    w, (s.wa, s.ba) = unpack(flat, len(s.w), s.w.dtype)
    s.w, s.b = w, b


def _early_stop(s: TrainState, w: np.ndarray, b: float, config: TrainConfig, done: int) -> bool:
    """Record the best epoch (``done``: the epochs run up to this model); True when ``config.stop_patience``
    epochs passed without a relative improvement of the monitored loss by more than ``config.tol``."""
    monitored = s.objective[-1]
    if not math.isfinite(s.best_loss) or monitored < s.best_loss - config.tol * abs(s.best_loss):
        s.best_loss, s.best_epoch, s.best_w, s.best_b = monitored, done, w, b
        return False
    patience = config.stop_patience
    return patience is not None and done - s.best_epoch >= patience


def _diverged(data, config: TrainConfig, epoch: int, step: int, reason: str | None = None) -> Exception:
    """The DivergenceError to raise, or the DataError of a non-finite value in ``data`` (the cause then)."""
    if isinstance(data, InMemory) and not is_sparse(data.X):  # sparse values are checked on the way in
        check_values_of(data.X, "X", config.dtype)
        check_values_of(data.y, "y", config.dtype)

    return DivergenceError(epoch, step, config.lr, stable_lr(data.sample(), config.batch_size),
                           *([reason] if reason else []))


def _progress(epochs, config: TrainConfig, progress: bool, done: int = 0):
    if not progress:
        return epochs
    from tqdm import tqdm

    return tqdm(epochs, initial=done, total=config.epoch_budget, desc="epochs", unit="epoch", leave=False)


def init_params(seed: int, d: int, init_std: float, dtype: str) -> tuple[np.ndarray, float]:
    """The chapter's initialisation: ``w ~ N(0, init_std²)`` of shape (d,), ``b = 0``."""
    w = np.random.default_rng([seed, INIT_STREAM]).normal(0.0, init_std, d)
    return w.astype(dtype), 0.0
