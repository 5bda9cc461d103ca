"""Training on a data file end to end, in three named steps.

:func:`fit_file` runs :func:`prepare` (the first pass: roles, preprocessing, the solver), loads the rows once
(:func:`linsgd.data.rows.load_rows`: split, standardise, spill), then :func:`train` (the views, SGD or the
exact solve) and :func:`build_model` (the raw-scale model, its metrics, the :class:`FileRun`).
:func:`linsgd.runs.folder.write_run` writes the run folder.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from linsgd.config import DataConfig, TrainConfig, default_max_memory
from linsgd.data.encoding import Census
from linsgd.data.first_pass import Encoded, describe_roles, fit_preprocessing, open_table, scan
from linsgd.data.formula_text import apply_formula
from linsgd.data.rows import load_rows
from linsgd.data.views import InMemory, Streamed
from linsgd.errors import DataError, LinsgdWarning
from linsgd.lstsq.design import constant_column
from linsgd.lstsq.penalized import penalty_of
from linsgd.lstsq.qr import LeastSquares
from linsgd.lstsq.summary import optimality_gap
from linsgd.metrics import Metrics
from linsgd.model import LinearModel
from linsgd.runs.distributed import gather_json
from linsgd.runs.plan import Plan
from linsgd.sgd.alpha_search import choose_alpha, cv_metrics
from linsgd.sgd.exact_fit import trusted_gap
from linsgd.sgd.fit import fit_data
from linsgd.sgd.result import FitResult
from linsgd.sgd.solver import RESUMABLE, choose
from linsgd.sgd.threads import process_batch
from linsgd.sgd.threads import resolve as resolve_threads

_FIT_SAMPLE = 2000  # rows drawn in fit.png
_METRIC_ROWS = 1 << 16


@dataclass
class FileRun:
    """What :func:`fit_file` returns.

    Attributes:
        result: the FitResult (parameters on the training scale, histories, seed).
        model: the LinearModel on the raw feature scale, with metrics and the data fingerprint.
        data: the DataConfig used. train_rows, val_rows: rows in each part. streamed: whether the rows
        exceeded ``max_memory``. skipped: bad rows skipped. sample: (actual, predicted) of up to 2000
        validation (else training) rows, for fit.png. sharded: this rank trained on its share of the
        Parquet files. resumed_at: (epoch, example) the run resumed from, or None. sync_calls,
        sync_seconds: all-reduces of the parameters and the wall time in them (0 on one process).
        columns: every column of the data and its role (``{name: role}``); roles: the lines describing them.
        warnings: one line each (an identifier used as a feature). dropped: per column, rows dropped for an
        empty cell (``missing="drop"``, and empty targets). unseen: per categorical column, validation
        cells of a level no training row had. alpha_cv: the cross-validated path that chose α (``alpha_folds``).
    """

    result: FitResult
    model: LinearModel
    data: DataConfig
    train_rows: int
    val_rows: int
    streamed: bool
    skipped: int
    sample: tuple[np.ndarray, np.ndarray]
    sharded: bool = False
    resumed_at: tuple[int, int] | None = None
    sync_calls: int = 0
    sync_seconds: float = 0.0
    columns: dict = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped: dict = field(default_factory=dict)
    unseen: dict = field(default_factory=dict)
    alpha_cv: object = None


def fit_file(path, data: DataConfig, config: TrainConfig, *, progress: bool = False, plan: Plan | None = None,
             announce: Callable[[list[str], list[str]], None] | None = None,
             alpha_folds: int | None = None) -> FileRun:
    """Train on a table: the CSV/Parquet/.npy data at ``path``, or a pandas/polars DataFrame or pyarrow Table.

    Two passes over the data, then ``config.epochs`` epochs: the first pass decides what every column is
    for (:mod:`linsgd.data.roles`) and fits the preprocessing on the training rows (levels, imputation
    means: :mod:`linsgd.data.encoding`); the second validates, encodes, splits and holds the rows.

    Args:
        path: a file, a folder or glob of Parquet files, or a table in memory. data: how to read and split it.
        config: the training settings (a seed is drawn when it has none). progress: tqdm bars.
        plan: a :class:`~linsgd.runs.plan.Plan` — rank, checkpoints, resume (None: one process, none).
        announce: called before training with the lines describing every column's role and the warnings
            (None: the warnings are issued as :class:`~linsgd.errors.LinsgdWarning`).
        alpha_folds: K: choose the penalty's α by K-fold cross-validation on the training rows first
            (:mod:`linsgd.sgd.alpha_search`; one more pass), then train with it. None: ``config.alpha``.

    Returns:
        :class:`FileRun`.

    Raises:
        ConfigError: a setting out of range. DataError: bad input (``FILE:LINE: column …``).
        DivergenceError: training diverged. StorageError: the spill files or a checkpoint could not be
        written, or ``--resume`` found no checkpoint. CollectiveError: another rank died or hung.

    Example:
        >>> import linsgd, tempfile, os
        >>> X, y = linsgd.make_regression(1000, [2, -3.4], 4.2, seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "d.npy")
        >>> np.save(path, np.column_stack([X, y]))
        >>> run = fit_file(path, DataConfig(target="2"), TrainConfig(seed=0))
        >>> run.model.feature_names, bool(run.model.metrics["train"]["r2"] > 0.999)
        (['0', '1'], True)
    """
    data, config, plan = apply_formula(data).validate(), config.resolved(), plan or Plan()
    first = prepare(path, data, config, plan, announce)
    loaded = load_rows(first.table, data, seed=first.config.seed, progress=progress,
                       standardize=data.standardize or (first.config.lr == "auto" and first.config.solver == "sgd"),
                       combine=plan.combine(first.sharded), sum_over_ranks=plan.sum_over_ranks(first.sharded))
    try:
        trained = train(first, loaded, data, plan, progress, alpha_folds)
        return build_model(first, loaded, trained, data)
    finally:
        for table in (loaded.train, loaded.val):
            if table is not None:
                table.close()


@dataclass
class FirstPass:
    """What the first pass leaves for training: the encoded table, its columns' roles described, and the
    config with its solver (and dtype) resolved for the encoded columns."""

    table: Encoded
    roles: list
    config: TrainConfig
    budget: int
    sharded: bool
    lines: list[str]
    notes: list[str]


def prepare(path, data: DataConfig, config: TrainConfig, plan: Plan, announce=None) -> FirstPass:
    """Step 1 of :func:`fit_file`, the first pass: open the table and decide its columns' roles (this rank's
    Parquet share under torchrun when the rows cannot fit), fit the preprocessing on the training rows (merged
    over ranks), announce the roles, and resolve ``solver="auto"`` for the encoded columns."""
    # the exact solver reads float64 rows; solver="auto" is resolved once the encoded columns are known
    dtype = "float64" if config.solver in ("exact", "auto") else config.dtype
    raw, roles = open_table(path, data, dtype=dtype)
    budget = data.max_memory or default_max_memory()
    # under torchrun, Parquet that cannot fit is split by file between ranks
    raw, sharded = plan.shard(raw, (len(raw.features) + 1) * np.dtype(dtype).itemsize, budget)
    if sharded:
        raw.select([c.name for c in roles if c.is_feature], data.target)
    census, seen = scan(raw, roles, data, seed=config.seed)
    if sharded:  # the vocabularies and means of every rank's rows, merged exactly
        census = reduce(Census.merge, [Census.from_dict(d) for d in gather_json(census.to_dict(), plan.topology)])
    pre = fit_preprocessing(census, roles, data)
    notes = [f"column '{n}' looks like an identifier (an integer, all {census.rows} training values distinct): "
             f"it is used as a feature; --exclude {n} leaves it out" for n in seen["identifiers"]]
    lines = describe_roles(roles, pre, seen)
    if announce is not None:
        announce(lines, notes)
    for note in notes if announce is None else ():
        warnings.warn(note, LinsgdWarning, stacklevel=3)
    because = RESUMABLE if plan.checkpoint_every or plan.resume else None
    config = choose(config, len(pre.names), budget, sgd_because=because)
    if config.dtype != dtype and config.solver == "sgd":  # auto chose SGD: its rows in the training dtype
        raw.dtype = config.dtype
    # SGD with lr="auto" trains on features standardised with the first pass's moments (fit_data picks η from
    # them); the exact solver reads the raw rows (and, should it find no unique solution under solver="auto",
    # SGD then takes its automatic step on them)
    return FirstPass(Encoded(raw, pre, weight=data.weight), roles, config, budget, sharded, lines, notes)


@dataclass
class Trained:
    """What step 2 of :func:`fit_file` returns: the result (feature names set), the config it ran (threads
    resolved) and the run's launch state (:class:`linsgd.runs.plan.Prepared`: sync, checkpointer, resume)."""

    result: FitResult
    config: TrainConfig
    launch: object
    alpha_cv: object = None


