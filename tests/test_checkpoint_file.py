"""Checkpoints through the file: every field of the training state survives save → load exactly, and a run
resumed from each file it wrote (not from a copy in memory) equals the uninterrupted run — with averaging,
validation and early stopping, whose kept parameters and histories come back from the file."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.runs.checkpoint import Checkpointer, Identity, load_checkpoint, save_checkpoint
from linsgd.sgd.loop import train_data
from linsgd.sgd.result import TrainState


def test_every_field_round_trips_through_the_file(tmp_path):
    state = TrainState(w=np.array([1.5, -2.25, 1e-30], dtype=np.float32), b=0.1 + 0.2, epoch=5, position=370,
                       step=1234, history=[0.5, 1 / 3, 0.25], val_history=[0.7, 0.6, 2 / 3], seconds=[0.1, 0.2, 0.3],
                       best_loss=0.6, best_epoch=2, best_w=np.array([0.5, 1 / 3, -7.0], dtype=np.float32),
                       best_b=-1 / 7, wa=np.array([1 / 3, 2 / 3, -1e-300]), ba=1 / 9, objective=[0.7, 0.6, 2 / 3])
    save_checkpoint(tmp_path / "c.safetensors", state, Identity({"lr": 0.03}, "abc", 1))
    got, _ = load_checkpoint(tmp_path / "c.safetensors")
    for name in ("w", "best_w", "wa"):
        a, b = getattr(got, name), getattr(state, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("b", "epoch", "position", "step", "history", "val_history", "seconds", "best_loss", "best_epoch",
                 "best_b", "ba", "objective"):
        assert getattr(got, name) == getattr(state, name), name
    # before averaging and before any best epoch: the optional tensors stay absent
    fresh = TrainState(w=np.zeros(2), b=0.0)
    save_checkpoint(tmp_path / "f.safetensors", fresh, Identity({}, "", 1))
    got, _ = load_checkpoint(tmp_path / "f.safetensors")
    assert got.best_w is None and got.wa is None and got.best_loss == math.inf


class FileCheckpointer(Checkpointer):
    """Writes each checkpoint to its own file (epoch-position), as the run folder's file at that moment."""

    def save(self, state):
        save_checkpoint(self.path / f"{state.epoch}-{state.position}.safetensors", state, self.identity)


def _views(seed=0, n=203):
    """Training rows of y = 2x, validation rows of y = x: the validation loss falls, then rises."""
    rng = np.random.default_rng(seed)
    X, Xv = rng.standard_normal((n, 2)), rng.standard_normal((n // 2, 2))
    y = X @ [2.0, -1.0] + 0.05 * rng.standard_normal(n)
    return InMemory(X, y), InMemory(Xv, Xv @ [1.0, -0.5])


@pytest.mark.parametrize("average", [False, True])
def test_resume_from_every_file_equals_the_uninterrupted_run(tmp_path, average):
    train, val = _views()
    config = TrainConfig(lr=0.003, epochs=60, batch_size=10, seed=4, dtype="float64", init_std=0.0,
                         engine="reference", patience=3, tol=0.0, average=average)
    full = train_data(train, config, val=val)
    assert full.stopped_epoch and full.best_epoch < full.stopped_epoch  # early stopping kept an earlier epoch
    ckpt = FileCheckpointer(tmp_path, Identity({}, "", 1), 7, "steps")
    again = train_data(train, config, val=val, checkpoints=ckpt)
    assert np.array_equal(again.w, full.w)
    files = sorted(tmp_path.glob("*.safetensors"), key=lambda p: [int(k) for k in p.stem.split("-")])
    # checkpoints after the kept epoch: the kept parameters come back from the file, not from the resumed run
    late = [f for f in files if int(f.stem.split("-")[0]) > full.best_epoch]
    assert late and len(files) > 20
    for f in files[::9] + late:
        state, _ = load_checkpoint(f)
        resumed = train_data(train, config, val=val, resume=state)
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, f.name
        assert resumed.history == full.history and resumed.val_history == full.val_history, f.name
        assert resumed.objective == full.objective, f.name
        assert (resumed.best_epoch, resumed.stopped_epoch) == (full.best_epoch, full.stopped_epoch), f.name


def test_the_format_version_is_written_and_a_newer_one_refused(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from linsgd.errors import StorageError

    save_checkpoint(tmp_path / "c.safetensors", TrainState(w=np.zeros(2), b=0.0), Identity({}, "", 1))
    with safe_open(str(tmp_path / "c.safetensors"), framework="numpy") as f:
        meta = f.metadata()
    assert (meta["format"], meta["format_version"]) == ("linsgd-checkpoint", "1")
    for version, ok in (("0", True), ("1", True), ("2", False)):
        save_file({"w": np.zeros(2)}, str(tmp_path / "v.safetensors"), metadata={**meta, "format_version": version})
        if ok:
            assert load_checkpoint(tmp_path / "v.safetensors")[0].epoch == 0
        else:
            with pytest.raises(StorageError, match="newer than this linsgd reads"):
                load_checkpoint(tmp_path / "v.safetensors")


def test_when_checkpoints_are_due():
    steps = Checkpointer(None, Identity({}, ""), 5, "steps")
    epochs = Checkpointer(None, Identity({}, ""), 3, "epochs")
    assert steps.segment_steps == 5 and epochs.segment_steps is None
    assert all(steps.due_at_epoch_end(k) for k in range(1, 8))  # steps: also at every epoch's end
    assert [k for k in range(1, 10) if epochs.due_at_epoch_end(k)] == [3, 6, 9]
    assert [now for now in range(1, 16) if steps.due_within_epoch(now - 1, now)] == [5, 10, 15]
    assert steps.due_within_epoch(3, 7) and not steps.due_within_epoch(5, 9)  # a sync point past the 5th step
    assert not epochs.due_within_epoch(0, 30)
    assert Identity({}, "x") == Identity({}, "x", 1)  # one process unless told otherwise
    with pytest.raises(AttributeError):
        steps.every = 1  # frozen: the loop cannot change when checkpoints fall


def test_only_an_enabled_checkpointer_writes(tmp_path):
    state, ident = TrainState(w=np.ones(2), b=0.5, epoch=1), Identity({"lr": 0.1}, "f", 2)
    Checkpointer(tmp_path / "off.safetensors", ident, 1, enabled=False).save(state)  # ranks other than 0
    assert not (tmp_path / "off.safetensors").exists()
    Checkpointer(tmp_path / "on.safetensors", ident, 1).save(state)  # enabled unless told otherwise
    got, got_ident = load_checkpoint(tmp_path / "on.safetensors")
    assert got_ident == ident and got.epoch == 1 and np.array_equal(got.w, state.w)
    with pytest.raises(AttributeError):
        ident.fingerprint = "g"  # frozen: what a resume compares cannot drift
