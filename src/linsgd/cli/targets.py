"""``linsgd train DATA --target a,b``: several targets, one run folder each (``OUT/a``, ``OUT/b``).

Each target is trained as its own run on the same features, with the other targets left out of them and
one seed for all (so the same validation rows and the same order of rows): with the squared loss the
targets' problems share X and nothing else, so this is the (d, k) problem column by column. It reads the
data once per target. Each folder holds that target's model file, metrics and summary, which predict,
evaluate, summary and export read as any other; a formula, svmlight files and a loss other than squared
take one target and are refused in one line.
"""

from __future__ import annotations

import argparse
import copy
import os


def train_targets(args: argparse.Namespace, train_one) -> int:
    """Train every target of ``args.target`` (comma-separated) with ``train_one(args)``; the first non-zero
    exit code stops the rest. Every target column is checked before anything is trained or written."""
    from linsgd.cli.options import parse_features
    from linsgd.config import DataConfig, draw_seed
    from linsgd.data.checks import data_error
    from linsgd.data.first_pass import open_typed
    from linsgd.data.formats.svmlight import is_svmlight
    from linsgd.errors import ConfigError

    targets = parse_features(args.target, "target")
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise ConfigError("target", args.target, f"each column once ({', '.join(twice)} listed more than once)")
    if args.formula is not None:
        raise ConfigError("target", args.target, "one target with --formula (the formula names it)")
    if is_svmlight(args.data, args.format):
        raise ConfigError("target", args.target, "none for svmlight files: their target is their first field")
    if getattr(args, "loss", "squared") != "squared":
        raise ConfigError("loss", args.loss, "squared with several targets (train each target alone for another "
                                             "loss)")
    source = open_typed(args.data, DataConfig(target=None, on_bad_rows=args.on_bad_rows,
                                              chunk_bytes=args.chunk_bytes, format=args.format))
    absent = [t for t in targets if t not in source.columns]
    if absent:
        raise data_error(source.path, None, f"--target: column '{absent[0]}' not found (columns: "
                                            f"{', '.join(source.columns)})")
    features = parse_features(args.features) or []
    if set(features) & set(targets):
        raise ConfigError("features", args.features, "columns other than the targets")
    seed = args.seed if args.seed is not None else draw_seed()
    for t in targets:
        one = copy.copy(args)
        others = [o for o in targets if o != t]
        one.target, one.seed, one.out = t, seed, os.path.join(args.out, t)
        one.exclude = ",".join((parse_features(args.exclude, "exclude") or []) + ([] if features else others))
        print(f"target {t} ({targets.index(t) + 1} of {len(targets)}): run folder {one.out}", flush=True)
        code = train_one(one)
        if code:
            return code
    _print_table(args.out, targets)
    return 0


def _print_table(out: str, targets: list[str]) -> None:
    """One line per target: its training (and validation) metrics, from its model file."""
    from linsgd.model import load_model

    print("targets:")
    width = max(len(t) for t in targets)
    for t in targets:
        metrics = load_model(os.path.join(out, t, "model.safetensors")).metrics
        parts = [f"{part} r2 {metrics[part]['r2']:.6g}, rmse {metrics[part]['rmse']:.6g}"
                 for part in ("train", "val") if part in metrics]
        print(f"  {t:<{width}}  {'; '.join(parts)}")
