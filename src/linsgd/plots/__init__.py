"""Headless matplotlib figures written as PNG files (no pyplot, no display, no global state).

:class:`Painter` draws them in a child process that loads matplotlib while the caller computes:
``linsgd demo`` would otherwise spend half its time importing matplotlib (~0.25 s) after training.
"""

from __future__ import annotations

import math
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from linsgd.storage import atomic_path

if TYPE_CHECKING:
    import numpy as np

Call = tuple[Callable[..., Any], tuple, dict]  # a figure function, its arguments and keyword arguments


def scatter(x: np.ndarray, y: np.ndarray, path: str | os.PathLike, *, xlabel: str, ylabel: str,
            title: str, size: float = 1.0) -> None:
    """Scatter plot of y against x with marker size ``size`` (the chapter's 1; 50 makes fat dots)."""
    fig, ax = figure()
    ax.scatter(x, y, s=size)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    save(fig, path)


def loss_curve(series: dict[str, Sequence[float]], path: str | os.PathLike, *, floor: float | None = None,
               title: str = "training loss", ylabel: str = "mean ½(ŷ − y)²", marker: int | None = None,
               xlabel: str = "epoch") -> None:
    """Per-epoch loss curves on a log scale, epochs numbered from 1, with an optional floor line and an
    optional vertical line at epoch ``marker`` (the epoch early stopping kept)."""
    fig, ax = figure()
    for label, values in series.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    if floor is not None and floor > 0:
        ax.axhline(floor, color="gray", linestyle="--", label=f"floor {floor:.2g}")
    if marker is not None:
        ax.axvline(marker, color="gray", linestyle=":", label=f"kept epoch {marker}")
    values = [v for series_values in series.values() for v in series_values if math.isfinite(v)]
    if values and min(values) > 0:  # a loss of exactly 0 (one row, a perfect fit) has no place on a log axis
        ax.set(yscale="log")
        plain_powers_of_ten(ax.yaxis)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    if all(len(v) <= 1 for v in series.values()):  # one value (an exact run): no axis of fractional epochs
        ax.set_xticks([])
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    save(fig, path)


class Painter:
    """Figure calls run by a child process forked at construction, which imports matplotlib meanwhile.

    Create it before the caller starts threads of its own (the child is a ``fork`` without ``exec``; the
    worker threads of numpy's OpenBLAS are shut down by OpenBLAS's own fork handler), compute, then
    :meth:`draw`. The child writes nothing before ``draw`` (so an error in the computation leaves no
    figure behind), writes every file atomically, and leaves by ``os._exit`` (no interpreter teardown).
    Without ``os.fork`` (or with ``background=False``) ``draw`` runs the calls in this process.

    Example:
        >>> with Painter() as painter:  # doctest: +SKIP
        ...     history = train()
        ...     painter.draw([(loss_curve, ({"train": history}, "loss.png"), {})])
    """

    def __init__(self, background: bool = True) -> None:
        self._pid: int | None = None
        self._send: int | None = None  # pipe ends: calls to the child, its answer
        self._answer: int | None = None
        if background and hasattr(os, "fork"):
            self._fork()

    def _fork(self) -> None:
        calls_r, calls_w = os.pipe()
        answer_r, answer_w = os.pipe()
        sys.stdout.flush()  # the child must not inherit (and later write) buffered output
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(calls_w)
            os.close(answer_r)
            _child(calls_r, answer_w)  # never returns
        os.close(calls_r)
        os.close(answer_w)
        self._pid, self._send, self._answer = pid, calls_w, answer_r

    def draw(self, calls: Sequence[Call]) -> None:
        """Run ``func(*args, **kwargs)`` for each call in order (in the child, the first time); the
        first error is raised here.

        Raises:
            StorageError: a figure could not be written. RuntimeError: the child died without answering.
            Whatever else a call raised (its ``__cause__`` holds the child's traceback).
        """
        if self._pid is None:
            for func, args, kwargs in calls:
                func(*args, **kwargs)
            return
        with os.fdopen(self._send, "wb") as f:  # closing it tells the child that nothing more comes
            self._send = None
            pickle.dump(list(calls), f)
        with os.fdopen(self._answer, "rb") as f:
            self._answer = None
            answer = f.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if not answer:
            raise RuntimeError("the plotting process ended without an answer "
                               f"(exit code {os.waitstatus_to_exitcode(status)})")
        error = pickle.loads(answer)  # from our own fork over an anonymous pipe: never outside data
        if error is not None:
            exc, text = error
            exc.__cause__ = _ChildTraceback(text)
            raise exc

    def close(self) -> None:
        """Stop a child that was never asked to draw (it has written nothing) and reap it."""
        for fd in (self._send, self._answer):
            if fd is not None:
                os.close(fd)
        self._send = self._answer = None
        if self._pid is not None:  # it is only importing matplotlib or waiting for calls
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> Painter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _ChildTraceback(Exception):
    """The traceback of an error in the plotting process, shown as the cause (``--debug``)."""


