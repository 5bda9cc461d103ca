"""Checkpoint round trip, refusal listing differences, and foreign or broken files."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.errors import ConfigError, StorageError
from linsgd.runs.checkpoint import Identity, check_resumable, load_checkpoint, save_checkpoint
from linsgd.sgd.result import TrainState


def test_round_trip_is_exact(tmp_path):
    w = np.array([1.5, -2.25, 1e-30], dtype=np.float32)
    state = TrainState(w=w, b=0.1 + 0.2, epoch=2, position=370, step=1234, history=[0.1, 1 / 3])
    ident = Identity({"lr": 0.03, "seed": 7}, "abc", 2)
    save_checkpoint(tmp_path / "c.safetensors", state, ident)
    got, got_ident = load_checkpoint(tmp_path / "c.safetensors")
    assert got.w.dtype == np.float32 and np.array_equal(got.w, w)
    assert (got.b, got.epoch, got.position, got.step, got.history) == (0.1 + 0.2, 2, 370, 1234, [0.1, 1 / 3])
    assert got_ident == ident


def test_resume_refuses_listing_every_difference():
    saved = Identity({"lr": 0.03, "seed": 7, "batch_size": 10}, "abc", 1)
    check_resumable(saved, Identity(dict(saved.config), "abc", 1), "c")  # same: fine
    with pytest.raises(ConfigError) as info:
        check_resumable(saved, Identity({"lr": 0.1, "seed": 7, "batch_size": 20}, "xyz", 2), "c")
    msg = str(info.value)
    for part in ("lr: 0.03 -> 0.1", "batch_size: 10 -> 20", "data fingerprint", "world size: 1 -> 2"):
        assert part in msg
    assert "seed" not in msg


def test_foreign_and_truncated_files_are_storage_errors(tmp_path):
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(2)}, str(tmp_path / "foreign.safetensors"), metadata={"format": "other"})
    state = TrainState(w=np.zeros(3), b=0.0)
    save_checkpoint(tmp_path / "good.safetensors", state, Identity({}, "f"))
    data = (tmp_path / "good.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    for name, fragment in (("foreign", "not a linsgd checkpoint"), ("cut", "not a readable"),
                           ("missing", "no checkpoint")):
        with pytest.raises(StorageError, match=fragment):
            load_checkpoint(tmp_path / f"{name}.safetensors")


def test_the_data_fingerprint_a_resume_checks_changes_with_any_value(tmp_path):
    """The fingerprint of the training rows (computed by the first pass) sees a one-ulp change."""
    from linsgd.config import DataConfig
    from linsgd.data.first_pass import encode
    from linsgd.data.rows import load_rows

    def fingerprint(values):
        path = tmp_path / "d.npy"
        np.save(path, values)
        cfg = DataConfig(target="2")
        return load_rows(encode(path, cfg, dtype="float32"), cfg, seed=0).fingerprint

    A = np.ones((4, 3), np.float32)
    B = A.copy()
    B[3, 1] = np.nextafter(np.float32(1), np.float32(2))
    assert fingerprint(A) == fingerprint(A.copy()) != fingerprint(B)
