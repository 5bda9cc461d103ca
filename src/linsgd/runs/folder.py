"""The run folder of a file run: ``model.safetensors``, ``config.json``, ``metrics.jsonl``,
``sample.safetensors`` and, when asked, the pictures ``loss.png``, ``fit.png``, ``residuals.png``, ``coef.png``
(:mod:`linsgd.runs.pictures`), written all at once or not at all."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from linsgd import plots
from linsgd.model import save_model
from linsgd.plots import run as plots_run
from linsgd.runs import pictures as pictures_of
from linsgd.runs.run import FileRun
from linsgd.sgd.result import FitResult
from linsgd.storage import atomic_path, ensure_writable_dir, replacing_files

RUN_PICTURES = (*pictures_of.PICTURES, "cv.png")  # a run's pictures: those this run did not draw are removed


def write_run(run: FileRun, out: str | os.PathLike, painter: plots.Painter | None = None, *,
              pictures: bool = True) -> Path:
    """Write the run folder ``out`` (created if needed): all its files at once or none (a failure halfway
    leaves the folder's earlier files as they were: :func:`~linsgd.storage.replacing_files`).

    ``model.safetensors``, ``config.json``, ``metrics.jsonl`` and ``sample.safetensors`` (the (actual,
    predicted) pairs fit.png shows) always; with ``pictures`` also ``loss.png``, ``fit.png``, ``residuals.png``
    and ``coef.png`` (:mod:`linsgd.runs.pictures`; without, ``linsgd plot`` draws them later from the folder).
    Pictures of :data:`RUN_PICTURES` that this run does not draw are removed from the folder: they showed the
    run it held before. ``painter``: a :class:`~linsgd.plots.Painter` to draw them (``linsgd train --plots``
    forks one before training, so that matplotlib loads meanwhile); None: drawn in this process.

    Returns:
        The folder.

    Raises:
        ConfigError: ``out`` is not a writable folder. StorageError: a file could not be written.
    """
    out = ensure_writable_dir(out, "out")
    with replacing_files(out) as new:  # every file complete before any of the folder's is replaced
        _write_files(run, new, painter if pictures else None, pictures)
        written = set(os.listdir(new))
    for name in set(RUN_PICTURES) - written:  # a picture of the run this folder held before shows another model
        (out / name).unlink(missing_ok=True)
    return out


def _write_files(run: FileRun, out: Path, painter: plots.Painter | None, pictures: bool) -> None:
    save_model(run.model, out / "model.safetensors")
    settings = {**run.result.config.to_dict(), **run.data.to_dict()}
    pre = run.model.preprocessor  # the resolved columns, not only what the flags said
    settings |= {"features": [i.name for i in pre.inputs], "encoded_features": pre.names, "columns": run.columns}
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n")
    with atomic_path(out / "metrics.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(epoch_line(run.result, k)) + "\n"
                               for k in range(len(run.result.history))))
    pictures_of.save_sample(run.sample, out / pictures_of.SAMPLE)
    if pictures:
        r = run.result
        exact = r.config is not None and r.config.solver == "exact"
        cv = run.alpha_cv
        (painter or plots.Painter(background=False)).draw(pictures_of.calls(
            r.history, r.val_history, run.model, run.sample, out, exact=exact,
            kept=r.best_epoch if r.stopped_epoch else None, loss=r.config.loss) + (
            [(plots_run.cv_curve, (cv.alphas, cv.mse, out / "cv.png"), dict(alpha=cv.alpha))] if cv is not None
            else []))


def epoch_line(result: FitResult, k: int) -> dict:
    """Line k of ``metrics.jsonl``: the 1-based epoch, its train loss, seconds (and val loss); null for a
    non-finite number."""
    line = {"epoch": k + 1, "train_loss": result.history[k], "seconds": round(result.epoch_seconds[k], 6)}
    if result.val_history:
        line["val_loss"] = result.val_history[k]
    return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in line.items()}
