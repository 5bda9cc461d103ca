"""Atomic file writes: a crash never leaves a half-written file under its final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from linsgd.errors import ConfigError, StorageError


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``final``'s folder; on success fsync it and rename it to ``final``.

    On any error the temporary file is removed and ``final`` is untouched. OS errors become
    :class:`StorageError` naming the path.
    """
    final = Path(final)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
    except OSError as e:
        raise StorageError(f"cannot write in {final.parent}: {e.strerror}") from e
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except StorageError:
        raise
    except OSError as e:
        raise StorageError(f"cannot write {final}: {e.strerror}") from e
    finally:
        with contextlib.suppress(OSError):  # e.g. the folder became read-only: the first error is the one to tell
            tmp.unlink(missing_ok=True)


def ensure_writable_dir(path: str | os.PathLike, flag: str) -> Path:
    """Create folder ``path`` if needed and prove it is writable; else ConfigError naming ``flag``.

    Called before any work starts, so a bad output folder is a bad flag (exit 2), not a late failure.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigError(flag, str(path), f"a writable folder ({e.strerror})") from e
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
