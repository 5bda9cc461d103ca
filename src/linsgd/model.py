"""A trained linear model and its file: one safetensors file with JSON metadata, never pickle.

Tensors: ``w`` (d,) and ``b`` (1,) on the raw scale of the features, and, when the features were
standardised for training, their ``mean`` and ``scale`` (d,). Metadata (strings): ``format``
("linsgd-model"), ``format_version``, ``linsgd_version``, and JSON ``feature_names``, ``target``,
``dtype``, ``config``, ``metrics``, ``fingerprint``. A file of a newer format version is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from linsgd._version import __version__
from linsgd.errors import DataError
from linsgd.storage import atomic_path

FORMAT = "linsgd-model"
FORMAT_VERSION = 1


@dataclass
class LinearModel:
    """ŷ = x·w + b for raw features x named ``feature_names``, in that order.

    Attributes:
        w: weights (d,), float64, raw scale. b: bias. feature_names: d column names. target: its name.
        dtype: training dtype. mean, scale: the standardisation used in training (None: none).
        config: the resolved training settings. metrics: e.g. train/val MSE. fingerprint: of the data.
    """

    w: np.ndarray
    b: float
    feature_names: list[str]
    target: str = "y"
    dtype: str = "float32"
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    fingerprint: str = ""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions (m,) in float64 for raw features X (m, d) in ``feature_names`` order."""
        return np.asarray(X, dtype=np.float64) @ self.w + self.b


def save_model(model: LinearModel, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically (a crash never leaves a half-written file there).

    Raises:
        StorageError: the file could not be written.
    """
    from safetensors.numpy import save_file

    tensors = {"w": np.ascontiguousarray(model.w, dtype=np.float64),
               "b": np.array([model.b], dtype=np.float64)}
    if model.mean is not None:
        tensors["mean"] = np.ascontiguousarray(model.mean, dtype=np.float64)
        tensors["scale"] = np.ascontiguousarray(model.scale, dtype=np.float64)
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "linsgd_version": __version__,
            "feature_names": json.dumps(model.feature_names), "target": json.dumps(model.target),
            "dtype": model.dtype, "config": json.dumps(model.config), "metrics": json.dumps(model.metrics),
            "fingerprint": model.fingerprint}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata=meta)


def load_model(path: str | os.PathLike) -> LinearModel:
    """Read a model written by :func:`save_model` (safetensors: no code is ever unpickled).

    Raises:
        DataError: no such file, not a safetensors file, not a linsgd model, or a newer format version.
    """
    from safetensors import safe_open

    if not os.path.isfile(path):
        raise DataError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no items)
    except Exception as e:  # safetensors raises its own error types for foreign or corrupt files
        raise DataError(f"{path}: not a linsgd model file (not readable as safetensors: {e})") from e
    if meta.get("format") != FORMAT:
        raise DataError(f"{path}: not a linsgd model file (safetensors without linsgd metadata)")
    version = int(meta.get("format_version", "0"))
    if version > FORMAT_VERSION:
        raise DataError(f"{path}: model format version {version} is newer than this linsgd reads "
                        f"({FORMAT_VERSION}): upgrade linsgd")
    try:
        w, b = tensors["w"], float(tensors["b"][0])
        names = json.loads(meta["feature_names"])
        if w.shape != (len(names),):
            raise ValueError(f"w has shape {w.shape} for {len(names)} features")
        return LinearModel(w=w, b=b, feature_names=names, target=json.loads(meta["target"]),
                           dtype=meta["dtype"], mean=tensors.get("mean"), scale=tensors.get("scale"),
                           config=json.loads(meta["config"]), metrics=json.loads(meta["metrics"]),
                           fingerprint=meta["fingerprint"])
    except (KeyError, ValueError, IndexError) as e:
        raise DataError(f"{path}: corrupt linsgd model file ({e})") from e
