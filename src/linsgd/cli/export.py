"""``linsgd export MODEL --onnx model.onnx``: the model and its preprocessing as an ONNX graph."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a model file as ONNX (needs linsgd[onnx])",
                              description="Write MODEL, its preprocessing included (imputation, one-hot levels), "
                                          "as an ONNX graph with one input per column (see linsgd.export).")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors written by linsgd train, or its run folder")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linsgd.export import to_onnx
    from linsgd.model import load_model

    names = to_onnx(load_model(args.model), args.onnx)
    print(f"wrote {args.onnx} (inputs: {', '.join(names)}; output: prediction)")
    return 0
