"""Atomic file writes: a crash never leaves a half-written file under its final name."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from linsgd import _held
from linsgd.errors import ConfigError, StorageError

# Temporary files of atomic_path and staging folders of replacing_files being written right now: removed by
# remove_pending when the process must end without unwinding (the CLI's last resort after SIGTERM, when the
# signal's exception cannot get through).
_PENDING: set[Path] = set()


def remove_pending() -> None:
    """Remove the temporary files of the writes in progress (for an exit that runs no ``finally``)."""
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            if tmp.is_dir():
                shutil.rmtree(tmp)
            else:
                tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``final``'s folder; on success fsync it and rename it to ``final``.

    On any error (a signal included) the temporary file is removed and ``final`` is untouched. OS errors
    become :class:`StorageError` naming the path.
    """
    final = Path(final)

    def make() -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        return Path(tmp)

    with _temporary(make, final.parent, lambda tmp: tmp.unlink(missing_ok=True)) as tmp:
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


@contextlib.contextmanager
def replacing_files(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden staging folder inside ``folder``: the files written there replace those of the same
    name in ``folder`` only when the block ends without error, and only then, after every one is complete.

    On any error (a full disk halfway through) the staging folder is removed and ``folder`` keeps every one
    of its files as they were: a run folder changes all at once or not at all. (The final renames are
    metadata-only and need no space; a crash between two of them is the one window left.) A StorageError
    raised in the block names the file by its final path, not its staging path.

    Raises:
        StorageError: the staging folder could not be made, a file could not be written or renamed.
    """
    folder = Path(folder)
    make = lambda: Path(tempfile.mkdtemp(prefix=".linsgd-new-", dir=folder))  # noqa: E731
    with _temporary(make, folder, lambda stage: shutil.rmtree(stage, ignore_errors=True)) as stage:
        try:
            yield stage
        except StorageError as e:  # name the file the user knows, not the staging folder
            raise StorageError(str(e).replace(str(stage), str(folder))) from e
        _held.raise_pending()  # a signal swallowed on the way: nothing of the folder is replaced
        try:
            for name in sorted(os.listdir(stage)):
                os.replace(stage / name, folder / name)
            _fsync_dir(folder)
        except OSError as e:
            raise StorageError(f"cannot write {folder / name}: {e.strerror}") from e


@contextlib.contextmanager
def _temporary(make, where: Path, remove) -> Iterator[Path]:
    """A temporary file or folder made by ``make()`` in ``where``, registered in ``_PENDING`` and removed by
    ``remove`` however the block ends.

    Making and registering it is a section of :mod:`linsgd._held`: a signal landing between the two would
    leave a file that no cleanup knows of, so it is held, and raised when the section is left, inside the
    ``try`` that removes the file.
    """
    path, inside = None, True
    _held.enter()
    try:
        try:
            path = make()
        except OSError as e:
            raise StorageError(f"cannot write in {where}: {e.strerror}") from e
        _PENDING.add(path)
        inside = False
        _held.leave()
        yield path
    finally:
        if path is not None:
            with contextlib.suppress(OSError):  # e.g. the folder became read-only: the first error is the one
                remove(path)
            _PENDING.discard(path)
        if inside:  # making it failed: leave the section (raising a signal held meanwhile)
            _held.leave()


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


def check_output_file(path: str | os.PathLike, flag: str, *, inputs: tuple = ()) -> Path:
    """The file ``path`` that a command will write, checked before any work: ConfigError naming ``flag``.

    Its folder must exist and be writable, it must not be a folder itself, and it must not be one of
    ``inputs`` (files the command reads: writing there would destroy them).
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise ConfigError(flag, str(path), "a file name, not a folder")
    if not folder.is_dir():
        raise ConfigError(flag, str(path), f"a file in an existing folder ({folder} does not exist)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(flag, str(path), f"a file in a writable folder ({folder} is not writable)")
    for other in inputs:
        if _same_file(path, other):
            raise ConfigError(flag, str(path), f"a file other than the inputs (it is {other}, which would be "
                                               f"overwritten): choose another name")
    return path


def _same_file(a: Path, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


@contextlib.contextmanager
def locked_folder(path: str | os.PathLike, flag: str) -> Iterator[Path]:
    """Hold an exclusive lock on run folder ``path`` (created if needed) while the block runs.

    A second run into the same folder gets ConfigError naming ``flag``, the folder and the pid of the run
    holding it. The lock is ``flock`` on the folder itself: the kernel releases it when the process ends,
    however it ends, and nothing is left in the folder. A folder created here and still empty at the end
    (the run failed before writing anything) is removed again.
    """
    import fcntl

    path = Path(path)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise ConfigError(flag, str(path), f"a writable folder ({e.strerror})") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _lock_holder(fd)
            who = f"process {pid}" if pid else "another process"
            raise ConfigError(flag, str(path), f"a folder no other run is writing to ({who} is training into "
                                               f"it): wait for it to finish, or choose another --{flag}") from None
        yield path
    finally:
        os.close(fd)  # releases the lock
        if created:
            with contextlib.suppress(OSError):  # not empty: the run wrote its files
                path.rmdir()


def _lock_holder(fd: int) -> int | None:
    """The pid holding a flock on the file of ``fd``, from /proc/locks (Linux), else None."""
    st = os.fstat(fd)
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 5 and parts[1] == "FLOCK" and parts[5] == inode:
                    return int(parts[4])
    except (OSError, ValueError):
        pass
    return None
