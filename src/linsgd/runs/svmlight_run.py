"""``linsgd train/predict/evaluate`` on an svmlight/libsvm file: its rows as CSR, trained by the sparse engine.

The file is read in blocks of whole lines (:mod:`linsgd.data.formats.svmlight`) into one CSR matrix, which must
fit the memory budget (``--max-memory``, default a quarter of RAM): svmlight runs are not streamed yet, and a
file whose rows exceed the budget is refused before training, naming the flag. Feature j of the model is the
file's index j (1-based, as libsvm writes it), named ``"j"``; the target is the file's first field, named
``"y"``. The run folder holds what a table run's holds where it applies (:func:`write_run_folder`):
``model.safetensors``, ``config.json`` (the resolved settings and the file) and ``metrics.jsonl`` (one line
per epoch), written all at once or not at all; no pictures (one bar per hashed column says nothing).
With ``--checkpoint-every``/``--resume`` (a :class:`~linsgd.runs.plan.Plan`) the loop checkpoints into the run
folder as a table run's does; the checkpoint's identity is the settings and a fingerprint of the rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import numpy as np

from linsgd.config import default_max_memory
from linsgd.data.formats.svmlight import read_svmlight
from linsgd.data.sparse_input import as_sparse_training, check_sparse_config
from linsgd.data.views import InMemory
from linsgd.errors import DataError
from linsgd.metrics import regression_metrics
from linsgd.model import LinearModel, save_model
from linsgd.runs.folder import epoch_line
from linsgd.sgd.fit import train
from linsgd.sgd.loop import train_data
from linsgd.sgd.result import TrainState
from linsgd.sgd.solver import RESUMABLE, choose
from linsgd.sgd.sparse_fit import sparse_auto
from linsgd.storage import atomic_path, ensure_writable_dir, replacing_files


def csr_bytes(X) -> int:
    """Bytes a CSR matrix holds (values, column indices, row pointers)."""
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


def fit_svmlight(path, config, *, chunk_bytes: int, max_memory: int | None = None, plan=None):
    """``(FitResult, LinearModel, seconds reading, resumed at)`` of a training run on the svmlight file ``path``;
    ``plan``: checkpoints and resume (None: neither); resumed at: (epoch, position) of the state resumed, or None.

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
    resumable = plan is not None and bool(plan.checkpoint_every or plan.resume)
    config = choose(config.resolved(), X.shape[1], budget, sgd_because=RESUMABLE if resumable else None)
    check_sparse_config(config)
    dtype = "float64" if config.solver == "exact" else config.dtype
    X, y = as_sparse_training(X, y, dtype)
    result, resumed_at = train_resumable(X, y, config, plan) if resumable else (train(X, y, config), None)
    names = [str(j + 1) for j in range(X.shape[1])]
    metrics = {"train": regression_metrics(y, np.asarray(X @ result.w + result.b))}
    model = LinearModel(w=np.asarray(result.w, np.float64), b=float(result.b), feature_names=names, target="y",
                        dtype=dtype, config=result.config.to_dict(), metrics=metrics)
    return result, model, reading, resumed_at


class _Rows:
    """What a checkpoint's identity keeps of an svmlight file's reading: its format (the rows are in the
    fingerprint)."""

    @staticmethod
    def to_dict() -> dict:
        return {"format": "svmlight"}


def train_resumable(X, y, config, plan):
    """``(FitResult, resumed at)``: SGD on CSR rows with the plan's checkpoints, from its resumed state or afresh
    (the same start as :func:`~linsgd.sgd.fit.train`: with ``lr="auto"``, the sparse step and intercept)."""
    fresh, run_config = None, config
    if config.lr == "auto":
        lr, (w0, b0) = sparse_auto(X, y, config, None, None)
        run_config, fresh = dataclasses.replace(config, lr=lr), TrainState(w=w0, b=b0)
    digest = hashlib.blake2b(digest_size=16)
    for a in (X.data, X.indices, X.indptr, y):
        digest.update(memoryview(a).cast("B"))
    launch = plan.prepare(run_config, _Rows(), digest.hexdigest(), X.shape[1], False)
    state = launch.resumed
    result = train_data(InMemory(X, y), run_config, checkpoints=launch.checkpoints, resume=state or fresh)
    if run_config is not config:
        result = dataclasses.replace(result, config=config, lr=run_config.lr)
    return result, (state.epoch, state.position) if state is not None else None


def predict_svmlight(model: LinearModel, path, *, chunk_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(y, ŷ)`` of the model on the svmlight file ``path`` (indices above the model's width: DataError)."""
    X, y = read_svmlight(path, dtype="float64", chunk_bytes=chunk_bytes, n_features=len(model.w))
    return y, model.predict(X)


def write_run_folder(result, model: LinearModel, data, out):
    """The run folder ``out``: ``model.safetensors``, ``config.json`` (the resolved settings, the file and its
    format) and ``metrics.jsonl`` (a table run's lines: epoch, train_loss, seconds; none for the exact
    solution), all replaced at once or none (:func:`~linsgd.storage.replacing_files`).

    Raises:
        ConfigError: ``out`` is not a writable folder. StorageError: a file could not be written.
    """
    out = ensure_writable_dir(out, "out")
    settings = {**result.config.to_dict(), "data": str(data), "format": "svmlight", "target": "y",
                "features": len(model.w)}
    with replacing_files(out) as new:
        save_model(model, new / "model.safetensors")
        with atomic_path(new / "config.json") as tmp:
            tmp.write_text(json.dumps(settings, indent=2) + "\n")
        with atomic_path(new / "metrics.jsonl") as tmp:
            tmp.write_text("".join(json.dumps(epoch_line(result, k)) + "\n" for k in range(len(result.history))))
    return out