def _child(receive: int, answer: int) -> None:
    """The plotting process: import matplotlib, wait for the calls, run them, answer None or the error."""
    try:
        error = None
        try:
            import matplotlib.figure  # noqa: F401 (the slow import, while the parent computes)
            from matplotlib import font_manager

            # load the font list and the default font file once, here, rather than in every fork
            font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
            with os.fdopen(receive, "rb") as f:
                calls = pickle.load(f)  # written by the parent of this fork, nobody else
            error = _run_in_parallel(calls)
        except BaseException as e:  # reported to the parent, which raises it
            error = (e, traceback.format_exc())
        with os.fdopen(answer, "wb") as f:
            f.write(_pickle_error(error))
    finally:
        os._exit(0)  # never return into the parent's code, nor run its atexit handlers


def _run_in_parallel(calls: list[Call]):
    """Run the calls on every core: forks of this process (matplotlib loaded) take their share meanwhile.

    Figures cost ~0.1 s each and the caller waits for all of them (the chapter's demo draws three). With
    k = min(cores, calls) workers, worker j runs ``calls[j::k]``; this process is worker 0. One worker per
    core, not per call: each fork pays again for what a process draws first.

    Returns:
        None, or ``(exception, traceback text)`` of the first error (this process's calls first).
    """
    k = min(len(calls), os.cpu_count() or 1)
    forks = []
    for j in range(1, k):
        receive, send = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(receive)
                with os.fdopen(send, "wb") as f:
                    f.write(_pickle_error(_run(calls[j::k])))
            finally:
                os._exit(0)
        os.close(send)
        forks.append((pid, receive))
    errors = [_run(calls[::k])]
    for pid, receive in forks:
        with os.fdopen(receive, "rb") as f:
            answer = f.read()
        os.waitpid(pid, 0)
        # from our own fork over an anonymous pipe: never outside data
        errors.append(pickle.loads(answer) if answer else (RuntimeError("a plotting process ended without an "
                                                                         "answer"), ""))
    return next((e for e in errors if e is not None), None)


def _run(calls: list[Call]):
    """Run the calls in order; None, or ``(exception, traceback text)`` of the first that raised."""
    try:
        for func, args, kwargs in calls:
            func(*args, **kwargs)
    except BaseException as e:
        return e, traceback.format_exc()
    return None


def _pickle_error(error) -> bytes:
    try:
        return pickle.dumps(error)
    except Exception:  # an exception that does not pickle: keep its type name and message
        e, text = error
        return pickle.dumps((RuntimeError(f"{type(e).__name__}: {e}"), text))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_powers_of_ten(axis) -> None:
    """Label a log axis' decades 10⁻⁴ in plain text: the default mathtext labels cost ~0.04 s per process."""
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos) -> str:
        exponent = round(math.log10(value)) if value > 0 else 0
        if value > 0 and math.isclose(value, 10.0**exponent):
            return "10" + str(exponent).translate(_SUPERSCRIPT)
        return f"{value:g}"

    axis.set_major_formatter(FuncFormatter(label))


def figure(size: tuple[float, float] = (5, 3.5), ncols: int = 1, width_ratios: Sequence[float] | None = None):
    """A new headless figure of ``size`` inches at 120 dpi and its ``ncols`` axes (one axes: not a list),
    their widths in ``width_ratios`` (None: equal).

    The layout is constrained, applied by :func:`save`: matplotlib measures every label and sizes the
    margins to fit them, so no tick or axis label is clipped whatever the values (~0.04 s per figure, paid in
    the plotting process).
    """
    from matplotlib.figure import Figure  # lazy: matplotlib costs ~0.3 s to import

    fig = Figure(figsize=size, dpi=120)
    axes = fig.subplots(1, ncols, width_ratios=width_ratios)
    return fig, axes


def lay_out(fig) -> None:
    """Size the margins of a :func:`figure` to its labels: matplotlib's constrained layout, computed once.

    Not set on the figure as its layout engine: with an engine, ``savefig`` draws the figure twice (once
    unrendered, to lay it out), which costs ~10 % of a figure's time.
    """
    if fig.get_layout_engine() is None:
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        ConstrainedLayoutEngine().execute(fig)


def save(fig, path: str | os.PathLike) -> None:
    """Write ``fig`` as a PNG file at ``path``, atomically (StorageError when it cannot be written).

    The figure is laid out first (:func:`lay_out`). No "Software" stamp is written, so the bytes depend on
    the picture alone: the same seed draws the same file.
    """
    lay_out(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
