"""The run folder of a file run: ``model.safetensors``, ``config.json``, ``metrics.jsonl`` and the pictures
``loss.png``, ``fit.png``, ``residuals.png``, ``coef.png``, written all at once or not at all."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from linsgd import plots
from linsgd.model import save_model
from linsgd.plots import run as plots_run
from linsgd.runs.run import FileRun
from linsgd.sgd.result import FitResult
from linsgd.storage import atomic_path, ensure_writable_dir, replacing_files


def write_run(run: FileRun, out: str | os.PathLike, painter: plots.Painter | None = None) -> Path:
    """Write the run folder ``out`` (created if needed): all its files at once or none (a failure halfway
    leaves the folder's earlier files as they were: :func:`~linsgd.storage.replacing_files`).

    ``painter``: a :class:`~linsgd.plots.Painter` to draw ``loss.png`` and ``fit.png`` (``linsgd train`` forks
    one before training, so that matplotlib loads meanwhile); None: drawn in this process.

    Returns:
        The folder.

    Raises:
        ConfigError: ``out`` is not a writable folder. StorageError: a file could not be written.
    """
    out = ensure_writable_dir(out, "out")
    with replacing_files(out) as new:  # every file complete before any of the folder's is replaced
        _write_files(run, new, painter)
    return out


def _write_files(run: FileRun, out: Path, painter: plots.Painter | None) -> None:
    save_model(run.model, out / "model.safetensors")
    settings = {**run.result.config.to_dict(), **run.data.to_dict()}
    pre = run.model.preprocessor  # the resolved columns, not only what the flags said
    settings |= {"features": [i.name for i in pre.inputs], "encoded_features": pre.names, "columns": run.columns}
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n")
    with atomic_path(out / "metrics.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(_epoch_line(run.result, k)) + "\n"
                               for k in range(len(run.result.history))))
    r = run.result
    (painter or plots.Painter(background=False)).draw([
        (plots.loss_curve, ({"train": r.history, **({"val": r.val_history} if r.val_history else {})},
                            out / "loss.png"), _loss_labels(r)),
        (plots_run.fit, (*run.sample, out / "fit.png"), dict(target=run.model.target)),
        (plots_run.residuals, (*run.sample, out / "residuals.png"), dict(target=run.model.target)),
        (plots_run.coefficients, (run.model.w, run.model.feature_names, out / "coef.png"), dict(b=run.model.b)),
    ])


def _loss_labels(r: FitResult) -> dict:
    """loss.png's words: an exact run's one loss is that of one pass over the rows, not of an epoch."""
    if r.config is not None and r.config.solver == "exact":
        return dict(title="loss of the exact least-squares solution (no epochs)", xlabel="one pass over the rows")
    return dict(marker=r.best_epoch if r.stopped_epoch else None)


def _epoch_line(result: FitResult, k: int) -> dict:
    line = {"epoch": k + 1, "train_loss": result.history[k], "seconds": round(result.epoch_seconds[k], 6)}
    if result.val_history:
        line["val_loss"] = result.val_history[k]
    return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in line.items()}
