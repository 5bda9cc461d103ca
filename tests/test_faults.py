"""Faults really injected in one process: SIGKILL mid-training and mid-checkpoint, disk full, read-only.

(The torchrun faults — a killed rank with and without restarts, a hung rank — are in test_torchrun.py.)
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pytest
from support.children import wait_child
from support.mounts import in_private_mounts

from linsgd.model import load_model
from linsgd.runs.checkpoint import Identity, load_checkpoint, save_checkpoint
from linsgd.sgd.result import TrainState

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


def _run_to_end(cmd, env, timeout=120):
    """Run a command to its end, killed on the test's own timeout; returns (exit code, stderr)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


@pytest.mark.parametrize("k", [2, 150, 404])  # a step of epoch 1, of epoch 1 late, of epoch 3
def test_sigkill_inside_the_kth_checkpoint_write_then_resume_equals_the_uninterrupted_run(cli, data, tmp_path, k):
    common = ("train", data, "--target", "y", "--seed", 8, "--epochs", 3, "--quiet", "--lr", 0.03)
    assert cli(*common, "--out", tmp_path / "full")[0] == 0
    run = tmp_path / "run"
    # killed after the k-th checkpoint's temporary file is complete, before it takes the final name
    cmd, env = _linsgd(*common, "--out", run, "--checkpoint-every", "1steps",
                       env={"LINSGD_TEST_AT": f"checkpoint-written:{k}:kill"})
    code, err = _run_to_end(cmd, env)
    assert code == -signal.SIGKILL, err
    state, _ = load_checkpoint(run / CKPT)  # the (k-1)-th, whole
    assert state.step == k - 1 - (k - 1) // 202, (k, state.step)  # a checkpoint per step, one more per epoch end
    assert len(_leftovers(run)) == 1  # the k-th's temporary, never under the final name
    assert not (run / "model.safetensors").exists()
    code, out, err = cli(*common, "--out", run, "--resume")
    assert code == 0, err
    a, b = load_model(tmp_path / "full" / "model.safetensors"), load_model(run / "model.safetensors")
    assert np.array_equal(a.w, b.w) and a.b == b.b, (state.epoch, state.position)


def test_sigkill_inside_checkpoint_writes_never_leaves_a_partial_file_under_the_final_name(tmp_path):
    path, ident = tmp_path / CKPT, Identity({"lr": 0.1}, "f")
    save_checkpoint(path, TrainState(np.zeros(1000, np.float32), 0.0, step=0), ident)
    last, kills = 0, (1, 2, 5)
    for k in kills:
        pid = os.fork()
        if pid == 0:  # child: write checkpoints with step i and w = i, killed inside its k-th write
            try:
                os.environ["LINSGD_TEST_AT"] = f"checkpoint-written:{k}:kill"
                for i in range(100 * k, 100 * k + 10):
                    save_checkpoint(path, TrainState(np.full(1000, i, np.float32), float(i), step=i), ident)
            finally:
                os._exit(0)
        status = wait_child(pid, 120, f"the child killed inside its write {k}")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        last = 100 * k + k - 2 if k > 1 else last  # the write before the k-th
        state, got = load_checkpoint(path)  # raises on a partial file
        assert got == ident and state.step == last and np.all(state.w == last) and state.b == last
    assert len(_leftovers(tmp_path)) == len(kills)


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
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=_fsize_limit(len(before) - 1),
                          timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"cannot write {run / CKPT}" in proc.stderr, proc.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir()} == outputs  # earlier files intact, no temporaries


def test_run_folder_turning_read_only_is_exit_4_naming_it_and_keeps_earlier_files(data, tmp_path):
    run, handshake = tmp_path / "run", tmp_path / "handshake"
    run.mkdir()
    handshake.mkdir()
    cmd, _ = _linsgd("train", data, "--target", "y", "--seed", 8, "--quiet", "--out", run, "--epochs", 3, "--lr", 0.03,
                     "--checkpoint-every", "1steps")
    # root ignores file modes: make the folder really read-only, with a read-only bind mount of itself, at a
    # known point (the 5th checkpoint is saved and no file is open for writing, so the remount is never busy)
    script = (f"mount --bind {run} {run} && LINSGD_TEST_AT=checkpoint-saved:5:handshake={handshake} "
              f"{' '.join(cmd)} 2>{tmp_path}/err & pid=$!; "
              f"while [ ! -f {handshake}/ready ] && kill -0 $pid 2>/dev/null; do sleep 0.005; done; "
              f"mount -o remount,bind,ro {run} && echo remounted; touch {handshake}/go; wait $pid; echo rc=$?")
    proc = in_private_mounts(script)
    err = (tmp_path / "err").read_text()
    assert "remounted" in proc.stdout and "rc=4" in proc.stdout, (proc.stdout, proc.stderr, err)
    assert f"cannot write in {run}: Read-only file system" in err and err.count("\n") == 1, err
    state, _ = load_checkpoint(run / CKPT)  # the last complete checkpoint, intact
    assert (state.epoch, state.step) == (0, 5)
    assert _leftovers(run) == set()
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
