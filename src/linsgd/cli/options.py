"""Flags shared by several subcommands, parsed the same way everywhere."""

from __future__ import annotations

import argparse

from linsgd.config import ENGINES, SOLVERS, TrainConfig


def float_list(text: str) -> list[float]:
    """Parse ``2,-3.4`` into ``[2.0, -3.4]`` (argparse names the flag when this raises)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. 2,-3.4") from None
    if not values or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} must hold finite numbers, e.g. 2,-3.4")
    return values


def size_value(limit: int, shown: str):
    """An argparse type: a size such as ``4M``, ``64M``, ``2G`` or a number of bytes, in [1, ``limit``]
    (``shown``: the limit as the user reads it)."""
    def parse(text: str) -> int:
        from linsgd.errors import ConfigError

        try:
            return size_flag(text, "size", limit)
        except ConfigError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a size from 1 byte to {shown} "
                                             f"(e.g. 64M, or a number of bytes)") from None
    parse.__name__ = "size"
    return parse


def size_flag(text: str, param: str, limit: int) -> int:
    """A size flag parsed after argparse (so the error is a ConfigError naming ``param``, exit 2)."""
    from linsgd.data.table import parse_size
    from linsgd.errors import ConfigError

    try:
        size = parse_size(text)
    except ValueError:
        size = None
    if size is None or size > limit:
        raise ConfigError(param, text, f"a size such as 512M or 2G (at most {limit} bytes)")
    return size


def lr_value(text: str) -> float | str:
    """Parse ``--lr``: a number, or ``auto`` (standardised features, lr from their curvature)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'auto', e.g. 0.03") from None


def add_training_flags(p: argparse.ArgumentParser) -> None:
    """--lr, --epochs, --batch-size, --seed, --engine, --dtype, --solver with the chapter's defaults."""
    d = TrainConfig()
    g = p.add_argument_group("training")
    g.add_argument("--lr", type=lr_value, default=d.lr,
                   help=f"learning rate > 0, or auto: standardise and pick it from the data (default {d.lr})")
    g.add_argument("--epochs", type=int, default=d.epochs, help=f"passes over the data >= 0 (default {d.epochs})")
    g.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"minibatch size >= 1 (default {d.batch_size})")
    g.add_argument("--seed", type=int, default=None, help="seed of data, init and order (default: drawn, printed)")
    g.add_argument("--engine", choices=ENGINES, default=d.engine, help=f"default {d.engine}")
    g.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype, help=f"default {d.dtype}")
    g.add_argument("--solver", choices=SOLVERS, default=d.solver,
                   help=f"sgd, or exact: least squares in one pass (default {d.solver})")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The resolved TrainConfig of the parsed training flags (ConfigError names the flag)."""
    return TrainConfig(lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, engine=args.engine,
                       seed=args.seed, dtype=args.dtype, solver=args.solver).resolved()
