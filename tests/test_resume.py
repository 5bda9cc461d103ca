"""Resume ≡ uninterrupted, bit for bit: from every checkpoint a run writes, both engines, memory and stream."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.synthetic import make_regression
from linsgd.data.views import InMemory, Streamed
from linsgd.model import load_model
from linsgd.runs.checkpoint import Checkpointer, Identity, load_checkpoint
from linsgd.sgd.loop import train_data

from test_views import _table


class Recorder(Checkpointer):
    """A Checkpointer that keeps a copy of every state it is asked to save (and writes nothing)."""

    def save(self, state):
        self.states.append(copy.deepcopy(state))


def _recorder(every, unit):
    r = Recorder(None, Identity({}, ""), every, unit)
    object.__setattr__(r, "states", [])
    return r


@pytest.mark.parametrize("streamed", [False, True])
def test_resuming_from_any_checkpoint_equals_the_uninterrupted_run(engine, streamed, tmp_path):
    X, y = make_regression(503, [2, -3.4, 1.0], 4.2, seed=5)  # 51 steps of 10: a short last batch
    data = Streamed(_table(X, y, tmp_path), window_rows=64, piece_rows=16) if streamed else InMemory(X, y)
    config = TrainConfig(lr=0.03, epochs=3, batch_size=10, engine=engine, seed=5, dtype="float32", average=False)
    rec = _recorder(7, "steps")
    full = train_data(data, config, checkpoints=rec)
    assert len(rec.states) == 3 * (51 // 7 + 1)  # every 7th step and every epoch's end
    assert [s.position for s in rec.states[:8]] == [70, 140, 210, 280, 350, 420, 490, 0]
    for state in rec.states[::4]:
        resumed = train_data(data, config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history


def test_epoch_checkpoints_and_early_stopping_state_survive_a_resume(engine):
    X, y = make_regression(300, [1.0, -1.0], 0.5, noise=0.5, seed=2)
    config = TrainConfig(lr=0.05, epochs=12, batch_size=10, engine=engine, seed=2, patience=2, tol=1e-3,
                         average=False)
    rec = _recorder(2, "epochs")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    assert len(full.history) < 12, "the data must make early stopping stop"
    assert [s.epoch for s in rec.states] == list(range(2, len(full.history) + 1, 2))[:len(rec.states)]
    resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(rec.states[0]))
    assert np.array_equal(resumed.w, full.w) and resumed.b == full.b and resumed.best_epoch == full.best_epoch
    assert resumed.history == full.history


def test_cli_resume_after_a_shorter_run_equals_one_run_and_refuses_changes(cli, tmp_path):
    data = tmp_path / "d.csv"
    cli("generate", data, "--num-examples", 1003, "--seed", 1)
    common = ("train", data, "--target", "y", "--seed", 4, "--quiet", "--lr", 0.03)
    assert cli(*common, "--epochs", 3, "--out", tmp_path / "full")[0] == 0
    run = tmp_path / "run"
    assert cli(*common, "--epochs", 1, "--out", run, "--checkpoint-every", "30steps")[0] == 0
    state, _ = load_checkpoint(run / "checkpoint.safetensors")
    assert (state.epoch, state.position, len(state.history)) == (1, 0, 1)
    assert cli(*common, "--epochs", 3, "--out", run, "--checkpoint-every", "1epoch", "--resume")[0] == 0
    a, b = load_model(tmp_path / "full" / "model.safetensors"), load_model(run / "model.safetensors")
    assert np.array_equal(a.w, b.w) and a.b == b.b
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    before = (run / "checkpoint.safetensors").read_bytes()
    code, _, err = cli(*common, "--epochs", 3, "--out", run, "--resume", "--lr", 0.1, "--batch-size", 20)
    assert code == 2 and "lr: 0.03 -> 0.1" in err and "batch_size: 10 -> 20" in err and len(err.splitlines()) == 1
    data.write_text(data.read_text().replace("\n1.", "\n2.", 1))
    code, _, err = cli(*common, "--epochs", 3, "--out", run, "--resume")
    assert code == 2 and "data fingerprint" in err and "lr" not in err
    assert (run / "checkpoint.safetensors").read_bytes() == before


def test_cli_resume_flags(cli, tmp_path):
    data = tmp_path / "d.csv"
    cli("generate", data, "--num-examples", 200, "--seed", 1)
    common = ("train", data, "--target", "y", "--seed", 4, "--quiet", "--out", tmp_path / "r", "--lr", 0.03)
    code, _, err = cli(*common, "--resume")
    assert code == 4 and "no checkpoint to resume from" in err and "checkpoint.safetensors" in err
    assert cli(*common, "--resume=auto", "--checkpoint-every", "2epochs")[0] == 0  # none yet: starts afresh
    for bad in ("10", "0steps", "3 weeks"):
        code, _, err = cli(*common, "--checkpoint-every", bad)
        assert code == 2 and "--checkpoint-every" in err
    assert cli(*common, "--sync-every", 0)[0] == 2 and cli(*common, "--dist-timeout", 0)[0] == 2
