"""The one-line notice that the kernels are being compiled, because numba's on-disk cache misses.

The numba kernels (``engines/_fused_kernels.py``, ``data/_shuffle_kernels.py``) are compiled on first use
(~4 s for all of them) and cached next to their source (or under ``NUMBA_CACHE_DIR``); later processes load
the machine code in ~0.2 s. So that the first wait is never silent, each kernel module calls :func:`listen`
when imported: numba announces every compilation (its ``numba:compile`` event, which a cache hit does not
send), and the first one of a linsgd kernel logs one INFO record on the ``linsgd.compile`` logger, once per
process, before the compiler runs. INFO is not shown without a handler: the ``linsgd`` command adds one
(:func:`show_on_stderr`); Python callers see nothing unless they configure logging.

numba's cache checks only the file of the cached function, while a kernel compiles in the jitted functions it
calls from other files (the row groups, the prefetch, the update rule): :func:`listen` also puts locators
first in numba's list that stamp a linsgd kernel with a digest of every linsgd source that holds jitted code
(:func:`kernel_digest`), so editing any of them recompiles every kernel once instead of loading stale code.

The same events say when the main thread is inside numba's compiler, where an exception raised by a signal
handler can be lost: Python may run the handler inside one of llvmlite's ctypes callbacks, which swallows
it and leaves the compilation half done. The compiler is one of :mod:`linsgd._held`'s sections: a signal
that arrives during a compilation is raised as soon as the main thread leaves the compiler.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
from pathlib import Path

from linsgd import _faults, _held

MESSAGE = "compiling the fused kernels once (~4 s); later runs load them from the cache"
_log = logging.getLogger("linsgd.compile")
_state = {"listening": False, "told": False}
_PACKAGE = Path(__file__).resolve().parent
_digest: dict[Path, str] = {}


# the rooms that hold jitted code: the package's private modules, data/ and engines/ (not their subfolders)
_KERNEL_GLOBS = ("_*.py", "data/*.py", "engines/*.py")


def kernel_digest(package: Path = _PACKAGE) -> str:
    """A digest of the bytes of every file of :data:`_KERNEL_GLOBS` under ``package`` that mentions numba (read
    once per process, when the first kernel is loaded)."""
    if package not in _digest:
        h = hashlib.blake2b(digest_size=16)
        for path in sorted(p for pattern in _KERNEL_GLOBS for p in package.glob(pattern)):
            text = path.read_bytes()
            if b"numba" in text:
                h.update(str(path.relative_to(package)).encode() + b"\0" + text)
        _digest[package] = h.hexdigest()
    return _digest[package]


def _stamped(locator: type) -> type:
    """``locator`` for linsgd's files only, its source stamp joined with :func:`kernel_digest`."""

    class Stamped(locator):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not Path(py_file).resolve().is_relative_to(_PACKAGE):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return super().get_source_stamp(), kernel_digest()

    Stamped.__name__ = Stamped.__qualname__ = f"Linsgd{locator.__name__}"
    return Stamped


def _stamp_kernels() -> None:
    """Put :func:`_stamped` locators first in numba's list (numba's API moved: its own stamps, never an error)."""
    try:
        from numba.core import caching

        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
        caching.CacheImpl._locator_classes[:0] = [_stamped(b) for b in bases]
    except (ImportError, AttributeError):
        return


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def listen() -> None:
    """Log :data:`MESSAGE` at the first compilation of a linsgd kernel in this process (idempotent)."""
    if _state["listening"]:
        return
    _state["listening"] = True
    _stamp_kernels()
    try:
        from numba.core import event
    except ImportError:  # numba's event API moved: no notice, never an error
        return

    class _FirstCompile(event.Listener):
        def on_start(self, e) -> None:
            func = getattr(e.data.get("dispatcher"), "py_func", None)
            if not _state["told"] and getattr(func, "__module__", "").startswith("linsgd."):
                _state["told"] = True
                _log.info(MESSAGE)
            if _in_main_thread():
                _faults.reached("compile")  # test-only: a signal at a known point of a compilation

        def on_end(self, e) -> None:
            pass

    class _CompilerLock(event.Listener):  # numba starts this event before taking the lock, ends it after
        def on_start(self, e) -> None:
            _held.enter()

        def on_end(self, e) -> None:
            _held.leave()

    event.register("numba:compile", _FirstCompile())
    event.register("numba:compiler_lock", _CompilerLock())


def show_on_stderr(prefix: str) -> None:
    """Print the notice on stderr as ``PREFIX: MESSAGE`` (the command line's choice; idempotent)."""
    if any(getattr(h, "_linsgd", False) for h in _log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prefix}: %(message)s"))
    handler._linsgd = True  # type: ignore[attr-defined]
    _log.addHandler(handler)
    _log.setLevel(logging.INFO)
