"""Threads on sparse X: the dense threads' rule (local SGD, the example-weighted mean every K steps) on the
O(nnz) engine. Averaging every step equals one thread with the N-times batch; any K equals the dense threads on
the densified data (whose own oracle is the reference engine, tests/test_threads.py); a resumed threaded run
equals the uninterrupted one bit for bit; K "auto" is the sparse cost model's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from support.problems import sparse_problem
from test_resume import _recorder

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory
from linsgd.engines import threaded
from linsgd.engines.sparse_threads import SYNC_SHARE, default_sync_every
from linsgd.errors import DivergenceError
from linsgd.sgd.loop import train_data
from linsgd.sgd.threads import resolve

N_ROWS = 70_003  # above the threads' minimum, and a short last process batch (70,003 = 7,000·10 + 3)
D = 50
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    return sparse_problem(N_ROWS, D, 0.1, 4)


RULES = {"plain": {}, "l2": {"penalty": "l2", "alpha": 1e-3},
         "l2 + averaged + invscaling": {"average": True, "penalty": "l2", "alpha": 1e-3, "schedule": "invscaling"}}


def _fit(X, y, **kw):
    return linsgd.fit(X, y, **{"lr": 0.05, "epochs": 2, "seed": 3, "dtype": "float64", **kw})


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rule", RULES)
def test_two_sparse_threads_averaging_every_step_equal_one_thread_with_double_batch(data, rule, weighted):
    X, y, v, w_true = data
    v = v if weighted else None
    two = _fit(X, y, batch_size=5, threads=2, sync_every=1, sample_weight=v, **RULES[rule])
    one = _fit(X, y, batch_size=10, threads=1, sample_weight=v, **RULES[rule])
    assert (two.config.threads, two.config.sync_every, one.config.threads) == (2, 1, 1)
    np.testing.assert_allclose(two.w, one.w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two.b, one.b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two.history, one.history, rtol=1e-10)
    if rule == "plain" and not weighted:  # and the answer is not the start
        assert abs(two.w - w_true).max() < 0.05


@pytest.mark.parametrize("k", [16, 5_000])
@pytest.mark.parametrize("rule", RULES)
def test_sparse_threads_equal_the_dense_threads_on_the_densified_data(data, rule, k):
    """Each thread's weights, lazy L2 scale and lazy average folded in at every sync: the same local SGD."""
    X, y, v, _ = data
    kw = dict(batch_size=5, threads=2, sync_every=k, sample_weight=v, **RULES[rule])
    sparse = _fit(X, y, **kw)
    dense = _fit(X.toarray(), y, **kw)
    assert sparse.config.threads == dense.config.threads == 2
    np.testing.assert_allclose(sparse.w, dense.w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.b, dense.b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.history, dense.history, rtol=1e-9)
    one = _fit(X, y, batch_size=10, threads=1, sample_weight=v, **RULES[rule])
    assert not np.allclose(sparse.w, one.w, rtol=1e-6, atol=0)  # local SGD: not the one-thread trajectory
    assert sparse.history[-1] < 1.05 * one.history[-1]


@pytest.mark.parametrize("options", [{}, {"penalty": "l2", "alpha": 1e-3, "average": 300}])
def test_resuming_a_sparse_threaded_run_from_its_checkpoints_is_bit_identical(data, options):
    X, y, _, _ = data
    config = TrainConfig(lr=0.05, epochs=2, batch_size=5, seed=3, dtype="float64", threads=2, sync_every=100,
                         **options)
    rec = _recorder(1_000, "steps")
    full = train_data(InMemory(X, y), config, checkpoints=rec)
    assert rec.states and all(s.position % 1_000 == 0 for s in rec.states)
    for state in rec.states[1::3]:
        resumed = train_data(InMemory(X, y), config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history


def test_sparse_threads_that_diverge_raise_naming_the_first_epoch(data):
    X, y, _, _ = data
    with pytest.raises(DivergenceError) as e:
        _fit(X, 1e200 * y, lr=10.0, batch_size=5, threads=2, sync_every=50)
    assert (e.value.epoch, e.value.step) == (1, 1)  # the first step's loss overflows: no later step is named


def test_k_auto_on_sparse_x_keeps_the_o_of_d_averaging_under_its_share_of_the_epoch(data):
    X, y, _, _ = data
    d, nnz, B = 2**20, 30.0, 1
    k = default_sync_every(d, nnz, B, 2)
    sync = threaded.SYNC_SECONDS + 6e-9 * d * 2  # the module's cost model, written out
    step = B * nnz * 15e-9
    assert sync / (k * step) <= SYNC_SHARE < sync / ((k - 1) * step)
    assert default_sync_every(d, nnz, 4, 2) < k < default_sync_every(4 * d, nnz, B, 2)
    assert default_sync_every(d, 3 * nnz, B, 2) < k < default_sync_every(d, nnz, B, 4)
    config = TrainConfig(threads=2, batch_size=B, seed=0)
    assert resolve(config, 10**6, d, row_nnz=nnz).sync_every == k
    dense = threaded.default_sync_every(d, B, lockstep=True)  # dense: per feature (here a step long enough for
    assert resolve(config, 10**6, d).sync_every == dense < k  # lockstep, K = 1)
    fitted = _fit(X, y, batch_size=5, threads=2)  # through fit: the rows' mean stored values
    assert fitted.config.sync_every == default_sync_every(D, X.nnz / N_ROWS, 5, 2)


def test_a_streamed_svmlight_run_on_two_threads_averaging_every_step_equals_one_thread_with_double_batch(
        data, cli, tmp_path):
    from sklearn.datasets import dump_svmlight_file

    from linsgd.model import load_model

    X, y, _, _ = data
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"), zero_based=False)
    flags = ("--max-memory", "1M", "--seed", 4, "--lr", "0.05", "--dtype", "float64", "--epochs", 2,
             "--average", "false", "--solver", "sgd")
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "two", "--threads", 2, "--sync-every", 1,
                         "--batch-size", 5, *flags)
    assert code == 0 and "streamed" in out, err
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "one", "--batch-size", 10, *flags)
    assert code == 0, err
    two, one = (load_model(tmp_path / r / "model.safetensors") for r in ("two", "one"))
    assert two.config["threads"] == 2
    np.testing.assert_allclose(two.w, one.w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(two.b, one.b, rtol=1e-12, atol=1e-12)
    assert not np.allclose(two.w, 0.0, atol=0.01)


def test_a_streamed_svmlight_run_on_two_threads_resumed_from_its_checkpoint_equals_the_uninterrupted_run(
        data, cli, tmp_path):
    from sklearn.datasets import dump_svmlight_file

    from linsgd.model import load_model

    X, y, _, _ = data
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"), zero_based=False)
    flags = ("--max-memory", "1M", "--seed", 4, "--lr", "0.05", "--dtype", "float64", "--threads", 2,
             "--sync-every", 50, "--batch-size", 5, "--checkpoint-every", "2000steps", "--solver", "sgd",
             "--penalty", "l2", "--alpha", "1e-3", "--average", "true")
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "whole", "--epochs", 2, *flags)
    assert code == 0 and "streamed" in out, err
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 1, *flags)
    assert code == 0, err
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 2, "--resume", *flags)
    assert code == 0 and "resumed at epoch 2" in out, err
    whole, part = (load_model(tmp_path / r / "model.safetensors") for r in ("whole", "part"))
    assert whole.config["threads"] == 2 and whole.config["sync_every"] == 50
    assert np.array_equal(whole.w, part.w) and whole.b == part.b
