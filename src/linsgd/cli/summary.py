"""``linsgd summary MODEL DATA``: the exact least-squares summary of DATA and how far MODEL is from it."""

from __future__ import annotations

import argparse
import json
import sys

from linsgd.cli.options import add_data_flags


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("summary", help="statistical summary and the model's optimality gap",
                              description="Solve least squares exactly on DATA in one streamed pass (float64 "
                                          "QR) with MODEL's features and target; print coefficients, standard "
                                          "errors, t, p, confidence intervals, R², the condition number, "
                                          "warnings, and how far MODEL's coefficients are from the optimum of "
                                          "the objective it was trained on (its penalty, if any).")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train, or its run folder")
    add_data_flags(p, target_required=False)
    p.add_argument("--target", default=None, help="the target column (default: the model's)")
    p.add_argument("--weight", default=None, metavar="COL",
                   help="column of sample weights >= 0: weighted least squares (default: the model's training "
                        "weight column, when DATA has it; 'none': unweighted)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the intervals (default 0.95)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linsgd.cli.predict import table_of, weight_column
    from linsgd.errors import ConfigError
    from linsgd.lstsq.qr import exact
    from linsgd.lstsq.summary import summarize
    from linsgd.model import load_model

    if not 0 < args.confidence < 1:
        raise ConfigError("confidence", args.confidence, "a number in (0, 1), e.g. 0.95")
    model, notes = load_model(args.model), []
    table = table_of(args, model, args.target or model.target, dtype="float64",
                     weight=weight_column(args, model, notes))
    import numpy as np

    zero = [0]  # rows of weight 0: left out of the fit, as absent rows

    def chunks():
        for c in table.chunks():
            zero[0] += 0 if c.s is None else int(np.count_nonzero(c.s == 0))
            yield c.X, c.y, c.s
    solution = exact(chunks(), feature_names=model.feature_names)
    for note in notes:
        print(note, file=sys.stderr)
    rows = rows_used(table, solution.n, model.target, zero_weight=zero[0])
    summary, gap = summarize(solution, confidence=args.confidence), _gap(model, table, solution)
    if args.json:
        print(json.dumps(summary.to_dict() | {"rows": rows, "optimality_gap": gap.to_dict()}))
    else:
        print(summary)
        print(rows["line"])
        print(f"model {args.model}: {gap}")
    return 0


def rows_used(table, n: int, target: str, zero_weight: int = 0) -> dict:
    """How many of the data rows the summary used, and why the others were left out (an empty cell, per
    column — the target's included —, a bad row skipped by ``--on-bad-rows skip``, a sample weight of 0)."""
    dropped = dict(table.dropped)
    empty = table.cells.dropped_rows
    total = n + empty + table.skipped + zero_weight
    why = [f"{k} with an empty cell in '{c}'{' (the target)' if c == target else ''}" for c, k in dropped.items()]
    why += [f"{table.skipped} bad rows skipped (--on-bad-rows skip)"] if table.skipped else []
    why += [f"{zero_weight} with sample weight 0 in '{table.weight}'"] if zero_weight else []
    line = f"rows: {n} of {total} used" + (f"; left out: {'; '.join(why)}" if why else "")
    return {"used": n, "total": total, "dropped": dropped, "skipped": table.skipped, "zero_weight": zero_weight,
            "weight": table.weight, "line": line}


def _gap(model, source, least_squares):
    """The model's optimality gap against the objective its training optimised (its config's penalty).

    The penalty is always that of the raw-scale coefficients, also for a model trained on standardised
    features (``--standardize``, ``--lr auto``), so the gap is measured on the raw rows. Without a penalty
    the raw least-squares solution above is used; with one, one more streamed pass solves the penalised one.
    """
    from types import SimpleNamespace

    from linsgd.lstsq.penalized import penalty_of
    from linsgd.lstsq.qr import exact
    from linsgd.lstsq.summary import optimality_gap

    alpha, l1_ratio = penalty_of(SimpleNamespace(**model.config))
    if alpha == 0:
        return optimality_gap(least_squares, model.w, model.b)
    solution = exact(((c.X, c.y, c.s) for c in source.chunks()), feature_names=model.feature_names, alpha=alpha,
                     l1_ratio=l1_ratio)
    return optimality_gap(solution, model.w, model.b)
