"""`linsgd demo`: the chapter's printout, its pictures, repeatability, and bad flags."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def linsgd(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "linsgd", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return linsgd("demo", "--seed", "7", "--out", str(out)), out


def test_demo_prints_the_chapters_lines(demo_run):
    proc, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("seed 7")
    assert lines[1].startswith("features[0]: [") and lines[2].startswith("labels[0]: [")
    assert "first minibatch (batch_size=10):" in lines
    assert sum(1 for line in lines if line.startswith("     [")) == 9  # X has 10 rows
    losses = [float(line.split("loss ")[1]) for line in lines if line.startswith("epoch ")]
    assert [line.split(",")[0] for line in lines if line.startswith("epoch ")] == ["epoch 1", "epoch 2", "epoch 3"]
    assert 0.005 < losses[0] < 0.2 and losses[1] < 1e-3 and 4.5e-5 <= losses[2] <= 5.6e-5
    err_w = [float(v) for v in next(x for x in lines if x.startswith("error in estimating w")).split("[")[1]
             .rstrip("]").split()]
    assert len(err_w) == 2 and max(map(abs, err_w)) < 5e-3


def test_demo_writes_three_valid_pngs(demo_run):
    from PIL import Image  # matplotlib's own dependency

    _, out = demo_run
    for name in ("scatter.png", "loss.png", "trajectory.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
        with Image.open(out / name) as im:
            im.verify()
    assert sorted(os.listdir(out)) == ["loss.png", "scatter.png", "trajectory.png"]  # no temporary files left


def test_same_seed_prints_the_same_bytes(demo_run, tmp_path):
    proc, out = demo_run
    again = linsgd("demo", "--seed", "7", "--out", str(out))
    assert again.returncode == 0 and again.stdout == proc.stdout


def test_without_a_seed_one_is_drawn_and_printed(tmp_path):
    proc = linsgd("demo", "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    seed = int(proc.stdout.split()[1])
    again = linsgd("demo", "--epochs", "1", "--seed", str(seed), "--out", str(tmp_path))
    assert again.stdout == proc.stdout


def test_every_hyperparameter_is_a_flag(tmp_path):
    proc = linsgd("demo", "--num-examples", "203", "--true-w", "1,2,3", "--true-b", "-1", "--noise", "0.1",
                  "--lr", "0.05", "--epochs", "2", "--batch-size", "7", "--seed", "1", "--engine", "reference",
                  "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert "first minibatch (batch_size=7):" in proc.stdout
    assert sum(1 for line in proc.stdout.splitlines() if line.startswith("epoch ")) == 2
    assert "features[0]: [" in proc.stdout and len(proc.stdout.split("features[0]: [")[1].split("]")[0].split()) == 3


@pytest.mark.parametrize("flags,name", [
    (["--lr", "0"], "--lr"), (["--lr", "-0.5"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--batch-size", "0"], "--batch-size"), (["--epochs", "-1"], "--epochs"),
    (["--num-examples", "0"], "--num-examples"), (["--true-w", "2,x"], "--true-w"), (["--true-w", ""], "--true-w"),
    (["--noise", "-1"], "--noise"), (["--lr", "abc"], "--lr"), (["--engine", "tpu"], "--engine"),
    (["--true-b", "nan"], "--true-b"),
])
def test_bad_flags_exit_2_name_the_flag_and_write_nothing(tmp_path, flags, name):
    out = tmp_path / "never"
    proc = linsgd("demo", *flags, "--out", str(out))
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and name in err[0] and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_unwritable_out_is_a_bad_flag(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = linsgd("demo", "--out", str(blocker / "sub"))
    assert proc.returncode == 2 and "--out" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_divergence_exits_3_with_one_line(tmp_path):
    proc = linsgd("demo", "--lr", "3", "--seed", "0", "--out", str(tmp_path))
    assert proc.returncode == 3
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "diverged at epoch 1, step" in err[0] and "try --lr=" in err[0]
    assert (tmp_path / "loss.png").exists() and not (tmp_path / "scatter.png").exists()  # the steps before it


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"]])
def test_help_imports_neither_torch_nor_matplotlib(args):
    code = ("import sys, runpy; sys.argv = ['linsgd', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('linsgd', run_name='__main__')\nexcept SystemExit: pass\n"
            "print('HEAVY', sorted(m for m in ('torch', 'matplotlib', 'numba', 'pyarrow', 'numpy') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert "usage:" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_a_reader_that_goes_away_stops_the_demo_quietly(tmp_path):
    """`linsgd demo | head -0`: exit 141 (as killed by SIGPIPE), no traceback, no 'internal error'."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every print fails
    try:
        proc = subprocess.run([sys.executable, "-m", "linsgd", "demo", "--seed", "1", "--out", str(tmp_path)],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""
