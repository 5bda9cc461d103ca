"""Signals held through the main thread's critical sections, raised the moment the last one is left.

The command's SIGTERM and SIGINT handlers raise an exception so that every ``finally`` runs. In two places
that exception must wait: inside numba's compiler (raised in one of llvmlite's ctypes callbacks it is
swallowed and leaves the compilation half done; :mod:`linsgd._jit_cache` enters a section for it), and
between making a temporary file and registering it for removal (a signal there would leave a file that no
cleanup knows of; :mod:`linsgd.storage`). A handler asks :func:`hold` first: inside a section the exception is
kept and :func:`leave` raises it when the outermost section ends, at a point the section's owner chose.

Blocking the signals instead (``pthread_sigmask``) is not enough: the mask is per thread, and a process with
other threads (pyarrow's pool, numba's, the read-ahead) gets the signal through one of them, after which the
handler still runs in the main thread at once.
"""

from __future__ import annotations

import threading

_state: dict = {"depth": 0, "held": None, "pending": None, "armed": False}


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()


def hold(exc: BaseException) -> bool:
    """For a signal handler (it runs in the main thread): inside a section keep ``exc`` (the first one) to be
    raised when the section ends and return True; else return False (the handler raises it now)."""
    if _state["depth"] == 0:
        return False
    if _state["held"] is None:
        _state["held"] = exc
    return True


def enter() -> None:
    """Begin a section (main thread only; sections nest)."""
    if _main():
        _state["depth"] += 1


def leave() -> None:
    """End a section; at the end of the outermost one, raise the signal's exception held meanwhile."""
    if not _main():
        return
    _state["depth"] -= 1
    held = _state["held"]
    if _state["depth"] == 0 and held is not None:
        _state["held"] = None
        if _state["armed"]:  # until the command has it: a library's callback may swallow it
            _state["pending"] = held
        raise held


def raise_pending() -> None:
    """Raise again a held signal's exception that :func:`leave` raised but that never reached the command:
    numba leaves its compiler inside its own callbacks, which may swallow it, and the run would then go on as
    if no signal had come. The loop asks at every epoch's end and the run folder before it replaces any file,
    so such a run still stops before it commits anything."""
    exc = _state["pending"]
    if exc is not None and _main():
        raise exc


def arm() -> None:
    """A command has installed its signal handlers: from now on a held exception raised by :func:`leave` is
    kept for :func:`raise_pending` until :func:`forget` (library calls outside a command never keep one)."""
    _state["armed"] = True


def forget() -> None:
    """The command has ended (its signal handlers are gone): nothing is pending or held any more."""
    _state["pending"] = _state["held"] = None
    _state["armed"] = False
