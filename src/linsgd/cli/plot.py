"""``linsgd plot RUN``: draw a run folder's pictures from its files (``linsgd train`` draws them only with
``--plots``)."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("plot", help="draw a run folder's pictures (loss, fit, residuals, coefficients)",
                              description="Draw loss.png, fit.png, residuals.png and coef.png into RUN from "
                                          "what linsgd train wrote there (metrics.jsonl, model.safetensors, "
                                          "sample.safetensors); the same pictures as train --plots.")
    p.add_argument("run", metavar="RUN", help="a run folder written by linsgd train (its --out)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from linsgd import plots
    from linsgd.runs.pictures import draw_folder

    with plots.Painter() as painter:  # draws on every core (linsgd.plots)
        written = draw_folder(args.run, painter)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
