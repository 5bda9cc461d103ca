"""Atomic writes: the final name holds either the old complete file or the new complete file."""

from __future__ import annotations

import os
import stat

import pytest

from linsgd.errors import ConfigError, StorageError
from linsgd.storage import atomic_path, ensure_writable_dir


def test_success_replaces_the_file_with_the_usual_mode(tmp_path):
    final = tmp_path / "model.bin"
    final.write_bytes(b"old")
    with atomic_path(final) as tmp:
        assert tmp.parent == tmp_path and tmp != final
        tmp.write_bytes(b"new")
        assert final.read_bytes() == b"old"  # nothing visible until the rename
    assert final.read_bytes() == b"new" and os.listdir(tmp_path) == ["model.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(final.stat().st_mode) == 0o666 & ~umask


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    final = tmp_path / "model.bin"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash while writing")
    assert final.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.bin"]


def test_missing_folder_is_a_storage_error_naming_it(tmp_path):
    with pytest.raises(StorageError, match="nope"), atomic_path(tmp_path / "nope" / "f"):
        pass


def test_ensure_writable_dir_names_the_flag(tmp_path):
    assert ensure_writable_dir(tmp_path / "a" / "b", "out").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError) as info:
        ensure_writable_dir(tmp_path / "file" / "sub", "out")
    assert info.value.param == "out"


def test_a_signal_right_after_the_temporary_file_is_made_leaves_no_file(tmp_path, monkeypatch):
    """The signal lands at a known point: the instant mkstemp has created the file, before anything could
    register it. The handler (the command's rule: ask linsgd._held first) holds it until the file is
    registered, so the unwinding removes it."""
    import signal
    import tempfile

    from linsgd._held import hold
    from linsgd.errors import Terminated

    def terminate(signum, frame):
        exc = Terminated()
        if not hold(exc):
            raise exc

    made = tempfile.mkstemp

    def mkstemp_then_signal(*args, **kwargs):
        out = made(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return out

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_signal)
        with pytest.raises(Terminated):
            with atomic_path(tmp_path / "out.csv") as tmp:
                tmp.write_text("never finished")
        assert os.listdir(tmp_path) == []
    finally:
        signal.signal(signal.SIGTERM, previous)
