"""A trained linear model and its file: one safetensors file with JSON metadata, never pickle.

Tensors: ``w`` (d,) and ``b`` (1,) on the raw scale of the features, and, when the features were
standardised for training, their ``mean`` and ``scale`` (d,). Metadata (strings): ``format``
("linsgd-model"), ``format_version``, ``linsgd_version``, and JSON ``feature_names``, ``target``,
``dtype``, ``config``, ``metrics``, ``fingerprint``, and (version 2) ``preprocessing``: the fitted
:class:`~linsgd.data.encoding.Preprocessor` — input columns, their kinds, levels and reference levels,
imputation means and indicators, the missing-value policy — and ``columns``: the role of every column of
the training data. A version-1 file (numeric columns only) loads as a model whose inputs are its features.
A file of a newer format version is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from linsgd._version import __version__
from linsgd.data.encoding import Preprocessor
from linsgd.errors import DataError
from linsgd.storage import atomic_path

FORMAT = "linsgd-model"
FORMAT_VERSION = 2


@dataclass
class LinearModel:
    """ŷ = x·w + b for raw features x named ``feature_names``, in that order.

    Attributes:
        w: weights (d,), float64, raw scale. b: bias. feature_names: d column names. target: its name.
        dtype: training dtype. mean, scale: the standardisation used in training (None: none).
        config: the resolved training settings. metrics: e.g. train/val MSE. fingerprint: of the data.
        preprocessing: the fitted Preprocessor as JSON values (None: the features are numeric columns of
            the same names). columns: ``{column: role}`` of the training data (empty for version 1).
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
    preprocessing: dict | None = None
    columns: dict = field(default_factory=dict)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions (m,) in float64 for raw features X (m, d) in ``feature_names`` order."""
        return np.asarray(X, dtype=np.float64) @ self.w + self.b

    @property
    def preprocessor(self) -> Preprocessor:
        """How a table's columns become the features (:mod:`linsgd.data.encoding`)."""
        if self.preprocessing is None:
            return Preprocessor.numeric(self.feature_names)
        return Preprocessor.from_dict(self.preprocessing)

    def coef_table(self) -> dict[str, float]:
        """``{feature name: coefficient}`` on the raw scale, then ``"(intercept)": b``.

        >>> LinearModel(np.array([2.0, -3.4]), 4.2, ["a", "b"]).coef_table()
        {'a': 2.0, 'b': -3.4, '(intercept)': 4.2}
        """
        return coef_table(self.feature_names, self.w, self.b)


def coef_table(names: list[str], w, b: float) -> dict[str, float]:
    """``{name: coefficient}`` then ``"(intercept)": b`` (floats)."""
    return {**{n: float(v) for n, v in zip(names, np.asarray(w, dtype=np.float64), strict=True)},
            "(intercept)": float(b)}


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
            "fingerprint": model.fingerprint, "columns": json.dumps(model.columns)}
    if model.preprocessing is not None:
        meta["preprocessing"] = json.dumps(model.preprocessing)
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
        pre = json.loads(meta["preprocessing"]) if version >= 2 and "preprocessing" in meta else None
        if pre is not None and Preprocessor.from_dict(pre).names != names:
            raise ValueError("the preprocessing does not produce the feature names")
        return LinearModel(w=w, b=b, feature_names=names, target=json.loads(meta["target"]),
                           dtype=meta["dtype"], mean=tensors.get("mean"), scale=tensors.get("scale"),
                           config=json.loads(meta["config"]), metrics=json.loads(meta["metrics"]),
                           fingerprint=meta["fingerprint"], preprocessing=pre,
                           columns=json.loads(meta.get("columns", "{}")))
    except (KeyError, ValueError, IndexError, TypeError) as e:
        raise DataError(f"{path}: corrupt linsgd model file ({e})") from e
