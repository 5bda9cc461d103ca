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
from linsgd.data.checks import not_a_file
from linsgd.data.encoding import Preprocessor
from linsgd.data.formula import load_preprocessor
from linsgd.data.sparse_input import is_sparse
from linsgd.errors import ConfigError, DataError, StorageError, first_line
from linsgd.model_checks import Invalid, check_config, check_preprocessing, json_field, tensor_field
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
        """Predictions (m,) in float64 for raw features X (m, d) in ``feature_names`` order (an array, or a
        ``scipy.sparse`` matrix)."""
        if is_sparse(X):
            return np.asarray(X.tocsr().astype(np.float64) @ self.w + self.b).reshape(-1)
        return np.asarray(X, dtype=np.float64) @ self.w + self.b

    def predict_finite(self, X: np.ndarray, *, model: object, data: object, first_row: int | None = None
                       ) -> np.ndarray:
        """:meth:`predict`, refusing a non-finite prediction: DataError naming the model file ``model``, the
        data ``data`` and, given ``first_row`` (the rows before ``X``), the 1-based data row. A finite model can
        still overflow on finite features (a weight of 1e308): such a prediction is never written or averaged."""
        y = self.predict(X)
        bad = ~np.isfinite(y)
        if bad.any():
            i = int(np.argmax(bad))
            row = "a row" if first_row is None else f"data row {first_row + i + 1}"
            raise DataError(f"{model}: predicts {y[i]} for {row} of {data}: the model's "
                            f"coefficients (largest |w| {np.max(np.abs(self.w)):.3g}, b {self.b:.3g}) overflow on "
                            f"these features; retrain the model or check the features' scale")
        return y

    def predict_table(self, data) -> np.ndarray:
        """Predictions (n,) for the rows of a table (a file, a pandas/polars DataFrame, a pyarrow Table), its
        columns read by name through the stored preprocessing (a formula included), as ``linsgd predict``."""
        from linsgd.config import DataConfig
        from linsgd.data.first_pass import Encoded, open_typed

        table = Encoded(open_typed(data, DataConfig(target=None), dtype="float64"), self.preprocessor)
        return np.concatenate([self.predict(X) for X, _, _ in table.blocks()])

    @property
    def preprocessor(self) -> Preprocessor:
        """How a table's columns become the features (:mod:`linsgd.data.encoding`)."""
        if self.preprocessing is None:
            return Preprocessor.numeric(self.feature_names)
        return load_preprocessor(self.preprocessing)

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
        try:
            save_file(tensors, tmp, metadata=meta)
        except Exception as e:  # safetensors reports OS errors (disk full, EFBIG) as its own type
            raise StorageError(f"cannot write {path}: {first_line(e)}") from e


def load_model(path: str | os.PathLike) -> LinearModel:
    """Read a model written by :func:`save_model` (safetensors: no code is ever unpickled), or the
    ``model.safetensors`` of the run folder ``path``.

    The file is checked as a whole before anything uses it: tensor names, dtypes, shapes and finite
    values, unique non-empty feature names, every metadata field's type, the format version.

    Raises:
        DataError: no such file, not a safetensors file, not a linsgd model, a newer format version, or
            anything else wrong in it ("not a valid linsgd model: …").
        StorageError: the file exists but cannot be read (permissions, I/O error).
    """
    from safetensors import safe_open

    if os.path.isdir(path):  # a run folder of ``linsgd train``: its model
        if not os.path.isfile(os.path.join(path, "model.safetensors")):
            raise DataError(f"{path}: a folder without model.safetensors; give a model file or the run folder "
                            "linsgd train --out wrote")
        path = os.path.join(path, "model.safetensors")
    if not os.path.isfile(path):
        e = not_a_file(path)
        raise DataError(f"{path}: no such model file") if "no such file" in str(e) else e
    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no items)
    except PermissionError as e:
        raise StorageError(f"{path}: cannot read ({e.strerror})") from e
    except BaseException as e:  # safetensors raises its own error types (a Rust panic too) for corrupt files
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise DataError(f"{path}: not a linsgd model file (not readable as safetensors: "
                        f"{first_line(e)})") from e
    if meta.get("format") != FORMAT:
        raise DataError(f"{path}: not a linsgd model file (safetensors without linsgd metadata)")
    try:
        return _model_of(tensors, meta)
    except Invalid as e:
        raise DataError(f"{path}: not a valid linsgd model: {e}") from None


def _model_of(tensors: dict, meta: dict) -> LinearModel:
    """The model of a file's tensors and metadata, checked field by field (Invalid on the first problem)."""
    version = meta.get("format_version")
    if not (isinstance(version, str) and version.isdigit() and version.isascii() and int(version) >= 1):
        raise Invalid(f"format_version {version!r} is not a version number")
    if int(version) > FORMAT_VERSION:
        raise Invalid(f"model format version {version} is newer than this linsgd reads ({FORMAT_VERSION}): "
                       f"upgrade linsgd")
    names, target = json_field(meta, "feature_names", list), json_field(meta, "target", str)
    config, metrics = json_field(meta, "config", dict), json_field(meta, "metrics", dict)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise Invalid(f"feature_names {names!r} is not a non-empty list of column names")
    if len(set(names)) != len(names):
        raise Invalid(f"feature name {next(n for n in names if names.count(n) > 1)!r} appears twice")
    if not target or target in names:
        raise Invalid(f"target {target!r} is empty or also a feature")
    if meta.get("dtype") not in ("float32", "float64"):
        raise Invalid(f"dtype {meta.get('dtype')!r} is not float32 or float64")
    if not isinstance(meta.get("fingerprint", ""), str):
        raise Invalid("fingerprint is not text")
    extra = set(tensors) - {"w", "b", "mean", "scale"}
    if extra or ("mean" in tensors) != ("scale" in tensors):
        raise Invalid(f"unexpected tensors {sorted(extra)}" if extra else "mean and scale come together")
    d = len(names)
    w, b = tensor_field(tensors, "w", (d,)), tensor_field(tensors, "b", (1,))
    mean = tensor_field(tensors, "mean", (d,)) if "mean" in tensors else None
    scale = tensor_field(tensors, "scale", (d,)) if "scale" in tensors else None
    if scale is not None and not (scale > 0).all():
        raise Invalid("scale holds values <= 0")
    pre = json_field(meta, "preprocessing", dict) if int(version) >= 2 and "preprocessing" in meta else None
    if pre is not None:
        check_preprocessing(pre)
        try:  # a formula must rebuild the design columns it stored
            built = load_preprocessor(pre)
        except (ConfigError, DataError) as e:
            raise Invalid(f"preprocessing {first_line(e)}") from None
        if built.names != names:
            raise Invalid("the preprocessing does not produce the feature names")
    check_config(config)
    columns = json_field(meta, "columns", dict) if "columns" in meta else {}
    return LinearModel(w=w, b=float(b[0]), feature_names=names, target=target, dtype=meta["dtype"], mean=mean,
                       scale=scale, config=config, metrics=metrics, fingerprint=meta.get("fingerprint", ""),
                       preprocessing=pre, columns=columns)
