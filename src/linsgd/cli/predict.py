"""``linsgd predict MODEL DATA --out PRED`` and ``linsgd evaluate MODEL DATA --target COL``, streamed."""

from __future__ import annotations

import argparse
import json
import math
import sys

from linsgd.cli.options import add_data_flags


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("predict", help="predict with a model file, streamed",
                              description="Predict with MODEL on DATA (columns matched by name, any "
                                          "order) and write the column 'prediction' to PRED.")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train, or its run folder")
    add_data_flags(p, target_required=False)
    p.add_argument("--out", required=True, help="predictions file: .csv or .parquet")
    p.add_argument("--id", default=None, metavar="COL",
                   help="copy this column next to the prediction (default: the pandas index, or a column "
                        "named id, ID or *_id, when DATA has one; 'none': no column)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=predict)
    p = subparsers.add_parser("evaluate", help="MSE, RMSE, MAE, R² of a model on a data file",
                              description="Evaluate MODEL on DATA against its column --target.")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train, or its run folder")
    add_data_flags(p, target_required=False)
    p.add_argument("--target", default=None, help="the target column (default: the model's)")
    p.add_argument("--weight", default=None, metavar="COL",
                   help="column of sample weights >= 0: weighted MSE, RMSE, MAE and R² (default: the model's "
                        "training weight column, when DATA has it; 'none': unweighted)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=evaluate)


def table_of(args, model, target, *, missing=None, extra=(), dtype=None, weight=None):
    """The model's preprocessing applied to DATA by column name (:class:`linsgd.data.first_pass.Encoded`);
    ``extra`` and ``weight`` may be functions of the opened source (the columns to read along, the column
    of sample weights or None)."""
    from linsgd.config import DataConfig
    from linsgd.data.first_pass import Encoded, open_typed

    read = DataConfig(target=target, on_bad_rows=args.on_bad_rows, chunk_bytes=args.chunk_bytes, format=args.format)
    source = open_typed(args.data, read, dtype=dtype or model.dtype)
    extra = extra(source) if callable(extra) else extra
    weight = weight(source) if callable(weight) else weight
    return Encoded(source, model.preprocessor, missing=missing, extra=extra, weight=weight)


def report_unseen(table) -> str:
    """One line counting the cells of levels no training row had (empty when there were none)."""
    if not table.unseen:
        return ""
    return ("levels unseen in training (predicted as the reference level): "
            + ", ".join(f"column '{c}' {n} rows" for c, n in table.unseen.items()))


def _id_column(args, model):
    """The column ``--id`` names, or by default the pandas index or an identifier-like column."""
    from linsgd.data.roles import IDENTIFIER

    def pick(source):
        if args.id is not None:
            return [] if args.id == "none" else [args.id]
        found = list(source.index_columns) or [c for c in source.columns if IDENTIFIER.match(c)]
        return found[:1]
    return pick


def predict(args: argparse.Namespace) -> int:
    from linsgd.cli.svmlight import refuse_table_flags
    from linsgd.data.formats.svmlight import is_svmlight
    from linsgd.data.formats.write import file_format, write_columns
    from linsgd.errors import ConfigError
    from linsgd.model import load_model
    from linsgd.runs.svmlight_run import predict_svmlight
    from linsgd.storage import check_output_file

    file_format(args.out)
    if args.on_bad_rows == "skip":  # a skipped row would shift every later prediction against its input row
        raise ConfigError("on_bad_rows", "skip", "'error' for predict (predictions stay aligned with rows)")
    check_output_file(args.out, "out", inputs=(args.data, args.model))
    model = load_model(args.model)
    if is_svmlight(args.data, args.format):  # one column of predictions, in the file's row order
        refuse_table_flags(args)
        n = write_columns(args.out, ["prediction"], ({"prediction": y_hat} for _, y_hat in predict_svmlight(
            model, args.data, chunk_bytes=args.chunk_bytes, model_path=args.model)))
        print(f"wrote {n} predictions to {args.out}")
        return 0
    table = table_of(args, model, None, missing="error" if model.preprocessor.missing != "impute" else None,
                     extra=_id_column(args, model))
    check_output_file(args.out, "out", inputs=tuple(getattr(table.source, "files", ())))  # a Parquet part
    ids = table.source.extra

    def blocks():  # a non-finite prediction stops the write: the temporary file is removed, nothing is written
        done = 0
        for X, _, extra in table.blocks():
            yield {**{c: extra[c] for c in ids},
                   "prediction": model.predict_finite(X, model=args.model, data=args.data, first_row=done)}
            done += len(X)

    n = write_columns(args.out, [*ids, "prediction"], blocks())
    skipped = f" (skipped {table.skipped} bad rows)" if table.skipped else ""
    print(f"wrote {n} predictions to {args.out}{skipped}" + (f" with column '{ids[0]}'" if ids else ""))
    if table.unseen:
        print(report_unseen(table))
    return 0


def weight_column(args, model, notes: list[str]):
    """The column of sample weights evaluate and summary use: ``--weight`` (``none``: no column), by default the model's
    training weight column when DATA has one of that name (when it has none, a note says the metrics are
    unweighted)."""
    trained = next((c for c, role in model.columns.items() if role == "weight"), None)
    what = "the summary is" if args.command == "summary" else "the metrics are"

    def pick(source):
        if args.weight is not None:
            return None if args.weight == "none" else args.weight
        if trained is not None and trained not in source.columns:
            notes.append(f"note: the model was trained with sample weights from column '{trained}', which "
                         f"{args.data} does not have: {what} unweighted (--weight COL names another)")
            return None
        return trained
    return pick


def evaluate(args: argparse.Namespace) -> int:
    from linsgd.cli.svmlight import refuse_table_flags
    from linsgd.data.checks import data_error
    from linsgd.data.formats.svmlight import is_svmlight
    from linsgd.metrics import Metrics
    from linsgd.model import load_model
    from linsgd.runs.svmlight_run import predict_svmlight

    model, notes = load_model(args.model), []
    acc = Metrics()
    table = None
    if is_svmlight(args.data, args.format):  # the target is the file's first field
        refuse_table_flags(args)
        for y, y_hat in predict_svmlight(model, args.data, chunk_bytes=args.chunk_bytes, model_path=args.model):
            acc.update(y, y_hat)
    else:
        table = table_of(args, model, args.target or model.target, weight=weight_column(args, model, notes))
        for chunk in table.chunks():  # rows may be skipped or dropped here: the message names no row number
            acc.update(chunk.y, model.predict_finite(chunk.X, model=args.model, data=args.data), chunk.s)
        if table.weight is not None and acc.weight <= 0:
            raise data_error(args.data, None, "every sample weight is 0 (nothing to average): --weight none "
                                              "for unweighted metrics", column=table.weight)
    for note in notes:
        print(note, file=sys.stderr)
    result = acc.result()
    if table is not None and table.weight is not None:  # the metrics are weighted by this column
        result["weight"] = table.weight
    if table is not None and table.skipped:
        result["skipped"] = table.skipped
    if table is not None and table.dropped:
        result["dropped"] = table.dropped
    if table is not None and table.unseen:
        result["unseen_levels"] = table.unseen
    if args.json:  # JSON has no NaN: a metric without a value (r2 of a constant target) is null
        print(json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                          for k, v in result.items()}, allow_nan=False))
    else:
        for k, v in result.items():
            print(f"{k:8s} {v:.6g}" if isinstance(v, float) else f"{k:8s} {v}")
        if table is not None and table.unseen:
            print(report_unseen(table))
    return 0
