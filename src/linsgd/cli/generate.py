"""``linsgd generate OUT``: the chapter's synthetic data written to CSV or Parquet, in bounded memory."""

from __future__ import annotations

import argparse
import json
import math

from linsgd.cli.options import float_list


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("generate", help="write synthetic data y = Xw + b + ε to CSV or Parquet",
                              description="Write the chapter's synthetic data (X ~ N(0,1), y = Xw + b + ε) "
                                          "block by block to OUT (.csv or .parquet), with the true "
                                          "parameters in OUT.json (and the Parquet metadata).")
    p.add_argument("out", metavar="OUT", help="file to write: .csv or .parquet")
    p.add_argument("--num-examples", type=int, default=1000, help="rows (default 1000)")
    p.add_argument("--num-features", type=int, default=None,
                   help="columns x1..xD (default: len(--true-w), else 2)")
    p.add_argument("--true-w", type=float_list, default=None,
                   help="true weights (default 2,-3.4 for D=2, else drawn from N(0,1) by --seed)")
    p.add_argument("--true-b", type=float, default=4.2, help="true bias (default 4.2)")
    p.add_argument("--noise", type=float, default=0.01, help="noise standard deviation (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data (default 0)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="default float32")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from linsgd.data.formats.write import file_format, write_columns
    from linsgd.data.synthetic import iter_blocks
    from linsgd.errors import ConfigError
    from linsgd.storage import atomic_path, check_output_file

    # Validate every flag before anything is written.
    file_format(args.out)
    check_output_file(args.out, "out")
    check_output_file(f"{args.out}.json", "out")
    if args.num_examples < 1:
        raise ConfigError("num_examples", args.num_examples, "an integer >= 1")
    d = args.num_features if args.num_features is not None else len(args.true_w) if args.true_w else 2
    if d < 1 or (args.true_w and len(args.true_w) != d):
        raise ConfigError("num_features", d, "an integer >= 1 equal to the length of --true-w")
    if not (math.isfinite(args.noise) and args.noise >= 0):
        raise ConfigError("noise", args.noise, "a finite number >= 0")
    if not math.isfinite(args.true_b):
        raise ConfigError("true_b", args.true_b, "a finite number")
    if not (0 <= args.seed < 2**63):
        raise ConfigError("seed", args.seed, "an integer in [0, 2**63)")
    w = args.true_w or ([2.0, -3.4] if d == 2 else
                        np.round(np.random.default_rng([args.seed, 5]).standard_normal(d), 3).tolist())
    _check_range(w, args.true_b, args.noise, args.dtype)
    names = [f"x{j}" for j in range(1, d + 1)] + ["y"]
    truth = {"true_w": w, "true_b": args.true_b, "noise": args.noise, "seed": args.seed,
             "num_examples": args.num_examples, "features": names[:-1], "target": "y"}
    blocks = (_finite(np.column_stack([X, y])) for _, X, y in
              iter_blocks(args.num_examples, w, args.true_b, noise=args.noise, seed=args.seed,
                          dtype=args.dtype))
    n = write_columns(args.out, names, blocks, metadata={"linsgd.generate": json.dumps(truth)})
    with atomic_path(f"{args.out}.json") as tmp:
        tmp.write_text(json.dumps(truth, indent=2) + "\n")
    print(f"wrote {n} rows x {d} features + target 'y' to {args.out} (true parameters in {args.out}.json)")
    return 0


def _check_range(w: list[float], b: float, noise: float, dtype: str) -> None:
    """ConfigError naming the flag whose value would make targets overflow ``dtype`` (inf in the file).

    |y| <= |b| + 10 (Σ|w| + noise) holds for every row (a standard normal draw stays below 10 in
    absolute value), and must stay 10 times below the largest float of ``dtype``.
    """
    import numpy as np

    from linsgd.errors import ConfigError

    limit = float(np.finfo(dtype).max) / 10
    parts = {"true_b": abs(b), "true_w": 10 * sum(abs(v) for v in w), "noise": 10 * noise}
    if not sum(parts.values()) <= limit:  # also when the sum itself overflows
        flag = max(parts, key=parts.get)
        value = ",".join(f"{v:g}" for v in w) if flag == "true_w" else {"true_b": b, "noise": noise}[flag]
        raise ConfigError(flag, value, f"values whose targets fit {dtype} (|true-b| + 10 (sum |true-w| + "
                                       f"noise) <= {limit:.3g}): make them smaller, or use --dtype float64")


def _finite(block):
    """``block`` unchanged; ConfigError if a value overflowed (never written as inf)."""
    import numpy as np

    from linsgd.errors import ConfigError

    if not np.isfinite(block).all():
        raise ConfigError("true_w", "…", "values whose targets are finite numbers: make --true-w, --true-b "
                                         "or --noise smaller")
    return block
