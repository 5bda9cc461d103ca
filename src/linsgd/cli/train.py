"""``linsgd train DATA --target COL``: fit a model on a CSV/Parquet/.npy file and write a run folder."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from linsgd.cli.options import (
    add_data_flags,
    add_training_flags,
    check_out_dir,
    parse_features,
    size_flag,
    train_config,
)
from linsgd.cli.run_flags import add_scale_flags, plan_of, thread_words
from linsgd.config import MAX_MEMORY, TrainConfig


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train on a CSV, Parquet or .npy file",
                              description="Train linear regression by minibatch SGD on a data file; "
                                          "streams it when it exceeds --max-memory.")
    add_data_flags(p, target_required=True)
    p.add_argument("--weight", default=None, metavar="COLUMN",
                   help="column of sample weights >= 0: each squared residual counts that much (normalised by "
                        "their sum); never a feature")
    add_training_flags(p, practitioner=True)
    g = p.add_argument_group("run")
    g.add_argument("--standardize", action="store_true",
                   help="standardise features (mean/std of the train rows); coefficients reported raw")
    g.add_argument("--val-fraction", type=float, default=0.0,
                   help="share of rows held out for validation, in [0, 1) (default 0; split by --seed)")
    g.add_argument("--early-stopping", action="store_true", help="stop when the val loss stops improving")
    g.add_argument("--patience", type=int, default=5,
                   help="with --early-stopping: epochs without improvement (default 5; --epochs auto: 3)")
    g.add_argument("--tol", type=float, default=TrainConfig().tol,
                   help=f"relative improvement that counts (default {TrainConfig().tol:g})")
    g.add_argument("--cv-folds", type=int, default=None, metavar="K",
                   help="with --alpha auto: folds of consecutive training rows (default 5, as scikit-learn's KFold)")
    g.add_argument("--out", default="linsgd-run", help="run folder (default ./linsgd-run)")
    g.add_argument("--max-memory", default=None,
                   help="bytes the rows may take in memory, e.g. 512M, 2G (default: 1/4 of RAM); "
                        "beyond it training streams from a temporary file")
    g.add_argument("--tmp-dir", default=None, help="folder of that temporary file (default: system temp)")
    g.add_argument("--quiet", action="store_true", help="no progress bar, no per-epoch lines")
    g.add_argument("--plots", action="store_true",
                   help="also draw loss.png, fit.png, residuals.png and coef.png (matplotlib: most of a small "
                        "run's time); without it `linsgd plot OUT` draws them later from the run folder")
    add_scale_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linsgd import plots

    if args.target is not None and "," in args.target:  # several targets: one run each (cli/targets.py)
        from linsgd.cli.targets import train_targets

        return train_targets(args, run)

    # With --plots, first of all, rank 0 (torchrun's RANK, or a plain process) forks the child that draws the
    # run folder's figures: it imports numpy and matplotlib (~0.5 s) while this process validates, reads and
    # trains, and draws when write_run asks (linsgd.plots.Painter; stopped, having written nothing, on any error).
    with plots.Painter(background=args.plots and os.environ.get("RANK", "0") == "0") as painter:
        return _run(args, painter)


def _run(args: argparse.Namespace, painter) -> int:
    import contextlib
    import dataclasses

    from linsgd.config import DataConfig
    from linsgd.data.formats.svmlight import is_svmlight
    from linsgd.data.formula_text import apply_formula
    from linsgd.errors import ConfigError
    from linsgd.runs.distributed import broadcast_int, process_group
    from linsgd.storage import locked_folder

    # Validate every flag before anything is read or written.
    config = dataclasses.replace(train_config(args), patience=args.patience if args.early_stopping else None,
                                 tol=args.tol).resolved()
    budget = size_flag(args.max_memory, "max_memory", MAX_MEMORY) if args.max_memory else None
    if is_svmlight(args.data, args.format):
        from linsgd.cli.svmlight import train_svmlight

        if args.formula is not None:
            raise ConfigError("formula", args.formula, "none for svmlight files: their columns have no names")
        return train_svmlight(args, config, budget)
    if config.schedule == "adagrad":  # a table's rows are dense: refused before anything is read
        from linsgd.data.sparse_input import ADAGRAD_DENSE

        raise ConfigError("schedule", config.schedule, ADAGRAD_DENSE)
    if args.target is None and args.formula is None:
        raise ConfigError("target", None, "the name of the target column (--target COL, or --formula 'COL ~ …')")
    features = parse_features(args.features)
    exclude = parse_features(args.exclude, "exclude") or ()
    data = DataConfig(target=args.target, features=tuple(features) if features else None,
                      val_fraction=args.val_fraction, standardize=args.standardize, max_memory=budget,
                      on_bad_rows=args.on_bad_rows, chunk_bytes=args.chunk_bytes, tmp_dir=args.tmp_dir,
                      weight=args.weight, missing=args.missing, max_levels=args.max_levels,
                      exclude=tuple(exclude), format=args.format, hash_bits=args.hash_bits, formula=args.formula)
    data = apply_formula(data).validate()
    out = check_out_dir(args.out, "out")
    _check_exact_options(config, args)
    args.alpha_folds = _alpha_folds(config, args)
    plan = plan_of(args, out)
    main = plan.topology.is_main
    if main and sys.stderr.isatty():  # the notice when the kernels compile: for a person waiting, like the
        from linsgd._jit_cache import show_on_stderr  # progress bars (scripts and logs get stable output)

        show_on_stderr("linsgd train")
    if args.early_stopping and args.val_fraction == 0 and main:
        print("note: --early-stopping without --val-fraction watches the training loss", file=sys.stderr)
    quiet = contextlib.nullcontext() if main else contextlib.redirect_stdout(open(os.devnull, "w"))
    # one run per folder: a second `train --out` into it is refused while this one runs (rank 0 holds it)
    lock = locked_folder(out, "out") if main else contextlib.nullcontext()
    with lock, process_group(plan.topology, timeout_s=args.dist_timeout), quiet:
        # every rank uses rank 0's seed (a resume without --seed: the checkpoint's)
        seed = plan.checkpoint_seed() if main and args.seed is None else None
        config = dataclasses.replace(config, seed=broadcast_int(config.seed if seed is None else seed,
                                                                plan.topology))
        _report(args, config, data, out, plan, painter)
    return 0


def _check_exact_options(config, args) -> None:
    """--solver exact is one pass over the data (streamed or not, one process or torchrun) with nothing to
    checkpoint: --checkpoint-every and --resume are refused before anything is read (see linsgd.sgd.fit)."""
    from linsgd.errors import ConfigError
    from linsgd.sgd.exact_fit import EXACT_NO_CHECKPOINTS

    if config.solver == "exact" and (args.checkpoint_every or args.resume):
        raise ConfigError("solver", "exact", EXACT_NO_CHECKPOINTS)


def _alpha_folds(config, args) -> int | None:
    """K of --alpha auto (None: --alpha is a number); refused before anything is read without a penalty to
    tune, with K < 2, under torchrun, or --cv-folds without --alpha auto."""
    from linsgd.errors import ConfigError
    from linsgd.sgd.alpha_search import NEEDS_PENALTY

    if args.alpha != "auto":
        if args.cv_folds is not None:
            raise ConfigError("cv_folds", args.cv_folds, "only with --alpha auto")
        return None
    if config.penalty is None:
        raise ConfigError("alpha", "auto", NEEDS_PENALTY)
    folds = 5 if args.cv_folds is None else args.cv_folds
    if folds < 2:
        raise ConfigError("cv_folds", folds, "an integer >= 2")
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise ConfigError("alpha", "auto", "one process: under torchrun, choose alpha first on one process")
    return folds


def _print_gap(gap: dict) -> None:
    """The optimality gap against the objective the run optimised (penalised: no standard errors)."""
    if "method" in gap:  # a robust or quantile loss: the run is its trusted optimum
        print(f"optimality gap (train rows, objective {gap['objective']}): {gap['loss']:.6g} vs trusted optimum "
              f"{gap['optimum']:.6g} ({gap['method']}{'' if gap['converged'] else ', NOT converged'}), "
              f"relative {gap['relative']:.3g}")
        return
    if "loss" not in gap:
        if gap:
            print(f"optimality gap: unavailable ({gap['unavailable']})")
        return
    g = {k: "nan" if v is None else f"{v:.6g}" if k in ("loss", "optimum") else f"{v:.3g}"
         for k, v in gap.items() if k in ("loss", "optimum", "relative", "mahalanobis", "max_se_units")}
    line = (f"optimality gap (train rows, objective {gap['objective']}): {g['loss']} vs exact optimum "
            f"{g['optimum']}, relative {g['relative']}")
    if "unavailable" in gap:
        print(line + " (no standard errors: the objective is penalised)")
    else:
        print(f"{line}; distance {g['mahalanobis']} (Mahalanobis), max {g['max_se_units']} standard errors per "
              f"coefficient")


def _announce(lines: list[str], warnings: list[str]) -> None:
    """Every column and its role, before training; warnings on stderr."""
    print("columns:")
    print("\n".join(lines))
    for w in warnings:
        print(f"linsgd train: warning: {w}", file=sys.stderr)


def print_coefficients(table: dict[str, float]) -> None:
    """The coefficients on the raw scale, one line per feature, the intercept last."""
    width = max(len(n) for n in table)
    print("coefficients (raw scale):")
    for name, value in table.items():
        print(f"  {name:<{width}}  {value: .6g}")


def _report(args, config, data, out: Path, plan, painter) -> None:
    from linsgd.runs.run import fit_file

    if not args.quiet:
        print(f"seed {config.seed} (repeat with --seed {config.seed})")
    main = plan.topology.is_main
    run = fit_file(args.data, data, config, progress=not args.quiet and sys.stderr.isatty() and main, plan=plan,
                   announce=_announce if main else None, alpha_folds=args.alpha_folds)
    _summary(args, config, plan, run, out, painter)


def _summary(args, config, plan, run, out: Path, painter) -> None:
    """What the run did (printed), then on rank 0 the run folder and the metrics."""
    from linsgd.runs.checkpoint import CHECKPOINT
    from linsgd.runs.folder import RUN_PICTURES, write_run
    from linsgd.runs.pictures import PICTURES, SAMPLE

    main = plan.topology.is_main
    if run.skipped:
        print(f"skipped {run.skipped} bad rows (--on-bad-rows skip)")
    if run.dropped:
        print("dropped rows with an empty cell: " + ", ".join(f"{c} {n}" for c, n in run.dropped.items()))
    if run.unseen:
        print("validation rows with a level unseen in training (all-zero indicators): "
              + ", ".join(f"{c} {n}" for c, n in run.unseen.items()))
    if run.alpha_cv is not None:
        from linsgd.sgd.alpha_search import cv_lines

        print("\n".join(cv_lines(run.alpha_cv)))
    if not args.quiet:
        mode = "streamed (block shuffle, see linsgd.data.views)" if run.streamed else "in memory"
        world = plan.topology.world_size
        if config.solver == "exact" and plan.topology.distributed:
            mode += f"; {world} ranks each solved their share of the rows, merged exactly"
        elif run.sharded:
            mode += f"; rank 0 of {world} trained on its shard of the Parquet files"
        elif plan.topology.distributed:
            mode += f"; {world} ranks shared each global batch of {world}x{config.batch_size}"
        used = run.result.config
        mode += thread_words(args.threads or 1, used)  # words only for a --threads the user gave
        if plan.topology.distributed and config.solver != "exact":
            mode += f"; rank 0 spent {run.sync_seconds:.3f} s in {run.sync_calls} all-reduces"
        if run.resumed_at is not None:
            mode += f"; resumed at epoch {run.resumed_at[0] + 1}, example {run.resumed_at[1]}"
        print(f"{run.train_rows} train rows{f', {run.val_rows} val rows' if run.val_rows else ''}; {mode}")
        print(f"solver: {used.solver_reason or used.solver}")
        r = run.result
        for k, loss in enumerate(r.history, start=1):
            print(f"epoch {k}, loss {loss:f}" + (f", val loss {r.val_history[k - 1]:f}" if r.val_history else ""))
    if not main:  # only rank 0 writes
        return
    earlier = [name for name in RUN_PICTURES if (out / name).exists()]
    write_run(run, out, painter, pictures=args.plots)
    removed = [name for name in earlier if not (out / name).exists()]
    for part, m in ((k, v) for k, v in run.model.metrics.items() if k in ("train", "val")):
        print(f"{part}: " + ", ".join(f"{k} {v:.6g}" for k, v in m.items() if k != "optimality_gap"))
    _print_gap(run.model.metrics["train"].get("optimality_gap", {}))
    _convergence_lines(run, run.model.metrics["train"].get("optimality_gap", {}))
    print_coefficients(run.model.coef_table())
    extra = f", {CHECKPOINT}" if (out / CHECKPOINT).exists() else ""
    if args.plots:
        extra += ", cv.png" if run.alpha_cv is not None else ""
        print(f"wrote {out}/model.safetensors, config.json, metrics.jsonl, {SAMPLE}, {', '.join(PICTURES)}{extra}")
    else:
        print(f"wrote {out}/model.safetensors, config.json, metrics.jsonl, {SAMPLE}{extra}; pictures not drawn "
              f"(--plots draws them): linsgd plot {out} draws {', '.join(PICTURES)}")
    if removed:
        print(f"removed {out}'s {', '.join(removed)}: they showed the run the folder held before")


def _convergence_lines(run, gap: dict) -> None:
    """Early stopping's epochs, the epoch cap when ``--epochs auto`` reached it, and one ``warning: not
    converged: …`` line when the run is far (linsgd.sgd.convergence: the optimality gap against its floor and
    the distance in standard errors when the objective is least squares, else the falling loss)."""
    from linsgd.sgd.convergence import GAP_THRESHOLD, Distance, capped, diagnose

    r = run.result
    if r.stopped_epoch:
        print(f"stopped after epoch {r.stopped_epoch} (no relative improvement > {r.config.tol:g} for "
              f"{r.config.stop_patience} epochs); kept epoch {r.best_epoch}")
    if r.config.solver != "sgd":
        return
    if capped(r):
        print(f"note: --epochs auto ran into the cap of --max-epochs {r.config.max_epochs} while the loss still "
              f"improved; raise --max-epochs to let it finish")
    if "method" in gap and gap["relative"] > GAP_THRESHOLD:  # another loss: against its trusted optimum
        print(f"warning: not converged: the objective is {gap['relative']:.3g} (relative) above the trusted optimum "
              f"after {len(r.history)} epochs; more --epochs, --average, or --solver exact", file=sys.stderr)
        return
    known = r.config.penalty is None and run.data.weight is None and "relative" in gap and "method" not in gap
    found = Distance.from_gap(gap, gap.get("null") or 0.0) if known else None
    why = diagnose(r, found, cli=True, se_rule=True)
    if why is not None:
        print(f"warning: not converged: {why}", file=sys.stderr)
