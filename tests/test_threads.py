"""Threads in one process: N threads with K = 1 ≡ one thread with batch N·B; ≡ ranks (RankSlice) for any K;
streamed data, resume, torchrun ranks × threads, and the --threads flag."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
from support.torchrun_util import torchrun
from test_resume import _recorder

import linsgd
from linsgd.config import TrainConfig
from linsgd.data.rank_views import RankSlice
from linsgd.data.synthetic import make_regression
from linsgd.data.views import InMemory, Streamed
from linsgd.engines.averaging import pack, unpack, weighted_mean
from linsgd.engines.threaded import THREAD_MIN_ROWS, default_sync_every
from linsgd.model import load_model
from linsgd.sgd.loop import train_data

from test_views import _table

N_ROWS = 70_003  # above the threads' minimum, and a short last process batch (70,003 = 3,500·20 + 3)
W = [2.0, -3.4, 1.5]
pytestmark = pytest.mark.filterwarnings("ignore::linsgd.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def data64():
    return make_regression(N_ROWS, W, 4.2, noise=0.1, seed=7, dtype="float64")


def _fit(X, y, **kw):
    return linsgd.fit(X, y, **{"lr": 0.02, "epochs": 2, "seed": 3, **kw})


RULES = {"plain": {}, "averaged": {"average": True}, "l2 + averaged + invscaling": {
    "average": True, "penalty": "l2", "alpha": 1e-3, "schedule": "invscaling"}}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_threads_averaging_every_step_equal_one_thread_with_double_batch(data64, dtype, rule):
    X, y = (a.astype(dtype) for a in data64)
    two = _fit(X, y, batch_size=5, threads=2, sync_every=1, dtype=dtype, **RULES[rule])
    one = _fit(X, y, batch_size=10, threads=1, dtype=dtype, **RULES[rule])
    assert two.config.threads == 2 and one.config.threads == 1
    tol = 1e-12 if dtype == "float64" else 2e-5  # float32: the two sums round differently, step after step
    np.testing.assert_allclose(two.w, one.w, rtol=tol, atol=tol)
    np.testing.assert_allclose(two.b, one.b, rtol=tol, atol=tol)
    np.testing.assert_allclose(two.history, one.history, rtol=100 * tol)
    if dtype == "float64" and rule == "plain":  # and the answer is not trivially the start
        assert abs(two.w - W).max() < 0.01


def test_k_steps_apart_the_threads_differ_from_one_thread_but_still_converge(data64):
    X, y = data64
    local = _fit(X, y, batch_size=5, threads=2, sync_every=64, dtype="float64")
    one = _fit(X, y, batch_size=10, threads=1, dtype="float64")
    assert not np.array_equal(local.w, one.w)
    assert local.history[-1] < 1.01 * one.history[-1]


def test_threads_equal_the_reference_engine_threaded(data64):
    """The oracle: the reference engine (torch, the chapter's code) on the same slices, averaged alike."""
    pytest.importorskip("torch")
    X, y = (a[:THREAD_MIN_ROWS + 3] for a in data64)
    kw = dict(batch_size=10, threads=2, sync_every=16, dtype="float64", epochs=1, average=True)
    fused, ref = _fit(X, y, engine="fused", **kw), _fit(X, y, engine="reference", **kw)
    np.testing.assert_allclose(fused.w, ref.w, rtol=1e-10)
    np.testing.assert_allclose(fused.b, ref.b, rtol=1e-10)


class _PairSync:
    """Two in-process "ranks" (Python threads running the loop on RankSlice views) that average through a
    barrier with the ranks' rule: the example-weighted mean of [w, w̄, b̄] and b."""

    def __init__(self, board: dict, barrier: threading.Barrier, rank: int, every: int) -> None:
        self.board, self.barrier, self.rank, self.every = board, barrier, rank, every
        self.calls, self.seconds = 0, 0.0

    def average(self, w, b, examples):
        self.board[self.rank] = (np.array(w, dtype=np.float64), float(b), examples)
        self.barrier.wait()
        states = [self.board[r][:2] for r in (0, 1)]
        mean = weighted_mean(states, [self.board[r][2] for r in (0, 1)])
        self.barrier.wait()
        return (w, b) if mean is None else (mean[0].astype(w.dtype), mean[1])

    drain = average  # the views below give both ranks the same number of steps


def test_threads_equal_ranks_on_rank_slices_for_any_k(data64):
    """The RankSlice semantics: 2 ranks (simulated in-process) with K = 8 equal 2 threads with K = 8."""
    X, y = (a[:70_000] for a in data64)  # 3,500 whole global batches: both ranks run every step
    config = TrainConfig(lr=0.02, epochs=2, batch_size=5, seed=3, dtype="float64", average=True)
    board, barrier, results = {}, threading.Barrier(2, timeout=300), {}

    def rank(r):
        view = RankSlice(InMemory(X, y), r, 2, 5)
        try:
            results[r] = train_data(view, config, sync=_PairSync(board, barrier, r, 8))
        except BaseException:
            barrier.abort()  # the other rank stops at its next sync instead of waiting for this one
            raise

    workers = [threading.Thread(target=rank, args=(r,), daemon=True) for r in (0, 1)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in workers) and sorted(results) == [0, 1], "a rank failed or hung"
    threads = train_data(InMemory(X, y), TrainConfig(**{**config.to_dict(), "threads": 2, "sync_every": 8}))
    np.testing.assert_allclose(threads.w, results[0].w, rtol=1e-12)
    np.testing.assert_allclose(threads.b, results[0].b, rtol=1e-12)
    np.testing.assert_allclose(threads.history, results[0].history, rtol=1e-12)


def test_streamed_data_with_threads_equals_streamed_one_thread_with_double_batch(data64, tmp_path):
    X, y = data64
    data = Streamed(_table(X, y, tmp_path), window_rows=20_000, piece_rows=2_500)
    base = dict(lr=0.02, epochs=2, seed=3, dtype="float64")
    two = train_data(data, TrainConfig(**base, batch_size=5, threads=2, sync_every=1))
    one = train_data(data, TrainConfig(**base, batch_size=10))
    assert two.config.threads == 2
    np.testing.assert_allclose(two.w, one.w, rtol=1e-12)
    np.testing.assert_allclose(two.history, one.history, rtol=1e-12)


@pytest.mark.parametrize("streamed", [False, True])
def test_resuming_a_threaded_run_from_its_checkpoints_is_bit_identical(data64, streamed, tmp_path):
    X, y = data64
    data = Streamed(_table(X, y, tmp_path), window_rows=20_000, piece_rows=2_500) if streamed else InMemory(X, y)
    config = TrainConfig(lr=0.02, epochs=2, batch_size=5, seed=3, dtype="float64", threads=2, sync_every=100,
                         average=True)
    rec = _recorder(1_000, "steps")
    full = train_data(data, config, checkpoints=rec)
    assert rec.states and all(s.position % 1_000 == 0 for s in rec.states)
    for state in rec.states[1::3]:
        resumed = train_data(data, config, resume=copy.deepcopy(state))
        assert np.array_equal(resumed.w, full.w) and resumed.b == full.b, (state.epoch, state.position)
        assert resumed.history == full.history


def test_the_averaging_rule_packs_the_running_average_like_the_ranks():
    w, avg = np.array([1.0, 2.0], np.float32), (np.array([3.0, 4.0]), 5.0)
    flat = pack(w, avg)
    assert flat.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    w2, avg2 = unpack(flat, 2, np.float32)
    assert w2.dtype == np.float32 and avg2[0].tolist() == [3.0, 4.0] and avg2[1] == 5.0
    mean = weighted_mean([(np.array([0.0]), 0.0), (np.array([3.0]), 6.0)], [1, 2])
    assert mean[0].tolist() == [2.0] and mean[1] == 4.0
    assert weighted_mean([(np.array([1.0]), 1.0)], [0]) is None


def test_default_k_keeps_averaging_under_five_percent_of_the_epoch():
    # d = 2, batch 10: a thread's step costs ~0.16 µs, a sync ~75 µs ⇒ K ≥ 75/(0.05·0.164) ≈ 9,147
    assert default_sync_every(2, 10) >= 5_000
    assert default_sync_every(100, 256) < default_sync_every(2, 10)
    small = TrainConfig(lr=0.03, epochs=3, threads=2, seed=0)
    assert train_data(InMemory(*make_regression(1000, [1.0], 0.0, seed=0)), small).config.threads == 1


@pytest.mark.parametrize("value", ["0", "-2"])
def test_threads_zero_or_negative_is_exit_2_naming_the_flag(cli, tmp_path, value):
    data = tmp_path / "d.csv"
    assert cli("generate", data, "--num-examples", 100)[0] == 0
    code, _, err = cli("train", data, "--target", "y", "--threads", value, "--out", tmp_path / "run")
    assert code == 2 and f"--threads={value}" in err, err
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def csv_big(tmp_path_factory):
    from linsgd.cli import main

    path = tmp_path_factory.mktemp("threads") / "d.csv"
    assert main(["generate", str(path), "--num-examples", str(N_ROWS), "--num-features", "3", "--seed", "4"]) == 0
    return path


FLAGS = ("--target", "y", "--seed", 6, "--epochs", 1, "--dtype", "float64", "--lr", 0.03, "--average", "false",
         "--sync-every", 1, "--quiet")


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


@pytest.mark.slow
def test_torchrun_two_ranks_of_two_threads_equal_one_process_of_four_threads(csv_big, cli, tmp_path):
    proc = torchrun(2, "-m", "linsgd", "train", csv_big, *FLAGS, "--batch-size", 5, "--threads", 2,
                    "--out", tmp_path / "ranks")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert cli("train", csv_big, *FLAGS, "--batch-size", 5, "--threads", 4, "--out", tmp_path / "four")[0] == 0
    assert cli("train", csv_big, *FLAGS, "--batch-size", 20, "--threads", 1, "--out", tmp_path / "one")[0] == 0
    np.testing.assert_allclose(_params(tmp_path / "ranks"), _params(tmp_path / "four"), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(_params(tmp_path / "four"), _params(tmp_path / "one"), rtol=1e-12, atol=1e-13)
    config = load_model(tmp_path / "four" / "model.safetensors").config
    assert (config["threads"], config["sync_every"]) == (4, 1)
