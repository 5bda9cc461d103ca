"""Start-up: a small ``linsgd train`` loads no heavy package in its main process, and the numba kernels'
first compilation is announced once, on stderr, by the command line only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from linsgd._jit_cache import MESSAGE

HEAVY = ("pandas", "numba", "scipy.linalg", "matplotlib", "torch", "sklearn")


def _linsgd(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linsgd", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("startup") / "d.csv"
    assert _linsgd("generate", path, "--num-examples", 1000, "--num-features", 5, "--seed", 1).returncode == 0
    return path


def test_a_small_csv_train_imports_no_heavy_package_in_its_main_process(small_csv, tmp_path):
    """numba (NumPy path), pandas (Arrow to NumPy by buffer), scipy.linalg (the exact pass), matplotlib (the
    figures' forked child) and the extras stay out of the process that reads and trains."""
    code = ("import sys; from linsgd.cli import main; "
            f"rc = main(['train', {str(small_csv)!r}, '--target', 'y', '--out', {str(tmp_path / 'run')!r}, "
            "'--quiet', '--plots']); "
            f"print(rc, [m for m in {HEAVY!r} if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stdout
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0 and (tmp_path / "run" / "fit.png").stat().st_size > 0


def test_the_compile_notice_appears_once_when_numba_cache_is_empty_and_never_after(tmp_path):
    """An empty NUMBA_CACHE_DIR: the first run compiles (one line on stderr), the second loads the cache."""
    data = tmp_path / "d.csv"
    assert _linsgd("generate", data, "--num-examples", 5000, "--num-features", 3, "--seed", 1).returncode == 0
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    cmd = [sys.executable, "-m", "linsgd", "train", str(data), "--target", "y", "--epochs", "2", "--out",
           str(tmp_path / "run"), "--quiet"]
    runs = [_on_a_terminal(cmd, env) for _ in range(2)]  # the notice is for a person at a terminal
    assert all(code == 0 for code, _ in runs), runs
    assert runs[0][1].count(MESSAGE) == 1, runs[0][1]
    assert f"linsgd train: {MESSAGE}" in runs[0][1].splitlines()
    assert MESSAGE not in runs[1][1], runs[1][1]
    # written to a file or a pipe (scripts, logs, CI), stderr stays free of it
    piped = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           env={**env, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache-2")})
    assert piped.returncode == 0 and MESSAGE not in piped.stderr, piped.stderr


def _on_a_terminal(cmd: list[str], env: dict) -> tuple[int, str]:
    """Run ``cmd`` with stderr on a pseudo-terminal; its exit code and what it wrote there."""
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + 300
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([leader], [], [], left)[0], "timed out"  # killed below
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        try:  # its stderr is closed: it is ending; killed if it has not within the time left
            proc.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    return proc.returncode, b"".join(chunks).decode().replace("\r\n", "\n")


def test_the_library_itself_prints_no_compile_notice(tmp_path):
    """From Python the notice is an INFO log record: silent unless logging is configured."""
    code = ("import numpy as np, linsgd; X = np.random.default_rng(0).normal(size=(5000, 2)); "
            "linsgd.fit(X, X @ [1.0, 2.0], epochs=2, seed=0)")
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")})
    assert proc.returncode == 0, proc.stderr
    assert MESSAGE not in proc.stderr


def test_a_categorical_csv_with_gaps_and_bad_rows_imports_no_pandas(tmp_path):
    """Categories, empty cells (imputed), a skipped bad row, a validation split and a prediction: the masks
    and level sets pyarrow needs are built from buffers (``pa.array`` of a list or NumPy array imports
    pandas). A CSV with text columns read with ``--on-bad-rows skip`` used to end in an internal error."""
    data = tmp_path / "d.csv"
    rows = [f"{i % 7},{'abc'[i % 3] if i % 11 else ''},{'xyz'[i % 2]},{2 * (i % 7) + (i % 3)}" for i in range(300)]
    (tmp_path / "new.csv").write_text("n,c,d,y\n" + "\n".join(rows[:20]) + "\n")  # predicted on
    rows[5] = "oops,a,x,1"  # a bad row, skipped
    data.write_text("n,c,d,y\n" + "\n".join(rows) + "\n")
    code = ("import sys; from linsgd.cli import main; "
            f"rc = main(['train', {str(data)!r}, '--target', 'y', '--out', {str(tmp_path / 'run')!r}, '--quiet', "
            "'--on-bad-rows', 'skip', '--missing', 'impute', '--val-fraction', '0.2']); "
            f"rc2 = main(['predict', {str(tmp_path / 'run' / 'model.safetensors')!r}, "
            f"{str(tmp_path / 'new.csv')!r}, '--out', {str(tmp_path / 'p.csv')!r}]); "
            "print(rc, rc2, 'pandas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 0 False", proc.stdout
