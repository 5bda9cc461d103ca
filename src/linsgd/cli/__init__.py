"""The ``linsgd`` command: subcommands parse flags, call the library and print; no logic of their own.

Exit codes: 0 ok, 1 internal bug, 2 bad input or bad flag, 3 training diverged, 4 I/O failure (or out of
memory), 130 Ctrl-C (SIGINT), 143 SIGTERM, 141 the reader of the output went away.
Errors are one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
import warnings

from linsgd._held import arm as arm_signals
from linsgd._held import forget as forget_signals
from linsgd._held import hold as hold_signal
from linsgd.cli import demo, export, generate, plot, predict, summary, train
from linsgd.errors import ConfigError, DataNote, DivergenceError, LinsgdError, LinsgdWarning, Terminated
from linsgd.storage import remove_pending

# each module has add_parser(subparsers) that sets func=run(args) -> int
COMMANDS = (demo, generate, train, plot, predict, summary, export)


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
    with _sigterm_as_exception(args.command), warnings.catch_warnings():
        warnings.showwarning = _one_line_warning(args.command)
        warnings.simplefilter("always", LinsgdWarning)  # every run says its notes, even in one process
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notices: divergence is its own error
        try:
            return _run(args)
        except KeyboardInterrupt as e:  # raised between our own calls, not inside _run's handlers
            return _interrupted(args, e)


def _run(args: argparse.Namespace) -> int:
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
        print(f"linsgd {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated): `finally` blocks have cleaned up
        return _interrupted(args, e)
    except BrokenPipeError:  # the reader of our output went away (`linsgd demo | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # as a program killed by SIGPIPE
    except OSError as e:  # an I/O failure no reader translated: still exit 4, naming the file
        _debug(args)
        where = f"{e.filename}: " if e.filename else ""
        print(f"linsgd {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 4
    except MemoryError:
        _debug(args)
        print(f"linsgd {args.command}: error: out of memory: lower --max-memory (train streams the rest "
              f"from --tmp-dir) or --chunk-bytes", file=sys.stderr)
        return 4
    except Exception as e:  # a bug of ours: say so, briefly
        interrupt = _interrupt_in(e)
        if interrupt is not None:  # a signal landed inside compiled code (numba wraps it in SystemError)
            return _interrupted(args, interrupt)
        _debug(args)
        print(f"linsgd {args.command}: internal error (please report it; --debug shows the traceback): "
              f"{type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


def _one_line(e: BaseException) -> str:
    """An error's message on one line (a message quoting a library's may hold newlines)."""
    return " ".join(str(e).split("\n"))


def _interrupted(args: argparse.Namespace, e: KeyboardInterrupt) -> int:
    """Say which signal ended the command and return its exit code, after removing any temporary file whose
    ``finally`` the signal cut short (it may land inside the cleanup itself)."""
    remove_pending()
    signal_name = "terminated" if isinstance(e, Terminated) else "interrupted"
    print(f"linsgd {args.command}: {signal_name}", file=sys.stderr)
    return 143 if isinstance(e, Terminated) else 130


def _interrupt_in(e: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt (or Terminated) that caused ``e``, if any, following its chain."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


_GRACE_S = 5.0  # after SIGTERM or Ctrl-C, the run has this long to stop cleanly before it exits anyway
_SIGNALS = {signal.SIGTERM: (Terminated, 143, "terminated"),
            signal.SIGINT: (KeyboardInterrupt, 130, "interrupted")}


@contextlib.contextmanager
def _sigterm_as_exception(command: str):
    """SIGTERM raises :class:`~linsgd.errors.Terminated` (a KeyboardInterrupt) and SIGINT a KeyboardInterrupt,
    so either stops the run: every ``finally`` runs (temporary files removed, spill files closed) and the exit
    code is 143 or 130.

    A signal that arrives while numba compiles is held until the compiler is left
    (:mod:`linsgd._held`: raised inside llvmlite's callbacks it would be swallowed
    and break the compilation). An exception raised by a signal handler can still be lost when Python runs
    the handler inside compiled code (numba's dispatcher checks for signals): should the run still be going
    ``_GRACE_S`` after the first signal, it exits with 143 (130) anyway, removing the temporary files of the
    writes in progress first (spill files are unlinked from the start).
    """

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    done, wake, lock = threading.Event(), threading.Event(), threading.Lock()
    first: list[int] = []  # the first signal that arrived

    def last_resort() -> None:  # started up front: a signal handler must not start threads (lock order)
        wake.wait()
        if not done.wait(_GRACE_S):
            with lock:
                if not done.is_set():
                    _, code, said = _SIGNALS[first[0]]
                    remove_pending()  # no `finally` runs after os._exit: remove the half-written files here
                    os.write(2, f"linsgd {command}: {said}\n".encode())
                    os._exit(code)

    def handler(signum, frame):
        if not first:
            first.append(signum)
        wake.set()
        exc = _SIGNALS[signum][0]()
        if not hold_signal(exc):
            raise exc

    threading.Thread(target=last_resort, daemon=True, name="linsgd-signal-grace").start()
    # a signal the process was started ignoring (SIGINT of a background job in sh) stays ignored
    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN}
    arm_signals()
    try:
        yield
    finally:
        with lock:
            done.set()
        wake.set()
        for sig, before in previous.items():
            signal.signal(sig, before)
        forget_signals()


def _one_line_warning(command: str):
    """Warnings as one line on stderr: linsgd's (notes about the data, doubtful results) as they are, a
    library's (matplotlib, numpy, pyarrow) as ``warning: MESSAGE (Category from package)``, never with the
    source line and the path of an installed file."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, LinsgdWarning):
            kind = "note" if issubclass(category, DataNote) else "warning"
            print(f"linsgd {command}: {kind}: {message}", file=sys.stderr)
        else:
            package = _package_of(filename)
            print(f"linsgd {command}: warning: {_one_line(message).strip()} ({category.__name__}"
                  f"{f' from {package}' if package else ''})", file=sys.stderr)
    return show


def _package_of(filename: str) -> str:
    """The top-level package a warning came from (``matplotlib`` for …/site-packages/matplotlib/axes/…)."""
    parts = os.path.normpath(filename or "").split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return ""


def _debug(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()


def _version() -> str:
    """linsgd's version from its one place (importlib.metadata would add ~50 ms to ``linsgd --version``)."""
    from linsgd._version import __version__

    return __version__
