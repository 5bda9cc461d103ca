"""``linsgd train DATA --target COL``: fit a model on a CSV/Parquet/.npy file and write a run folder."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from linsgd.cli.options import add_training_flags, train_config
from linsgd.cli.scale import CHECKPOINT, add_scale_flags

_FIT_SAMPLE = 2000  # rows drawn in fit.png


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train on a CSV, Parquet or .npy file",
                              description="Train linear regression by minibatch SGD on a data file; "
                                          "streams it when it exceeds --max-memory.")
    add_data_flags(p, target_required=True)
    add_training_flags(p)
    g = p.add_argument_group("run")
    g.add_argument("--standardize", action="store_true",
                   help="standardise features (mean/std of the train rows); coefficients reported raw")
    g.add_argument("--val-fraction", type=float, default=0.0,
                   help="share of rows held out for validation, in [0, 1) (default 0; split by --seed)")
    g.add_argument("--early-stopping", action="store_true", help="stop when the val loss stops improving")
    g.add_argument("--patience", type=int, default=5, help="epochs without improvement (default 5)")
    g.add_argument("--tol", type=float, default=0.0, help="improvement that counts (default 0)")
    g.add_argument("--out", default="linsgd-run", help="run folder (default ./linsgd-run)")
    g.add_argument("--max-memory", default=None,
                   help="bytes the rows may take in memory, e.g. 512M, 2G (default: 1/4 of RAM); "
                        "beyond it training streams from a temporary file")
    g.add_argument("--tmp-dir", default=None, help="folder of that temporary file (default: system temp)")
    g.add_argument("--quiet", action="store_true", help="no progress bar, no per-epoch lines")
    add_scale_flags(p)
    p.set_defaults(func=run)


def add_data_flags(p: argparse.ArgumentParser, *, target_required: bool) -> None:
    """DATA, --target, --features, --on-bad-rows, --chunk-size."""
    p.add_argument("data", metavar="DATA", help="a .csv, .parquet, .npy file, a folder or glob of Parquet")
    if target_required:
        p.add_argument("--target", required=True, help="the target column")
        p.add_argument("--features", default=None,
                       help="feature columns a,b,c (default: every other numeric column)")
    p.add_argument("--on-bad-rows", choices=("error", "skip"), default="error",
                   help="stop at the first bad row (default) or skip bad rows and count them")
    p.add_argument("--chunk-size", type=int, default=None, help="bytes read per chunk (default 4 MiB)")


def run(args: argparse.Namespace) -> int:
    import contextlib
    import dataclasses

    from linsgd.cli import scale
    from linsgd.data.table import default_max_memory, parse_size
    from linsgd.distributed import Topology, broadcast_int, process_group
    from linsgd.errors import ConfigError

    # Validate every flag before anything is read or written.
    config = dataclasses.replace(train_config(args), patience=args.patience if args.early_stopping else None,
                                 tol=args.tol).resolved()
    if not (0.0 <= args.val_fraction < 1.0):
        raise ConfigError("val_fraction", args.val_fraction, "a number in [0, 1)")
    every = scale.parse_every(args.checkpoint_every)
    scale.check_scale_flags(args)
    topology = Topology.from_env()
    if args.early_stopping and args.val_fraction == 0 and topology.is_main:
        print("note: --early-stopping without --val-fraction watches the training loss", file=sys.stderr)
    try:
        budget = parse_size(args.max_memory) if args.max_memory else default_max_memory()
    except ValueError as e:
        raise ConfigError("max_memory", args.max_memory, "a size such as 512M or 2G") from e
    out = check_out_dir(args.out, "out")
    quiet = contextlib.nullcontext() if topology.is_main else contextlib.redirect_stdout(open(os.devnull, "w"))
    with process_group(topology, timeout_s=args.dist_timeout), quiet:
        # every rank starts from rank 0's seed (a resumed run without --seed keeps its checkpoint's)
        seed = scale.checkpoint_seed(args, out) if topology.is_main else None
        config = dataclasses.replace(config, seed=broadcast_int(config.seed if seed is None else seed, topology))
        loaded, result, source = _fit(args, config, budget, topology, out, every)
        if topology.is_main:
            _write_run(args, out, config, loaded, result, source)
    return 0


def check_out_dir(path: str, flag: str) -> Path:
    """The output folder, if it exists and is writable or can be created; nothing is created yet."""
    from linsgd.errors import ConfigError

    p = Path(path)
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise ConfigError(flag, path, "a writable folder")
    return p


def _fit(args, config, budget: int, topology, out: Path, every):
    from linsgd.checkpoint import Checkpointer
    from linsgd.cli import scale
    from linsgd.distributed import Sync
    from linsgd.storage import ensure_writable_dir
    from linsgd.train import train_data

    source, loaded, data, val, mode = _open_data(args, config, budget, topology)
    ident = scale.identity(args, config, loaded.fingerprint, topology)
    resume = scale.resume_state(args, out, ident, topology, len(source.features), config.dtype)
    checkpoints = None
    if every:
        if topology.is_main:
            ensure_writable_dir(out, "out")
        checkpoints = Checkpointer(out / CHECKPOINT, ident, every[0], every[1], enabled=topology.is_main)
    if not args.quiet:
        print(f"seed {config.seed} (repeat with --seed {config.seed}); {data.n} train rows"
              f"{f', {val.n} val rows' if val else ''}; {mode}"
              f"{f'; resumed at epoch {resume.epoch + 1}, example {resume.position}' if resume else ''}")
    progress = not args.quiet and sys.stderr.isatty() and topology.is_main
    result = train_data(data, config, val=val, progress=progress, sync=Sync(topology, args.sync_every),
                        checkpoints=checkpoints, resume=resume)
    if not args.quiet:
        for k, loss in enumerate(result.history, start=1):
            v = f", val loss {result.val_history[k - 1]:f}" if result.val_history else ""
            print(f"epoch {k}, loss {loss:f}{v}")
    return loaded, result, source


def _open_data(args, config, budget: int, topology):
    """Read the data (under torchrun: all of it on every rank, or this rank's shard when it cannot fit)."""
    from linsgd.data.sources import DEFAULT_CHUNK_BYTES, open_source, parse_features
    from linsgd.data.stream import InMemory, Streamed
    from linsgd.data.table import load_tables
    from linsgd.distributed import RankSlice, Sharded

    kw = dict(target=args.target, features=parse_features(args.features), dtype=config.dtype,
              on_bad_rows=args.on_bad_rows, chunk_bytes=args.chunk_size or DEFAULT_CHUNK_BYTES)
    source = open_source(args.data, **kw)
    row_bytes = (len(source.features) + 1) * (4 if config.dtype == "float32" else 8)
    sharded = topology.distributed and _shardable(source, row_bytes, budget)
    if sharded:
        source = _shard_source(args, source, topology, kw)
    progress = not args.quiet and sys.stderr.isatty() and topology.is_main
    loaded = load_tables(source, seed=config.seed, val_fraction=args.val_fraction,
                         standardize=args.standardize, max_memory=budget, tmp_dir=args.tmp_dir,
                         progress=progress)
    if loaded.skipped:
        print(f"skipped {loaded.skipped} bad rows (--on-bad-rows skip)")

    def view(table):
        if table is None or table.in_memory:
            return table and InMemory(table.X, table.y)
        return Streamed(table, window_rows=max(config.batch_size, budget // (4 * row_bytes)))

    data, val = view(loaded.train), view(loaded.val)
    mode = "in memory" if loaded.train.in_memory else "streamed (block shuffle, see linsgd.data.stream)"
    if sharded:
        data, val = Sharded(data, topology), val and Sharded(val, topology)
        mode += f"; rank 0 of {topology.world_size} trains on its shard of the Parquet files"
    elif topology.distributed:
        data = RankSlice(data, topology, config.batch_size)
        mode += f"; {topology.world_size} ranks share each global batch of {topology.world_size}x{config.batch_size}"
    return source, loaded, data, val, mode


def _shardable(source, row_bytes: int, budget: int) -> bool:
    """Parquet that cannot fit in memory is split by file between ranks; anything else is read whole."""
    return hasattr(source, "files") and source.num_rows is not None and source.num_rows * row_bytes > budget


def _shard_source(args, source, topology, kw):
    from linsgd.data.parquet_file import ParquetSource
    from linsgd.distributed import shard
    from linsgd.errors import ConfigError

    if len(source.files) < topology.world_size:
        raise ConfigError("data", args.data, f"at least {topology.world_size} Parquet files to share between "
                                             f"{topology.world_size} ranks when it exceeds --max-memory "
                                             f"(it has {len(source.files)})")
    return ParquetSource(shard(source.files, topology), args.data, **kw)


def _write_run(args, out: Path, config, loaded, result, source) -> None:
    import numpy as np

    from linsgd import plots
    from linsgd.metrics import Metrics
    from linsgd.model import LinearModel, save_model
    from linsgd.storage import atomic_path, ensure_writable_dir

    std = loaded.standardizer
    w, b = std.to_raw(result.w, result.b) if std else (np.asarray(result.w, np.float64), result.b)
    metrics = {"train": _metrics(loaded.train, result, Metrics)}
    if loaded.val is not None:
        metrics["val"] = _metrics(loaded.val, result, Metrics)
    model = LinearModel(w=w, b=b, feature_names=source.features, target=source.target, dtype=config.dtype,
                        mean=std.mean if std else None, scale=std.scale if std else None,
                        config=config.to_dict(), metrics=metrics, fingerprint=loaded.fingerprint)
    ensure_writable_dir(out, "out")
    save_model(model, out / "model.safetensors")
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps({**config.to_dict(), **_data_settings(args)}, indent=2) + "\n")
    with atomic_path(out / "metrics.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(_epoch_line(result, k)) + "\n" for k in range(len(result.history))))
    series = {"train": result.history, **({"val": result.val_history} if result.val_history else {})}
    plots.loss_curve(series, out / "loss.png")
    table = loaded.val or loaded.train
    X, y = table.read(0, min(table.n, _FIT_SAMPLE))
    plots.scatter(y, X @ result.w + result.b, out / "fit.png", xlabel=f"actual {source.target}",
                  ylabel="predicted", title="predicted vs actual", size=2)
    for part, m in metrics.items():
        print(f"{part}: " + ", ".join(f"{k} {v:.6g}" for k, v in m.items()))
    print("w =", np.array2string(w, precision=4), f"b = {b:.4f}")
    extra = ", checkpoint.safetensors" if (out / CHECKPOINT).exists() else ""
    print(f"wrote {out}/model.safetensors, config.json, metrics.jsonl, loss.png, fit.png{extra}")
    for t in (loaded.train, loaded.val):
        if t is not None:
            t.close()


def _metrics(table, result, Metrics) -> dict:
    acc = Metrics()
    step = 1 << 16
    for a in range(0, table.n, step):
        X, y = table.read(a, min(a + step, table.n))
        acc.update(y, X.astype("float64") @ result.w + result.b)
    return acc.result()


def _epoch_line(result, k: int) -> dict:
    line = {"epoch": k + 1, "train_loss": result.history[k], "seconds": round(result.epoch_seconds[k], 6)}
    if result.val_history:
        line["val_loss"] = result.val_history[k]
    return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in line.items()}


def _data_settings(args) -> dict:
    keys = ("data", "target", "features", "on_bad_rows", "chunk_size", "standardize", "val_fraction",
            "early_stopping", "max_memory")
    return {k: getattr(args, k) for k in keys}
