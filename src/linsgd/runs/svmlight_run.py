"""``linsgd train/predict/evaluate`` on an svmlight/libsvm file: its rows as CSR, trained by the sparse engine.

The file is read in blocks of whole lines (:mod:`linsgd.data.formats.svmlight`) into one CSR matrix, which must
fit the memory budget (``--max-memory``, default a quarter of RAM): svmlight runs are not streamed yet, and a
file whose rows exceed the budget is refused before training, naming the flag. Feature j of the model is the
file's index j (1-based, as libsvm writes it), named ``"j"``; the target is the file's first field, named
``"y"``.
"""

from __future__ import annotations

import time

import numpy as np

from linsgd.config import default_max_memory
from linsgd.data.formats.svmlight import read_svmlight
from linsgd.data.sparse_input import as_sparse_training, check_sparse_config
from linsgd.errors import DataError
from linsgd.metrics import regression_metrics
from linsgd.model import LinearModel, save_model
from linsgd.sgd.fit import train
from linsgd.sgd.solver import choose


def csr_bytes(X) -> int:
    """Bytes a CSR matrix holds (values, column indices, row pointers)."""
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


def fit_svmlight(path, config, *, chunk_bytes: int, max_memory: int | None = None):
    """``(FitResult, LinearModel, seconds reading)`` of a training run on the svmlight file ``path``.

    Raises:
        DataError: a bad row (file, line, column), or rows that exceed ``max_memory`` (naming --max-memory).
        ConfigError: a setting the sparse engine does not take (``engine``, ``threads``, an L1 penalty).
    """
    start = time.perf_counter()
    X, y = read_svmlight(path, dtype="float64", chunk_bytes=chunk_bytes)
    budget = max_memory or default_max_memory()
    if csr_bytes(X) > budget:
        raise DataError(f"{path}: its {X.shape[0]:,} rows take {csr_bytes(X) / 2**20:.1f} MiB as CSR, more than "
                        f"--max-memory ({budget / 2**20:.1f} MiB): svmlight files are trained in memory; raise "
                        "--max-memory")
    reading = time.perf_counter() - start
    config = choose(config.resolved(), X.shape[1], budget)
    check_sparse_config(config)
    dtype = "float64" if config.solver == "exact" else config.dtype
    X, y = as_sparse_training(X, y, dtype)
    result = train(X, y, config)
    names = [str(j + 1) for j in range(X.shape[1])]
    metrics = {"train": regression_metrics(y, np.asarray(X @ result.w + result.b))}
    model = LinearModel(w=np.asarray(result.w, np.float64), b=float(result.b), feature_names=names, target="y",
                        dtype=dtype, config=result.config.to_dict(), metrics=metrics)
    return result, model, reading


def predict_svmlight(model: LinearModel, path, *, chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(y, ŷ)`` of the model on the svmlight file ``path`` (indices above the model's width: DataError)."""
    X, y = read_svmlight(path, dtype="float64", chunk_bytes=chunk_bytes, n_features=len(model.w))
    return y, model.predict(X)


def write_model(model: LinearModel, out) -> None:
    """The run folder's model file (svmlight runs write no pictures: one bar per hashed column says nothing)."""
    save_model(model, out / "model.safetensors")

