"""Flags shared by several subcommands, parsed the same way everywhere."""

from __future__ import annotations

import argparse

from linsgd.config import ENGINES, TrainConfig


def float_list(text: str) -> list[float]:
    """Parse ``2,-3.4`` into ``[2.0, -3.4]`` (argparse names the flag when this raises)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. 2,-3.4") from None
    if not values or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} must hold finite numbers, e.g. 2,-3.4")
    return values


def add_training_flags(p: argparse.ArgumentParser) -> None:
    """--lr, --epochs, --batch-size, --seed, --engine, --dtype with the chapter's defaults."""
    d = TrainConfig()
    g = p.add_argument_group("training")
    g.add_argument("--lr", type=float, default=d.lr, help=f"learning rate > 0 (default {d.lr})")
    g.add_argument("--epochs", type=int, default=d.epochs, help=f"passes over the data >= 0 (default {d.epochs})")
    g.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"minibatch size >= 1 (default {d.batch_size})")
    g.add_argument("--seed", type=int, default=None, help="seed of data, init and order (default: drawn, printed)")
    g.add_argument("--engine", choices=ENGINES, default=d.engine, help=f"default {d.engine}")
    g.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype, help=f"default {d.dtype}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The resolved TrainConfig of the parsed training flags (ConfigError names the flag)."""
    return TrainConfig(lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, engine=args.engine,
                       seed=args.seed, dtype=args.dtype).resolved()
