"""A run folder's pictures: ``loss.png``, ``fit.png``, ``residuals.png`` and ``coef.png``.

``linsgd train`` writes what they are drawn from — the per-epoch losses (``metrics.jsonl``), the model
(``model.safetensors``) and a sample of (actual, predicted) pairs (``sample.safetensors``) — and draws them
only when asked (``--plots``): matplotlib costs a small run most of its time. ``linsgd plot RUN`` draws them
later from the folder alone, the same pictures ``--plots`` would have drawn.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from linsgd import plots
from linsgd.errors import DataError, StorageError, first_line
from linsgd.model import LinearModel, load_model
from linsgd.plots import run as plots_run
from linsgd.storage import atomic_path

SAMPLE = "sample.safetensors"
PICTURES = ("loss.png", "fit.png", "residuals.png", "coef.png")


def calls(history: list[float], val_history: list[float] | None, model: LinearModel,
          sample: tuple[np.ndarray, np.ndarray], out: Path, *, exact: bool, kept: int | None,
          loss: str = "squared") -> list[plots.Call]:
    """The figure calls of a run folder ``out``, for :meth:`~linsgd.plots.Painter.draw`.

    Args:
        history, val_history: the per-epoch losses (val: None or empty when there were no validation rows).
        model: the model on the raw scale. sample: (actual, predicted) of the rows shown in fit.png.
        exact: the exact solver ran (one loss of one pass, no epochs). kept: the epoch early stopping kept.
        loss: the run's loss (``squared``, ``huber``, …): loss.png's axis, and for an exact run its title (the
            least-squares solution, or the loss's trusted optimum).
    """
    optimum = "least-squares solution" if loss == "squared" else f"{loss} optimum"
    labels = (dict(title=f"loss of the exact {optimum} (no epochs)", xlabel="one pass over the rows")
              if exact else dict(marker=kept))
    if loss != "squared":  # the history holds the mean of that loss, not of ½ r²
        labels["ylabel"] = f"mean {loss.replace('_', '-')} loss"
    series = {"train": list(history), **({"val": list(val_history)} if val_history else {})}
    return [(plots.loss_curve, (series, out / "loss.png"), labels),
            (plots_run.fit, (*sample, out / "fit.png"), dict(target=model.target)),
            (plots_run.residuals, (*sample, out / "residuals.png"), dict(target=model.target)),
            (plots_run.coefficients, (model.w, model.feature_names, out / "coef.png"), dict(b=model.b))]


def save_sample(sample: tuple[np.ndarray, np.ndarray], path: Path) -> None:
    """Write the (actual, predicted) sample as float64 tensors ``actual`` and ``predicted``, atomically."""
    from safetensors.numpy import save_file

    tensors = {"actual": np.ascontiguousarray(sample[0], dtype=np.float64),
               "predicted": np.ascontiguousarray(sample[1], dtype=np.float64)}
    with atomic_path(path) as tmp:
        try:
            save_file(tensors, tmp)
        except Exception as e:  # safetensors reports OS errors (disk full) as its own type
            raise StorageError(f"cannot write {path}: {first_line(e)}") from e


def draw_folder(folder: str | os.PathLike, painter: plots.Painter | None = None) -> list[Path]:
    """Draw the pictures of the run folder ``folder`` from its files (``linsgd plot RUN``).

    Returns:
        The PNG files written, in :data:`PICTURES` order.

    Raises:
        DataError: ``folder`` is not a run folder of linsgd train, or one of its files is not what train
            writes (the message names the file and says to train again). StorageError: a picture could not be
            written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such run folder (the --out of linsgd train)")
    model = load_model(folder / "model.safetensors")
    history, val = _losses(folder / "metrics.jsonl")
    sample = _sample(folder / SAMPLE)
    config = model.config or {}
    kept = (model.metrics.get("early_stopping") or {}).get("kept_epoch")
    (painter or plots.Painter(background=False)).draw(
        calls(history, val, model, sample, folder, exact=config.get("solver") == "exact", kept=kept,
              loss=config.get("loss", "squared")))
    return [folder / name for name in PICTURES]


def _losses(path: Path) -> tuple[list[float], list[float]]:
    """The train and val losses of ``metrics.jsonl`` (null: a non-finite loss, drawn as a gap)."""
    if not path.is_file():
        raise DataError(f"{path}: not found: the folder is not a complete run folder (train into it again)")
    history, val = [], []
    for k, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            record = json.loads(line)
            history.append(_number(record["train_loss"]))
            if "val_loss" in record:
                val.append(_number(record["val_loss"]))
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"{path}:{k}: not a line of linsgd train's metrics ({type(e).__name__}: {e}); "
                            f"train into the folder again") from None
    return history, val


def _number(value) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a loss of {value!r}")
    return float(value)


def _sample(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The (actual, predicted) pairs of ``sample.safetensors``."""
    from safetensors import safe_open

    if not path.is_file():
        raise DataError(f"{path}: not found: the folder was written by an older linsgd train or is incomplete "
                        f"(train into it again)")
    try:
        with safe_open(str(path), framework="np") as f:
            actual, predicted = f.get_tensor("actual"), f.get_tensor("predicted")
    except BaseException as e:  # safetensors raises its own types (a Rust panic too) for a corrupt file
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise DataError(f"{path}: not a sample written by linsgd train ({first_line(e)}); train into the folder "
                        f"again") from None
    if actual.ndim != 1 or actual.shape != predicted.shape:
        raise DataError(f"{path}: actual {actual.shape} and predicted {predicted.shape} are not two equal rows "
                        f"of values; train into the folder again")
    return actual, predicted
