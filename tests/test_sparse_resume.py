"""Checkpoints on sparse X: resuming the sparse engine from any checkpoint (within an epoch or at its end)
equals the uninterrupted run bit for bit, through the loop and through ``linsgd train`` on an svmlight file;
an AdaGrad run continues its per-coordinate sums, which the checkpoint holds."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file
from test_resume import _recorder

from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.model import load_model
from linsgd.runs.checkpoint import Identity, load_checkpoint, save_checkpoint
from linsgd.sgd.loop import train_data


def _data(n=503, d=40, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, format="csr", random_state=seed, dtype=np.float64)
    X.data = np.round(rng.standard_normal(X.nnz), 6)
    y = np.round(X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n), 6)
    return X, y


@pytest.mark.parametrize("options", [{}, {"penalty": "l2", "alpha": 0.01, "average": 20, "schedule": "invscaling"}])
def test_resuming_the_sparse_engine_from_any_checkpoint_equals_the_uninterrupted_run(options):
    X, y = _data()
    config = TrainConfig(lr=0.05, epochs=3, batch_size=10, seed=5, dtype="float64", **options)
    rec = _recorder(7, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    assert len(rec.states) == 3 * (51 // 7 + 1)  # every 7th step of 51 and every epoch's end
    for state in rec.states[::3]:
        # with the same checkpoint cadence (the engine's calls end at the same steps): bit for bit
        resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(state), checkpoints=_recorder(7, "steps"))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history
        # without: the lazy average is re-based where calls end (S = P·u − A), equal to float64 rounding
        other = train_data(InMemory(X, y), config, resume=copy.deepcopy(state))
        np.testing.assert_allclose(other.w, full.w, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("batch", [1, 10])
def test_an_adagrad_run_resumed_from_any_checkpoint_continues_its_sums(batch, tmp_path):
    X, y = _data()
    config = TrainConfig(lr=0.2, epochs=3, batch_size=batch, seed=5, dtype="float64", schedule="adagrad",
                         average=False)
    rec = _recorder(40, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    assert all(s.sumsq is not None and s.sumsq.shape == (41,) for s in rec.states)
    assert rec.states[0].sumsq.sum() < rec.states[-1].sumsq.sum()  # the sums grow: copies, not one array
    for state in rec.states[1::3]:
        resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        lost = copy.deepcopy(state)
        lost.sumsq = None  # a state without its sums cannot continue: an internal error, never a silent restart
        with pytest.raises(ValueError, match="sums of squares"):
            train_data(InMemory(X, y), config, resume=lost)
    # through a checkpoint file: the sums are written and read back
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, rec.states[4], Identity({}, ""))
    loaded, _ = load_checkpoint(path)
    assert np.array_equal(loaded.sumsq, rec.states[4].sumsq)
    assert np.array_equal(train_data(InMemory(X, y), config, resume=loaded).w, full.w)


@pytest.mark.parametrize("schedule", ["constant", "adagrad"])
def test_an_svmlight_run_resumed_from_its_checkpoint_equals_the_uninterrupted_run(cli, tmp_path, schedule):
    X, y = _data(n=800, d=25, seed=3)
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"), zero_based=False)
    flags = ("--solver", "sgd", "--lr", "0.05", "--seed", 2, "--dtype", "float64", "--average", "false",
             "--schedule", schedule)
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "whole", "--epochs", 4, *flags)
    assert code == 0, err
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 2,
                       "--checkpoint-every", "13steps", *flags)
    assert code == 0, err
    assert (tmp_path / "part" / "checkpoint.safetensors").exists()
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 4, "--resume",
                         "--checkpoint-every", "13steps", *flags)
    assert code == 0, err
    assert "resumed at epoch 3" in out
    whole, part = (load_model(tmp_path / r / "model.safetensors") for r in ("whole", "part"))
    assert np.array_equal(whole.w, part.w) and whole.b == part.b
    lines = (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "other", "--epochs", 1, "--lr", "0.1",
                       "--resume", "--solver", "sgd")
    assert code != 0 and "checkpoint" in err and err.strip().count("\n") == 0
    text = (tmp_path / "d.svm").read_text()
    (tmp_path / "d.svm").write_text(text.splitlines(keepends=True)[1] + text)  # one row more: other data
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 5, "--resume",
                       "--checkpoint-every", "13steps", *flags)
    assert code == 2 and "data fingerprint" in err and err.strip().count("\n") == 0


@pytest.mark.parametrize("bad", [np.zeros(40), np.full(41, -1.0), np.full(41, np.nan)])
def test_a_checkpoint_with_unusable_sums_is_refused_naming_them(bad, tmp_path):
    from linsgd.errors import StorageError
    from linsgd.sgd.result import TrainState

    path = tmp_path / "c.safetensors"
    save_checkpoint(path, TrainState(w=np.zeros(40), b=0.0, step=3, sumsq=bad), Identity({}, ""))
    with pytest.raises(StorageError, match="corrupt checkpoint .*'sumsq'"):
        load_checkpoint(path)
