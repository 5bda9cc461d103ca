"""``linsgd train DATA --target COL``: fit a model on a CSV/Parquet/.npy file and write a run folder."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from linsgd.cli.options import add_training_flags, size_flag, size_value, train_config
from linsgd.cli.scale import add_scale_flags
from linsgd.config import MAX_CHUNK_BYTES, MAX_MEMORY


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
    """DATA, --target, --features, --on-bad-rows, --chunk-bytes."""
    p.add_argument("data", metavar="DATA", help="a .csv, .parquet, .npy file, a folder or glob of Parquet")
    if target_required:
        p.add_argument("--target", required=True, help="the target column")
        p.add_argument("--features", default=None,
                       help="feature columns a,b,c (default: every other numeric column)")
    p.add_argument("--on-bad-rows", choices=("error", "skip"), default="error",
                   help="stop at the first bad row (default) or skip bad rows and count them")
    p.add_argument("--chunk-bytes", type=size_value(MAX_CHUNK_BYTES, "1G"), default=4 << 20,
                   help="bytes read per chunk, e.g. 64M (default 4M); raise it for rows longer than that")


def run(args: argparse.Namespace) -> int:
    import contextlib
    import dataclasses

    from linsgd.cli.scale import launch_of
    from linsgd.config import DataConfig
    from linsgd.data.sources import parse_features
    from linsgd.distributed import broadcast_int, process_group
    from linsgd.storage import locked_folder

    # Validate every flag before anything is read or written.
    config = dataclasses.replace(train_config(args), patience=args.patience if args.early_stopping else None,
                                 tol=args.tol).resolved()
    budget = size_flag(args.max_memory, "max_memory", MAX_MEMORY) if args.max_memory else None
    features = parse_features(args.features)
    data = DataConfig(target=args.target, features=tuple(features) if features else None,
                      val_fraction=args.val_fraction, standardize=args.standardize, max_memory=budget,
                      on_bad_rows=args.on_bad_rows, chunk_bytes=args.chunk_bytes, tmp_dir=args.tmp_dir).validate()
    out = check_out_dir(args.out, "out")
    _check_whole_array_options(config, args)
    launch = launch_of(args, out)
    main = launch.topology.is_main
    if args.early_stopping and args.val_fraction == 0 and main:
        print("note: --early-stopping without --val-fraction watches the training loss", file=sys.stderr)
    quiet = contextlib.nullcontext() if main else contextlib.redirect_stdout(open(os.devnull, "w"))
    # one run per folder: a second `train --out` into it is refused while this one runs (rank 0 holds it)
    lock = locked_folder(out, "out") if main else contextlib.nullcontext()
    with lock, process_group(launch.topology, timeout_s=args.dist_timeout), quiet:
        # every rank uses rank 0's seed (a resume without --seed: the checkpoint's)
        seed = launch.checkpoint_seed() if main and args.seed is None else None
        config = dataclasses.replace(config, seed=broadcast_int(config.seed if seed is None else seed,
                                                                launch.topology))
        _report(args, config, data, out, launch)
    return 0


def _check_whole_array_options(config, args) -> None:
    """--solver exact and --lr auto run on the whole in-memory data of one process (see linsgd.train)."""
    from linsgd.errors import ConfigError

    if config.solver != "exact" and config.lr != "auto":
        return
    if args.checkpoint_every or args.resume or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        param, value = ("solver", "exact") if config.solver == "exact" else ("lr", "auto")
        raise ConfigError(param, value, "a run without --checkpoint-every, --resume or torchrun "
                                        "(not supported yet for those)")


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


def _report(args, config, data, out: Path, launch) -> None:
    import numpy as np

    from linsgd.runs import fit_file, write_run

    if not args.quiet:
        print(f"seed {config.seed} (repeat with --seed {config.seed})")
    main = launch.topology.is_main
    run = fit_file(args.data, data, config, progress=not args.quiet and sys.stderr.isatty() and main,
                   launch=launch)
    if run.skipped:
        print(f"skipped {run.skipped} bad rows (--on-bad-rows skip)")
    if not args.quiet:
        mode = "streamed (block shuffle, see linsgd.data.stream)" if run.streamed else "in memory"
        world = launch.topology.world_size
        if launch.sharded:
            mode += f"; rank 0 of {world} trained on its shard of the Parquet files"
        elif launch.topology.distributed:
            mode += f"; {world} ranks shared each global batch of {world}x{config.batch_size}"
        if launch.topology.distributed:
            mode += f"; rank 0 spent {launch.sync.seconds:.3f} s in {launch.sync.calls} all-reduces"
        if launch.resumed is not None:
            mode += f"; resumed at epoch {launch.resumed.epoch + 1}, example {launch.resumed.position}"
        print(f"{run.train_rows} train rows{f', {run.val_rows} val rows' if run.val_rows else ''}; {mode}")
        r = run.result
        for k, loss in enumerate(r.history, start=1):
            print(f"epoch {k}, loss {loss:f}" + (f", val loss {r.val_history[k - 1]:f}" if r.val_history else ""))
    if not main:  # only rank 0 writes
        return
    write_run(run, out)
    for part, m in run.model.metrics.items():
        print(f"{part}: " + ", ".join(f"{k} {v:.6g}" for k, v in m.items() if k != "optimality_gap"))
    gap = run.model.metrics["train"].get("optimality_gap", {})
    if "unavailable" in gap:
        print(f"optimality gap: unavailable ({gap['unavailable']})")
    elif gap:
        print(f"optimality gap (train rows): loss {gap['loss']:.6g} vs exact optimum {gap['optimum']:.6g}, relative "
              f"{gap['relative']:.3g}; distance {gap['mahalanobis']:.3g} (Mahalanobis), max "
              f"{gap['max_se_units']:.3g} standard errors per coefficient")
    print("w =", np.array2string(run.model.w, precision=4), f"b = {run.model.b:.4f}")
    extra = ", checkpoint.safetensors" if (out / "checkpoint.safetensors").exists() else ""
    print(f"wrote {out}/model.safetensors, config.json, metrics.jsonl, loss.png, fit.png{extra}")