def train(first: FirstPass, loaded, data: DataConfig, plan: Plan, progress: bool,
          alpha_folds: int | None = None) -> Trained:
    """Step 2 of :func:`fit_file`: the views of the loaded rows (this rank's), then SGD or the exact solve."""
    source = first.table
    # the threads this run uses and K, resolved now: a rank's slice is of its threads' process batches
    config = resolve_threads(first.config, loaded.train.n, len(source.features), plan.sync_every)
    window = max(process_batch(config),
                 first.budget // (4 * (len(source.features) + 1) * np.dtype(source.dtype).itemsize))
    views = _view(loaded.train, window), _view(loaded.val, window)
    train_view, val = plan.views(*views, process_batch(config), first.sharded)
    cv = alpha_folds and choose_alpha(train_view, config, alpha_folds, list(source.features), loaded.standardizer)
    config = dataclasses.replace(config, alpha=cv.alpha) if cv else config
    launch = plan.prepare(config, data, loaded.fingerprint, len(source.features), first.sharded)
    try:
        result = fit_data(train_view, config, val=val, progress=progress, sync=launch.sync,
                          checkpoints=launch.checkpoints, resume=launch.resumed, budget=first.budget,
                          names=list(source.features), standardizer=loaded.standardizer)
    except DataError as e:  # a constant column is named by the user's value, not the standardised 0
        raise in_raw_units(e, loaded.standardizer) from None
    return Trained(dataclasses.replace(result, feature_names=list(source.features)), config, launch, cv or None)


def build_model(first: FirstPass, loaded, trained: Trained, data: DataConfig) -> FileRun:
    """Step 3 of :func:`fit_file`: the model on the raw feature scale, its metrics, and the FileRun."""
    source, result, launch, std = first.table, trained.result, trained.launch, loaded.standardizer
    metrics = {"train": _metrics(loaded.train, result, exact_names=source.features, std=std)}
    if loaded.val is not None:
        metrics["val"] = _metrics(loaded.val, result)
    if trained.alpha_cv:
        metrics["alpha_cv"] = cv_metrics(trained.alpha_cv)
    if result.stopped_epoch:  # early stopping (or epochs="auto"): where it stopped, which epoch it kept
        metrics["early_stopping"] = {"stopped_epoch": result.stopped_epoch, "kept_epoch": result.best_epoch}
    w, b = std.to_raw(result.w, result.b) if std else (np.asarray(result.w, np.float64), result.b)
    columns = {c.name: c.role for c in first.roles}
    model = LinearModel(w=w, b=b, feature_names=source.features, target=source.target, dtype=source.dtype,
                        mean=std.mean if std else None, scale=std.scale if std else None,
                        config=trained.config.to_dict(), metrics=metrics, fingerprint=loaded.fingerprint,
                        preprocessing=source.pre.to_dict(), columns=columns)
    shown = loaded.val or loaded.train
    X, y = shown.read(0, min(shown.n, _FIT_SAMPLE))
    resumed = launch.resumed and (launch.resumed.epoch, launch.resumed.position)
    return FileRun(result, model, data, loaded.train.n, loaded.val.n if loaded.val else 0,
                   not loaded.train.in_memory, loaded.skipped, (y, X @ result.w + result.b), first.sharded,
                   resumed, launch.sync.calls, launch.sync.seconds, columns, first.lines, first.notes,
                   dict(source.dropped), dict(source.unseen), trained.alpha_cv)


def _view(table, window_rows: int):
    if table is None:
        return None
    return InMemory(table.X, table.y, table.v) if table.in_memory else Streamed(table, window_rows=window_rows)


def _metrics(table, result: FitResult, *, exact_names: list[str] | None = None, std=None) -> dict:
    """Metrics of ``result`` on ``table`` in one streamed pass (weighted by the table's sample weights when it has
    them); given the feature names, also the model's
    ``optimality_gap`` against the objective the run optimised (its penalty: ``penalty_of(config)``): an
    exact run's own solution (all ranks' rows), else one solved exactly on the same rows in the same pass.
    A penalised objective is the raw-scale one: with a standardisation ``std`` the rows and the model are
    mapped back to the raw scale for it (as :func:`~linsgd.sgd.exact_fit.exact_data` solves it)."""
    need = exact_names is not None and result.solution is None and result.config.loss == "squared"
    if exact_names is not None and result.config.loss != "squared":  # the gap to its trusted optimum
        return _metrics(table, result) | {"optimality_gap": trusted_gap(result, table, std)}
    raw = std if std is not None and penalty_of(result.config)[0] > 0 else None
    acc, exact = Metrics(), LeastSquares.empty(len(result.w)) if need else None
    for a in range(0, table.n, _METRIC_ROWS):
        X, y = table.read(a, min(a + _METRIC_ROWS, table.n))
        v = table.read_weight(a, min(a + _METRIC_ROWS, table.n))  # weighted runs: the weighted objective's
        acc.update(y, X.astype(np.float64) @ result.w + result.b, v)
        if exact is not None:
            exact = exact.update(X if raw is None else X.astype(np.float64) * raw.scale + raw.mean, y, v)
    out = acc.result()
    if exact_names is not None:
        out["optimality_gap"] = _gap(exact, result, exact_names, table.standardizer, raw)
    return out


def in_raw_units(e: DataError, std) -> DataError:
    """``e``, or when it names a constant column of features standardised by ``std`` (a
    :class:`~linsgd.standardize.Standardizer`, None: raw), the same error at the column's raw value."""
    if std is None or getattr(e, "column", None) is None:
        return e
    j = e.column
    return constant_column(e.names, j, float(std.mean[j] + e.value * std.scale[j]), e.fit_intercept)


def _gap(exact, result: FitResult, names: list[str], std=None, raw=None) -> dict:
    """The optimality gap as JSON values; ``{"unavailable": why}`` when the objective has no unique optimum.
    ``std``: the features' standardisation (for messages in the user's units); ``raw``: the standardisation to
    undo on the model when its objective is on the raw scale (a penalised run)."""
    alpha, l1_ratio = penalty_of(result.config)
    w, b = raw.to_raw(result.w, result.b) if raw is not None else (result.w, result.b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            solution = result.solution or exact.solution(names, alpha=alpha, l1_ratio=l1_ratio)
            gap = optimality_gap(solution, w, b)
        except DataError as e:
            return {"unavailable": str(in_raw_units(e, std))}
    out = {k: v for k, v in gap.to_dict().items() if k != "se_units"}
    return out | ({"warnings": [str(w.message) for w in caught]} if caught else {})
