"""Real processes on loopback: 2 ranks with sync every step ≡ 1 process with twice the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from support.torchrun_util import free_port, torchrun, torchrun_cmd

import linsgd
from linsgd.data.synthetic import make_regression
from linsgd.model import load_model
from linsgd.runs.checkpoint import load_checkpoint

WORKER = str(Path(__file__).parent / "support" / "dist_worker.py")


def test_two_ranks_sync_every_step_equal_one_process_with_double_batch(engine, tmp_path):
    proc = torchrun(2, WORKER, engine, str(tmp_path / "w.npy"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = np.load(tmp_path / "w.npy")
    X, y = make_regression(203, [2, -3.4], 4.2, seed=3, dtype="float64")  # n = 203: a short last batch
    one = linsgd.fit(X, y, lr=0.05, epochs=1, batch_size=10, engine=engine, seed=3, dtype="float64")
    np.testing.assert_allclose(got, np.append(one.w, one.b), rtol=1e-12, atol=1e-14)


# --- the CLI under torchrun: equivalence, restarts, failures, two launchers, shards ---------------------

TRAIN = ("-m", "linsgd", "train")
FLAGS = ("--target", "y", "--seed", 6, "--epochs", 2, "--dtype", "float64", "--lr", 0.03)  # --lr auto: one process


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory):
    from linsgd.cli import main

    path = tmp_path_factory.mktemp("data") / "d.csv"
    assert main(["generate", str(path), "--num-examples", "1003", "--seed", "2"]) == 0  # 101 global batches of 10
    return path


@pytest.fixture(scope="module")
def two_ranks(csv_data, tmp_path_factory):
    """One uninterrupted run of 2 ranks, batch 5 each, sync every step, checkpoints every 40 steps."""
    out = tmp_path_factory.mktemp("two_ranks")
    proc = torchrun(2, *TRAIN, csv_data, *FLAGS, "--batch-size", 5, "--sync-every", 1, "--out", out,
                    "--checkpoint-every", "40steps")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def _params(folder):
    m = load_model(folder / "model.safetensors")
    return np.append(m.w, m.b)


def test_cli_two_ranks_batch_5_sync_every_step_equal_one_process_batch_10(two_ranks, csv_data, cli, tmp_path):
    out, proc = two_ranks
    assert proc.stdout.count("epoch 2, loss") == 1  # only rank 0 prints
    assert cli("train", csv_data, *FLAGS, "--batch-size", 10, "--out", tmp_path)[0] == 0
    np.testing.assert_allclose(_params(out), _params(tmp_path), rtol=1e-12, atol=1e-14)
    state, ident = load_checkpoint(out / "checkpoint.safetensors")
    assert (state.epoch, state.position, ident.world_size, len(state.history)) == (2, 0, 2, 2)
    code, _, err = cli("train", csv_data, *FLAGS, "--batch-size", 5, "--out", out, "--resume")
    assert code == 2 and "world size: 2 -> 1" in err


def test_a_rank_killed_mid_epoch_restarts_and_resumes_to_the_uninterrupted_result(two_ranks, csv_data, tmp_path):
    proc = torchrun(2, *TRAIN, csv_data, *FLAGS, "--batch-size", 5, "--sync-every", 1, "--out", tmp_path,
                    "--checkpoint-every", "40steps", "--resume=auto", extra=("--max-restarts", "1"),
                    env={"LINSGD_TEST_KILL_AT_SYNC": "1:150"})  # epoch 2, step 48: after its checkpoint at 40
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resumed at epoch 2, example 200" in proc.stdout
    assert np.array_equal(_params(tmp_path), _params(two_ranks[0]))


def test_without_restarts_a_killed_rank_fails_the_job_naming_it_and_leaves_loadable_files(csv_data, tmp_path):
    proc = torchrun(2, *TRAIN, csv_data, *FLAGS, "--batch-size", 5, "--out", tmp_path, "--checkpoint-every",
                    "40steps", extra=("--max-restarts", "0"), env={"LINSGD_TEST_KILL_AT_SYNC": "1:150"})
    assert proc.returncode != 0
    assert "rank      : 1 (local_rank: 1)" in proc.stderr and "Signal 9 (SIGKILL)" in proc.stderr, proc.stderr[-3000:]
    state, _ = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert (state.epoch, state.position) == (1, 200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]


@pytest.mark.timing
def test_a_hung_rank_makes_the_others_fail_after_the_timeout(csv_data, tmp_path):
    start = time.monotonic()
    # the timeout also bounds joining the process group: it leaves room for two ranks that start (import torch,
    # read the file) at different speeds on a loaded machine, and the hang still ends the run well before the
    # test's own limit
    proc = torchrun(2, *TRAIN, csv_data, *FLAGS, "--batch-size", 5, "--out", tmp_path, "--dist-timeout", 30,
                    env={"LINSGD_TEST_HANG_AT_SYNC": "1:5"}, timeout=400)
    assert proc.returncode != 0 and time.monotonic() - start < 300
    line = [s for s in proc.stderr.splitlines() if s.startswith("linsgd train: error:")]
    assert len(line) == 1 and "rank 0: the all-reduce of sync 5 failed" in line[0], proc.stderr[-3000:]
    assert "did not answer within --dist-timeout=30s" in line[0]
    assert "exitcode  : 4" in proc.stderr


def test_two_launchers_with_two_nodes_on_loopback_equal_one_launcher(two_ranks, csv_data, tmp_path):
    port = free_port()
    cmds = [torchrun_cmd(1, *TRAIN, csv_data, *FLAGS, "--batch-size", 5, "--out", tmp_path, "--checkpoint-every",
                         "40steps", nnodes=2, port=port, extra=("--node-rank", str(k))) for k in range(2)]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
             for c in cmds]
    try:
        results = [p.communicate(timeout=180) for p in procs]
    finally:  # past the timeout: both launchers and their workers are killed, none left running
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    assert np.array_equal(_params(tmp_path), _params(two_ranks[0]))


def test_parquet_shards_too_big_for_memory_train_each_rank_on_its_own_files(tmp_path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = make_regression(2000, [2, -3.4], 4.2, noise=0.01, seed=9, dtype="float64")
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, (a, b) in enumerate([(0, 1200), (1200, 2000)]):  # unequal shards: different numbers of syncs
        pq.write_table(pa.table({"x1": X[a:b, 0], "x2": X[a:b, 1], "y": y[a:b]}), folder / f"p{k}.parquet")
    flags = ("--target", "y", "--seed", 1, "--epochs", 3, "--dtype", "float64", "--max-memory", "4K", "--lr", 0.03,
             "--average", "false")  # the sharding under test, not averaging (which starts before epoch 1 converged)
    proc = torchrun(2, *TRAIN, folder, *flags, "--sync-every", 4, "--out", tmp_path / "dist",
                    "--checkpoint-every", "1epoch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rank 0 of 2 trained on its shard" in proc.stdout and "streamed" in proc.stdout
    assert cli("train", folder, *flags, "--out", tmp_path / "one")[0] == 0
    dist, one = load_model(tmp_path / "dist" / "model.safetensors"), load_model(tmp_path / "one" / "model.safetensors")
    np.testing.assert_allclose(dist.w, [2, -3.4], atol=3e-3)
    assert abs(dist.b - 4.2) < 3e-3 and abs(one.b - 4.2) < 3e-3
    # against one process, in standard errors of least squares on all rows (the statistical floor)
    A = np.column_stack([X, np.ones(len(y))])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    res = y - A @ theta
    se = np.sqrt(res @ res / (len(y) - 3) * np.diag(np.linalg.inv(A.T @ A)))
    d, o = np.append(dist.w, dist.b), np.append(one.w, one.b)
    # constant-step SGD does not settle on theta: its iterates spread by about s = sqrt(lr·σ²/(2B)) per
    # coordinate (unit-variance features; here s ≈ 1.8 standard errors), so both runs stay within 4 s of theta
    # and of each other (a difference of two such spreads: 4·√2·s)
    s = np.sqrt(0.03 * 0.01**2 / (2 * 10))
    assert np.max(np.abs(d - theta)) < 4 * s and np.max(np.abs(o - theta)) < 4 * s, ((d - theta) / s, (o - theta) / s)
    assert np.max(np.abs(d - o)) < 4 * np.sqrt(2) * s, (d - o) / s
    assert np.max(np.abs(d - theta) / se) > 0.05  # SGD's answer, not a copy of least squares
    # rank 1's shard changes: the resume refuses on every rank (rank 0 never read that file)
    pq.write_table(pa.table({"x1": X[1200:, 0], "x2": X[1200:, 1], "y": y[1200:] + 1}), folder / "p1.parquet")
    proc = torchrun(2, *TRAIN, folder, *flags, "--sync-every", 4, "--out", tmp_path / "dist", "--resume",
                    extra=("--max-restarts", "0"))
    assert proc.returncode != 0 and "data fingerprint" in proc.stderr and "exitcode  : 2" in proc.stderr


def test_two_ranks_equal_one_process_with_averaging_penalty_and_schedule(csv_data, cli, tmp_path):
    """The running average travels with the parameters in the all-reduce: with K = 1, 2 ranks of batch 5
    equal one process of batch 10 also with averaging from the first step, elastic net and a decaying step."""
    extra = ("--average", "--penalty", "elasticnet", "--alpha", 0.01, "--l1-ratio", 0.5, "--schedule", "invscaling")
    proc = torchrun(2, *TRAIN, csv_data, *FLAGS, *extra, "--batch-size", 5, "--sync-every", 1,
                    "--out", tmp_path / "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert cli("train", csv_data, *FLAGS, *extra, "--batch-size", 10, "--out", tmp_path / "one")[0] == 0
    np.testing.assert_allclose(_params(tmp_path / "two"), _params(tmp_path / "one"), rtol=1e-12, atol=1e-14)
