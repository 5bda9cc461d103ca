"""Faults really injected in one process: SIGKILL mid-training and mid-checkpoint, disk full, read-only.

(The torchrun faults — a killed rank with and without restarts, a hung rank — are in test_torchrun.py.)
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from linsgd.model import load_model
from linsgd.runs.checkpoint import Identity, load_checkpoint, save_checkpoint
from linsgd.sgd.loop import TrainState

from mounts import in_private_mounts

CKPT = "checkpoint.safetensors"


def _linsgd(*args, env=None, **kw):
    return [sys.executable, "-m", "linsgd", *map(str, args)], {**os.environ, **(env or {})}


def _temporary(name):
    # ours (storage.atomic_path), or the one safetensors' save_file writes through (Rust tempfile: .tmpXXXXXX)
    return (name.startswith(f".{CKPT}.") and name.endswith(".tmp")) or name.startswith(".tmp")


def _leftovers(folder):
    """Files besides the final names: only hidden temporaries of interrupted writes are allowed."""
    names = set(os.listdir(folder)) - {CKPT}
    assert all(_temporary(n) for n in names), [n for n in names if not _temporary(n)]
    return names


@pytest.fixture
def data(cli, tmp_path):
    path = tmp_path / "d.csv"
    cli("generate", path, "--num-examples", 2003, "--seed", 1)
    return path


@pytest.mark.timing
def test_sigkill_at_a_random_step_then_resume_equals_the_uninterrupted_run(cli, data, tmp_path):
    common = ("train", data, "--target", "y", "--seed", 8, "--epochs", 3, "--quiet", "--lr", 0.03)
    assert cli(*common, "--out", tmp_path / "full")[0] == 0
    run = tmp_path / "run"
    for attempt in range(5):  # a run that finishes before the kill is retried with an earlier kill
        shutil.rmtree(run, ignore_errors=True)
        cmd, env = _linsgd(*common, "--out", run, "--checkpoint-every", "1steps",
                           env={"LINSGD_TEST_SLOW_CHECKPOINT": "0.002"})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not (run / CKPT).exists() and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(random.uniform(0.0, 0.4 / (attempt + 1)))
        proc.send_signal(signal.SIGKILL)
        if proc.wait() == -signal.SIGKILL:
            break
    assert proc.returncode == -signal.SIGKILL, "training always finished before the kill"
    state, _ = load_checkpoint(run / CKPT)
    assert 0 < state.epoch * 201 + state.position // 10 < 3 * 201, (state.epoch, state.position)
    _leftovers(run)
    assert not (run / "model.safetensors").exists()
    code, out, err = cli(*common, "--out", run, "--resume")
    assert code == 0, err
    a, b = load_model(tmp_path / "full" / "model.safetensors"), load_model(run / "model.safetensors")
    assert np.array_equal(a.w, b.w) and a.b == b.b, (state.epoch, state.position)


@pytest.mark.timing
def test_sigkill_while_checkpoints_are_written_never_leaves_a_partial_file_under_the_final_name(tmp_path):
    d = 300_000  # 1.2 MB per checkpoint: writing it takes long enough to be hit often
    path, ident, kills, hit = tmp_path / CKPT, Identity({"lr": 0.1}, "f"), 30, 0
    for k in range(kills):
        pid = os.fork()
        if pid == 0:  # child: write checkpoints with step i and w = i until killed
            try:
                for i in range(k * 1000, k * 1000 + 1000):
                    save_checkpoint(path, TrainState(np.full(d, i, np.float32), float(i), step=i), ident)
            finally:
                os._exit(0)
        time.sleep(random.uniform(0.0, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if path.exists():
            state, got = load_checkpoint(path)  # raises on a partial file
            assert got == ident and np.all(state.w == state.step) and state.b == state.step
        hit = len(_leftovers(tmp_path))
    assert path.exists() and hit >= 3, f"only {hit} of {kills} kills landed inside a write"


def _fsize_limit(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_while_checkpointing_is_exit_4_naming_the_path_and_keeps_the_last_checkpoint(cli, data, tmp_path):
    run = tmp_path / "run"
    common = ("train", data, "--target", "y", "--seed", 8, "--quiet", "--out", run, "--checkpoint-every", "1epoch",
              "--lr", 0.03)
    assert cli(*common, "--epochs", 1)[0] == 0
    before = (run / CKPT).read_bytes()
    outputs = {p.name: p.read_bytes() for p in run.iterdir()}
    cmd, env = _linsgd(*common, "--epochs", 3, "--resume")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=_fsize_limit(len(before) - 1))
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"cannot write {run / CKPT}" in proc.stderr, proc.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir()} == outputs  # earlier files intact, no temporaries


def test_run_folder_turning_read_only_is_exit_4_naming_it_and_keeps_earlier_files(data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    cmd, _ = _linsgd("train", data, "--target", "y", "--seed", 8, "--quiet", "--out", run, "--epochs", 3, "--lr", 0.03,
                     "--checkpoint-every", "1steps")
    # root ignores file modes: make the folder really read-only, with a read-only bind mount of itself
    script = (f"mount --bind {run} {run} && LINSGD_TEST_SLOW_CHECKPOINT=0.01 {' '.join(cmd)} 2>{tmp_path}/err & "
              f"while [ ! -f {run}/{CKPT} ]; do sleep 0.005; done; mount -o remount,bind,ro {run}; "
              f"wait $!; echo rc=$?")
    proc = in_private_mounts(script)
    err = (tmp_path / "err").read_text()
    assert "rc=4" in proc.stdout, (proc.stdout, proc.stderr, err)
    assert f"cannot write {run}/" in err or f"cannot write in {run}:" in err, err
    assert "Read-only file system" in err and err.count("\n") == 1, err
    state, _ = load_checkpoint(run / CKPT)  # the last complete checkpoint, intact
    assert state.epoch == 0 and state.position > 0
    _leftovers(run)  # a temporary the read-only folder no longer lets us delete, at most
    assert not (run / "model.safetensors").exists()


def test_disk_really_full_is_exit_4_and_keeps_the_last_checkpoint(cli, data, tmp_path):
    run = tmp_path / "run"
    common = ("train", data, "--target", "y", "--seed", 8, "--quiet", "--out", run, "--checkpoint-every", "1epoch",
              "--lr", 0.03)
    assert cli(*common, "--epochs", 1)[0] == 0
    before = (run / CKPT).read_bytes()
    cmd, _ = _linsgd(*common, "--epochs", 3, "--resume")
    # a 1 MiB tmpfs over the run folder, holding the run's files and a filler that takes the rest
    script = (f"cp -a {run} {tmp_path}/saved && mount -t tmpfs -o size=1m none {run} && cp -a {tmp_path}/saved/. {run}/"
              f" && (dd if=/dev/zero of={run}/filler bs=4k 2>/dev/null; true) && {' '.join(cmd)} 2>{tmp_path}/err;"
              f" echo rc=$?; cp {run}/{CKPT} {tmp_path}/after; ls -a {run}")
    proc = in_private_mounts(script)
    err = (tmp_path / "err").read_text()
    assert "rc=4" in proc.stdout and f"{run / CKPT}" in err and "No space left on device" in err, (proc.stdout, err)
    assert (tmp_path / "after").read_bytes() == before
    assert not [n for n in proc.stdout.split() if n.endswith(".tmp")]
