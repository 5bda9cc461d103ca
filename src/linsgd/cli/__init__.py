"""The ``linsgd`` command: subcommands parse flags, call the library and print; no logic of their own.

Exit codes: 0 ok, 1 internal bug, 2 bad input or bad flag, 3 training diverged, 4 I/O failure.
Errors are one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from linsgd.cli import demo, export, generate, predict, summary, train
from linsgd.errors import ConfigError, DivergenceError, LinsgdError

# each module has add_parser(subparsers) that sets func=run(args) -> int
COMMANDS = (demo, generate, train, predict, summary, export)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):  # noqa: D102 (argparse's signature)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> Parser:
    parser = Parser(prog="linsgd", description="Linear regression trained by minibatch SGD.")
    parser.add_argument("--version", action="version", version=f"linsgd {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ConfigError as e:  # a setting names its flag: lr → --lr
        print(f"linsgd {args.command}: error: --{e.param.replace('_', '-')}={e.value} is not allowed: "
              f"{e.allowed}", file=sys.stderr)
        return e.exit_code
    except DivergenceError as e:
        print(f"linsgd {args.command}: error: {e.describe('--lr')}", file=sys.stderr)
        return e.exit_code
    except LinsgdError as e:
        _debug(args)
        print(f"linsgd {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"linsgd {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`linsgd demo | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # as a program killed by SIGPIPE
    except Exception as e:  # a bug of ours: say so, briefly
        _debug(args)
        print(f"linsgd {args.command}: internal error (please report it; --debug shows the traceback): "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _debug(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()


def _version() -> str:
    """linsgd's version from its one place (importlib.metadata would add ~50 ms to ``linsgd --version``)."""
    from linsgd._version import __version__

    return __version__
