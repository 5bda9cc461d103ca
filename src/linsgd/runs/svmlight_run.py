"""``linsgd train/predict/evaluate`` on an svmlight/libsvm file: its rows as CSR, trained by the sparse engine.

The file is read once in blocks of whole lines (:mod:`linsgd.data.svmlight_stream`: every row checked); rows that
fit the memory budget (``--max-memory``, default a quarter of RAM) as CSR are kept and trained in memory, the
others are streamed window by window from the file (SGD; ``--solver exact`` is then refused, naming the
flag). Feature j of the model is the
file's index j (1-based, as libsvm writes it), named ``"j"``; the target is the file's first field, named
``"y"``. The run folder holds what a table run's holds where it applies (:func:`write_run_folder`):
``model.safetensors``, ``config.json`` (the resolved settings and the file) and ``metrics.jsonl`` (one line
per epoch), written all at once or not at all; no pictures (one bar per hashed column says nothing).
With ``--checkpoint-every``/``--resume`` (a :class:`~linsgd.runs.plan.Plan`) the loop checkpoints into the run
folder as a table run's does; the checkpoint's identity is the settings and a fingerprint of the rows.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import scipy.sparse as sp

from linsgd.config import default_max_memory
from linsgd.data.checks import data_error
from linsgd.data.formats.svmlight import blocks, read_block
from linsgd.data.sparse_input import as_sparse_training, check_sparse_config
from linsgd.data.svmlight_stream import SvmlightStreamed, scan, stack
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

STREAMED = "svmlight rows over --max-memory are streamed, and the exact solver reads them in memory"


def fit_svmlight(path, config, *, chunk_bytes: int, max_memory: int | None = None, plan=None, tmp_dir=None):
    """``(FitResult, LinearModel, resumed at, streamed, seconds reading)`` of a training run on the svmlight file
    ``path``; ``plan``: checkpoints and resume (None: neither); resumed at: (epoch, position) of the state
    resumed, or None; streamed: whether the rows were streamed. ``tmp_dir``: where streamed rows are spilled
    (None: the system's temporary folder).

    Rows that fit ``max_memory`` as CSR are trained in memory; the others streamed, window by window
    (:mod:`linsgd.data.svmlight_stream`; SGD only).

    Raises:
        DataError: a bad row (file, line, column); ``solver="exact"`` on rows over ``max_memory``.
        ConfigError: a setting the sparse engine does not take (``engine``, ``threads`` with AdaGrad, an L1
            penalty).
    """
    start = time.perf_counter()
    budget = max_memory or default_max_memory()
    found = scan(path, dtype="float64", chunk_bytes=chunk_bytes, budget=budget, spill_dir=tmp_dir)
    reading = time.perf_counter() - start
    try:
        return _fit(path, found, config, budget, plan) + (reading,)
    finally:
        if found.spill is not None:
            found.spill.close()  # a temporary file: deleted on close


def _fit(path, found, config, budget: int, plan):
    """:func:`fit_svmlight` after the first pass: ``(FitResult, LinearModel, resumed at, streamed)``."""
    streamed = found.parts is None
    resumable = plan is not None and bool(plan.checkpoint_every or plan.resume)
    because = RESUMABLE if resumable else STREAMED if streamed else None
    config = choose(config.resolved(), found.d, budget, sgd_because=because)
    check_sparse_config(config)
    if streamed and config.solver == "exact":
        raise DataError(f"{path}: its {found.n:,} rows take {found.csr_bytes / 2**20:.1f} MiB as CSR, more than "
                        f"--max-memory ({budget / 2**20:.1f} MiB): the exact solver reads svmlight rows in memory; "
                        "raise --max-memory or use --solver sgd (streamed)")
    dtype = "float64" if config.solver == "exact" else config.dtype
    if streamed:
        row_bytes = found.csr_bytes / found.n * np.dtype(dtype).itemsize / 8
        data = SvmlightStreamed(path, found, dtype, window_rows=int(budget / 4 / row_bytes))
        result, resumed_at = train_view(data, config, plan, found.fingerprint)
        y, yhat = (np.concatenate(c) for c in zip(*((y, X @ result.w + result.b) for X, y in data.rows()),
                                                  strict=True))
    else:
        X, y = as_sparse_training(*stack(found.parts, found.d), dtype)
        found.parts = None
        if resumable:
            result, resumed_at = train_view(InMemory(X, y), config, plan, found.fingerprint)
        else:
            result, resumed_at = train(X, y, config), None
        yhat = X @ result.w + result.b
    names = [str(j + 1) for j in range(found.d)]
    metrics = {"train": regression_metrics(y, np.asarray(yhat))}
    model = LinearModel(w=np.asarray(result.w, np.float64), b=float(result.b), feature_names=names, target="y",
                        dtype=dtype, config=result.config.to_dict(), metrics=metrics)
    return result, model, resumed_at, streamed


class _Rows:
    """What a checkpoint's identity keeps of an svmlight file's reading: its format (the rows are in the
    fingerprint)."""

    @staticmethod
    def to_dict() -> dict:
        return {"format": "svmlight"}


def train_view(data, config, plan, fingerprint: str):
    """``(FitResult, resumed at)``: SGD on a CSR view (in memory or streamed) with the plan's checkpoints (None:
    none), from its resumed state or afresh — the same start as :func:`~linsgd.sgd.fit.train`: with
    ``lr="auto"``, the sparse step and intercept (of the first window, streamed)."""
    fresh, run_config = None, config
    if config.lr == "auto":
        X, y = (data.X, data.y) if isinstance(data, InMemory) else data.read(data.pieces[:data.per_window])
        lr, (w0, b0) = sparse_auto(X, y, config, None, None)
        run_config, fresh = dataclasses.replace(config, lr=lr), TrainState(w=w0, b=b0)
    state, checkpoints = None, None
    if plan is not None and (plan.checkpoint_every or plan.resume):
        launch = plan.prepare(run_config, _Rows(), fingerprint, data.sample().shape[1], False)
        state, checkpoints = launch.resumed, launch.checkpoints
    result = train_data(data, run_config, checkpoints=checkpoints, resume=state or fresh)
    if run_config is not config:
        result = dataclasses.replace(result, config=config, lr=run_config.lr)
    return result, (state.epoch, state.position) if state is not None else None


def predict_svmlight(model: LinearModel, path, *, chunk_bytes: int, model_path=None):
    """Yield ``(y, ŷ)`` of the model on the svmlight file ``path``, a block of whole lines of about
    ``chunk_bytes`` at a time (memory: one block).

    Raises:
        DataError: a bad row (file, line, column), an index above the model's width, a non-finite prediction
            (naming ``model_path`` and the row), or a file with no rows.
    """
    d, done = len(model.w), 0
    for first, block in blocks(path, chunk_bytes):
        X, y = read_block(path, first, block, "float64")
        if X.shape[1] > d:
            raise data_error(path, None, f"a feature index {X.shape[1]} above the model's {d} features: the "
                                         "file does not match the model")
        if len(y):
            X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(len(y), d))
            yield y, model.predict_finite(X, model=model_path, data=path, first_row=done)
            done += len(y)
    if not done:
        raise data_error(path, None, "no rows: every line is blank or a # comment")


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
