"""A run folder changes all at once or not at all: a failure halfway through writing it (a full disk) leaves
every file of the earlier run as it was, and nothing half-written or temporary beside them."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest
from support.mounts import in_private_mounts

RUN_FILES = {"model.safetensors", "config.json", "metrics.jsonl", "sample.safetensors", "loss.png", "fit.png",
             "residuals.png", "coef.png"}


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,x2,y\n" + "".join(f"{i % 10 / 10},{(i * 7) % 5 / 10},{i % 3}\n" for i in range(60)))
    return path


def test_a_failure_halfway_through_a_run_folder_keeps_every_earlier_file(cli, data, tmp_path, monkeypatch):
    run = tmp_path / "run"
    common = ("train", data, "--target", "y", "--out", run, "--quiet", "--epochs", 3, "--plots")
    assert cli(*common, "--seed", 0)[0] == 0
    before = _digests(run)
    assert set(before) == RUN_FILES

    def full(*args):  # the disk fills while metrics.jsonl is written: after model and config, before the pictures
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("linsgd.runs.folder.epoch_line", full)
    code, _, err = cli(*common, "--seed", 1)
    assert code == 4 and err == f"linsgd train: error: cannot write {run / 'metrics.jsonl'}: No space left on device\n"
    assert _digests(run) == before  # no new model beside old pictures; no staging folder, no temporary


def test_a_second_run_into_a_folder_replaces_every_file_and_leaves_nothing_else(cli, data, tmp_path):
    run = tmp_path / "run"
    common = ("train", data, "--target", "y", "--out", run, "--quiet", "--epochs", 3, "--plots")
    assert cli(*common, "--seed", 0)[0] == 0
    before = _digests(run)
    assert cli(*common, "--seed", 1, "--val-fraction", 0.2)[0] == 0
    after = _digests(run)
    assert set(after) == RUN_FILES
    changed = {n for n in RUN_FILES if after[n] != before[n]}
    assert changed >= {"model.safetensors", "config.json", "metrics.jsonl", "loss.png"}, changed


def test_a_really_full_disk_while_replacing_a_run_folder_keeps_the_earlier_run(data, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    train = [sys.executable, "-m", "linsgd", "train", str(data), "--target", "y", "--out", str(disk / "run"),
             "--quiet", "--epochs", "3", "--plots"]
    # a 1 MiB tmpfs: the first run fits; then a filler leaves 24 KiB, room for the model, config and metrics of the
    # second run but not for its pictures
    script = (f"mount -t tmpfs -o size=1m none {disk} && {' '.join(train)} --seed 0 && "
              f"cp -a {disk}/run {tmp_path}/first && avail=$(df -k --output=avail {disk} | tail -1) && "
              f"(dd if=/dev/zero of={disk}/filler bs=1k count=$((avail - 24)) 2>/dev/null; true) && "
              f"{' '.join(train)} --seed 1 2>{tmp_path}/err; echo rc=$?; cp -a {disk}/run {tmp_path}/after")
    proc = in_private_mounts(script)
    err = (tmp_path / "err").read_text()
    assert "rc=4" in proc.stdout, (proc.stdout, proc.stderr, err)
    assert "No space left on device" in err and err.count("\n") == 1 and f"{disk / 'run'}" in err, err
    assert ".linsgd-new-" not in err
    assert _digests(tmp_path / "after") == _digests(tmp_path / "first")
    assert set(os.listdir(tmp_path / "after")) == RUN_FILES
