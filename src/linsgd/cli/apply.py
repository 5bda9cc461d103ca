"""``linsgd predict MODEL DATA --out PRED`` and ``linsgd evaluate MODEL DATA --target COL``, streamed."""

from __future__ import annotations

import argparse
import json
import math

from linsgd.cli.train import add_data_flags


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("predict", help="predict with a model file, streamed",
                              description="Predict with MODEL on DATA (columns matched by name, any "
                                          "order) and write the column 'prediction' to PRED.")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train")
    add_data_flags(p, target_required=False)
    p.add_argument("--out", required=True, help="predictions file: .csv or .parquet")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=predict)
    p = subparsers.add_parser("evaluate", help="MSE, RMSE, MAE, R² of a model on a data file",
                              description="Evaluate MODEL on DATA against its column --target.")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train")
    add_data_flags(p, target_required=False)
    p.add_argument("--target", default=None, help="the target column (default: the model's)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=evaluate)


def _source(args, model, target):
    from linsgd.data.sources import open_source

    return open_source(args.data, target=target, features=model.feature_names, dtype=model.dtype,
                       on_bad_rows=args.on_bad_rows, chunk_bytes=args.chunk_bytes)


def predict(args: argparse.Namespace) -> int:
    from linsgd.data.writer import file_format, write_columns
    from linsgd.model import load_model
    from linsgd.storage import check_output_file

    file_format(args.out)
    if args.on_bad_rows == "skip":  # a skipped row would shift every later prediction against its input row
        from linsgd.errors import ConfigError
        raise ConfigError("on_bad_rows", "skip", "'error' for predict (predictions stay aligned with rows)")
    check_output_file(args.out, "out", inputs=(args.data, args.model))
    model = load_model(args.model)
    source = _source(args, model, None)
    check_output_file(args.out, "out", inputs=tuple(getattr(source, "files", ())))  # a part of a Parquet folder
    blocks = (model.predict(chunk.X).reshape(-1, 1) for chunk in source.chunks())
    n = write_columns(args.out, ["prediction"], blocks)
    skipped = f" (skipped {source.skipped} bad rows)" if source.skipped else ""
    print(f"wrote {n} predictions to {args.out}{skipped}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from linsgd.metrics import Metrics
    from linsgd.model import load_model

    model = load_model(args.model)
    source = _source(args, model, args.target or model.target)
    acc = Metrics()
    for chunk in source.chunks():
        acc.update(chunk.y, model.predict(chunk.X))
    result = acc.result()
    if source.skipped:
        result["skipped"] = source.skipped
    if args.json:  # JSON has no NaN: a metric without a value (r2 of a constant target) is null
        print(json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v
                          for k, v in result.items()}, allow_nan=False))
    else:
        for k, v in result.items():
            print(f"{k:8s} {v:.6g}" if isinstance(v, float) else f"{k:8s} {v}")
    return 0
