"""svmlight/libsvm files on the command line: ``linsgd train FILE.svm`` (read as CSR rows, trained by the sparse
engine, its model written to ``--out``), and the flags that name columns or need a table, which train,
predict and evaluate refuse for such a file instead of ignoring them."""

from __future__ import annotations

from linsgd.cli.options import check_out_dir

# flags that name columns or need a table: an svmlight run has neither (flag, its value when not given)
_NOT_SVMLIGHT = (("target", None), ("features", None), ("exclude", None), ("weight", None), ("val_fraction", 0.0),
                 ("standardize", False), ("early_stopping", False), ("missing", "error"), ("max_levels", 100),
                 ("hash_bits", None), ("on_bad_rows", "error"), ("id", None))


def refuse_table_flags(args) -> None:
    """A ConfigError naming the first flag given that an svmlight file has no use for (no named columns, no
    table); flags the command does not have are skipped."""
    from linsgd.errors import ConfigError

    for flag, unset in _NOT_SVMLIGHT:
        if getattr(args, flag, unset) not in (unset, None):
            raise ConfigError(flag, getattr(args, flag), f"not given with an svmlight file (--{flag.replace('_', '-')} "
                                                         "needs named columns or a table)")


def train_svmlight(args, config, budget) -> int:
    """An svmlight file: read as CSR, trained by the sparse engine, the model written to ``--out``."""
    import dataclasses

    from linsgd.cli.run_flags import plan_of
    from linsgd.errors import ConfigError
    from linsgd.runs.svmlight_run import fit_svmlight, write_run_folder
    from linsgd.sgd.exact_fit import EXACT_NO_CHECKPOINTS

    refuse_table_flags(args)
    if config.solver == "exact" and (args.checkpoint_every or args.resume):
        raise ConfigError("solver", "exact", EXACT_NO_CHECKPOINTS)
    if args.threads is None:  # the default: the sparse engine runs on one thread
        config = dataclasses.replace(config, threads=1)
    out = check_out_dir(args.out, "out")
    plan = plan_of(args, out)
    if args.seed is None and (seed := plan.checkpoint_seed()) is not None:  # a resume without --seed: its seed
        config = dataclasses.replace(config, seed=seed)
    result, model, resumed_at, streamed, reading = fit_svmlight(args.data, config, chunk_bytes=args.chunk_bytes,
                                                                max_memory=budget, plan=plan, tmp_dir=args.tmp_dir)
    write_run_folder(result, model, args.data, out)
    how = "streamed: over --max-memory as CSR" if result.config.solver == "sgd" and streamed else "in memory"
    print(f"read {args.data} (svmlight): {len(model.w):,} feature columns, target 'y', {how} ({reading:.2f} s)")
    print(f"solver: {result.config.solver_reason or result.config.solver}")
    if resumed_at is not None:
        print(f"resumed at epoch {resumed_at[0] + 1}, example {resumed_at[1]}")
    train = model.metrics["train"]
    done = "the exact solution" if result.config.solver == "exact" else f"{len(result.history)} epoch(s)"
    print(f"trained: {done}, train mse {train['mse']:.6g}, r2 {train['r2']:.4g}")
    print(f"wrote {out / 'model.safetensors'}, config.json, metrics.jsonl")
    return 0
