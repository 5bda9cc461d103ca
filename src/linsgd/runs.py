"""Training on a data file end to end, and the run folder it leaves behind.

:func:`fit_file` reads and validates the file once (:mod:`linsgd.data.table`), trains in memory or
streamed (:mod:`linsgd.data.stream`) and returns the model with its metrics; :func:`write_run` writes
``model.safetensors``, ``config.json``, ``metrics.jsonl``, ``loss.png``, ``fit.png``, ``residuals.png`` and
``coef.png``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linsgd.config import DataConfig, TrainConfig
from linsgd.model import LinearModel
from linsgd.train import FitResult

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
        validation (else training) rows, for fit.png.
    """

    result: FitResult
    model: LinearModel
    data: DataConfig
    train_rows: int
    val_rows: int
    streamed: bool
    skipped: int
    sample: tuple[np.ndarray, np.ndarray]


def fit_file(path: str | os.PathLike, data: DataConfig, config: TrainConfig, *,
             progress: bool = False, launch=None) -> FileRun:
    """Train on the CSV/Parquet/.npy data at ``path``: one validating pass, then ``config.epochs`` epochs.

    Args:
        path: a file, a folder or glob of Parquet files. data: how to read and split it.
        config: the training settings (a seed is drawn when it has none). progress: tqdm bars.
        launch: a :class:`~linsgd.launch.Launch` — rank, checkpoints, resume (None: one process, none).

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
    from linsgd.data.sources import open_source
    from linsgd.data.table import default_max_memory, load_tables
    from linsgd.train import train_data

    data, config = data.validate(), config.resolved()
    from linsgd.launch import Launch

    launch = launch or Launch()
    kw = dict(target=data.target, features=list(data.features) if data.features else None,
              dtype=config.dtype, on_bad_rows=data.on_bad_rows, chunk_bytes=data.chunk_bytes)
    source = open_source(path, **kw)
    budget = data.max_memory or default_max_memory()
    # under torchrun, Parquet that cannot fit is split by file between ranks
    launch.decide_sharding(source, (len(source.features) + 1) * np.dtype(config.dtype).itemsize, budget)
    source = launch.source(source, lambda files: _parquet(files, path, kw))
    loaded = load_tables(source, seed=config.seed, val_fraction=data.val_fraction,
                         standardize=data.standardize, max_memory=budget, tmp_dir=data.tmp_dir,
                         progress=progress)
    try:
        window = max(config.batch_size, budget // (4 * (len(source.features) + 1) * np.dtype(config.dtype).itemsize))
        train, val = launch.views(_view(loaded.train, window), _view(loaded.val, window), config.batch_size)
        sync, checkpoints, resume = launch.prepare(config, data, loaded.fingerprint, len(source.features))
        result = train_data(train, config, val=val, progress=progress, sync=sync, checkpoints=checkpoints,
                            resume=resume)
        metrics = {"train": _metrics(loaded.train, result, exact_names=source.features)}
        if loaded.val is not None:
            metrics["val"] = _metrics(loaded.val, result)
        std = loaded.standardizer
        w, b = std.to_raw(result.w, result.b) if std else (np.asarray(result.w, np.float64), result.b)
        model = LinearModel(w=w, b=b, feature_names=source.features, target=source.target,
                            dtype=config.dtype, mean=std.mean if std else None,
                            scale=std.scale if std else None, config=config.to_dict(), metrics=metrics,
                            fingerprint=loaded.fingerprint)
        shown = loaded.val or loaded.train
        X, y = shown.read(0, min(shown.n, _FIT_SAMPLE))
        sample = (y, X @ result.w + result.b)
        return FileRun(result, model, data, loaded.train.n, loaded.val.n if loaded.val else 0,
                       not loaded.train.in_memory, loaded.skipped, sample)
    finally:
        for table in (loaded.train, loaded.val):
            if table is not None:
                table.close()


def write_run(run: FileRun, out: str | os.PathLike) -> Path:
    """Write the run folder ``out`` (created if needed); every file atomically.

    Returns:
        The folder.

    Raises:
        ConfigError: ``out`` is not a writable folder. StorageError: a file could not be written.
    """
    from linsgd import plots, plots_run
    from linsgd.model import save_model
    from linsgd.storage import atomic_path, ensure_writable_dir

    out = ensure_writable_dir(out, "out")
    save_model(run.model, out / "model.safetensors")
    settings = {**run.result.config.to_dict(), **run.data.to_dict()}
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n")
    with atomic_path(out / "metrics.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(_epoch_line(run.result, k)) + "\n"
                               for k in range(len(run.result.history))))
    r = run.result
    plots.loss_curve({"train": r.history, **({"val": r.val_history} if r.val_history else {})}, out / "loss.png")
    plots_run.fit(*run.sample, out / "fit.png", target=run.model.target)
    plots_run.residuals(*run.sample, out / "residuals.png", target=run.model.target)
    plots_run.coefficients(run.model.w, run.model.feature_names, out / "coef.png", b=run.model.b)
    return out


def _parquet(files, path, kw):
    from linsgd.data.parquet_file import ParquetSource

    return ParquetSource(files, path, **kw)


def _view(table, window_rows: int):
    from linsgd.data.stream import InMemory, Streamed

    if table is None:
        return None
    return InMemory(table.X, table.y) if table.in_memory else Streamed(table, window_rows=window_rows)


def _metrics(table, result: FitResult, *, exact_names: list[str] | None = None) -> dict:
    """Metrics of ``result`` on ``table`` in one streamed pass; given the feature names, the same pass also
    solves least squares exactly on those rows and adds the model's ``optimality_gap`` (or why not)."""
    from linsgd.metrics import Metrics
    from linsgd.solve import LeastSquares

    acc, exact = Metrics(), LeastSquares.empty(len(result.w)) if exact_names is not None else None
    for a in range(0, table.n, _METRIC_ROWS):
        X, y = table.read(a, min(a + _METRIC_ROWS, table.n))
        acc.update(y, X.astype(np.float64) @ result.w + result.b)
        if exact is not None:
            exact = exact.update(X, y)
    out = acc.result()
    if exact is not None:
        out["optimality_gap"] = _gap(exact, result, exact_names)
    return out


def _gap(exact, result: FitResult, names: list[str]) -> dict:
    """The optimality gap as JSON values; ``{"unavailable": why}`` when the design has no unique optimum."""
    import warnings

    from linsgd.errors import DataError
    from linsgd.summary import optimality_gap

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gap = optimality_gap(exact.solution(names), result.w, result.b)
        except DataError as e:
            return {"unavailable": str(e)}
    values = {"loss": gap.loss, "optimum": gap.optimum, "relative": gap.relative,
              "mahalanobis": gap.mahalanobis, "max_se_units": float(np.max(np.abs(gap.se_units)))}
    out = {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}
    return out | ({"warnings": [str(w.message) for w in caught]} if caught else {})


def _epoch_line(result: FitResult, k: int) -> dict:
    line = {"epoch": k + 1, "train_loss": result.history[k], "seconds": round(result.epoch_seconds[k], 6)}
    if result.val_history:
        line["val_loss"] = result.val_history[k]
    return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in line.items()}
