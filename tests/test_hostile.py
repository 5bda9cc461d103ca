"""Hostile input and faults: each case ends as the README's exit-code table promises.

0 ok, 1 internal bug, 2 bad input or flag (one line naming file:line and column, or the flag), 3 divergence,
4 I/O failure, 130/143 Ctrl-C/SIGTERM; never a traceback, nothing half-written, nothing of the user's
overwritten, no temporary file left behind. Most cases run the CLI in-process (the ``cli`` fixture); the
signal and full-disk cases need a real process (and, for a really full or read-only disk, a private mount).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from safetensors.numpy import save_file
from support.mounts import in_private_mounts

from linsgd.errors import DataError
from linsgd.model import LinearModel, load_model, save_model


def _csv(path, header: str, rows: list[str]):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def _numbers(n: int, start: int = 0) -> list[str]:
    return [f"{i % 10 / 10},{(i * 7) % 5 / 10},{i % 3}" for i in range(start, start + n)]


def _one_error_line(err: str, code: int, expected: int = 2) -> str:
    assert code == expected, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _run(cli, *args):
    """``cli`` that also turns argparse's SystemExit (a bad flag value) into its exit code."""
    try:
        return cli(*args)
    except SystemExit as e:
        return e.code, "", ""


# ---------------------------------------------------------------- silent wrong data


@pytest.mark.parametrize("cell, shown", [("abc", "abc"), ('"1,5"', "1,5"), ('"1\n5"', "1\\n5")])
def test_a_text_cell_in_the_first_block_is_a_bad_value_at_its_line(cli, tmp_path, cell, shown):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", [*_numbers(3), f"{cell},1,2", *_numbers(50, 3)])
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--quiet")
    assert _one_error_line(err, code) == f"linsgd train: error: {path}:5: column 'x1': not a number (value='{shown}')\n"
    assert not (tmp_path / "r").exists()


def test_a_text_column_is_named_never_dropped_and_features_leave_it_out(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "city,x2,y", [f"c{i % 7},{i % 5},{i % 3}" for i in range(60)])
    code, out, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--quiet", "--seed", 0)
    assert code == 0 and "city  categorical: 7 levels, reference 'c0'" in out, out + err  # listed, encoded
    code, _, err = cli("train", path, "--target", "y", "--features", "x2", "--out", tmp_path / "r2", "--quiet",
                       "--seed", 0)
    assert code == 0, err
    assert load_model(tmp_path / "r2" / "model.safetensors").feature_names == ["x2"]


def test_a_pandas_index_is_never_a_default_feature_and_is_named_in_the_roles(cli, tmp_path):
    import pandas as pd

    df = pd.DataFrame({"x1": np.linspace(0, 1, 50), "y": np.linspace(0, 2, 50)}, index=np.arange(100, 150))
    for name, path in ((None, tmp_path / "a.parquet"), ("rowid", tmp_path / "b.parquet")):
        df.index.name = name
        df.to_parquet(path)
        code, out, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--seed", 0)
        assert code == 0, err
        assert load_model(tmp_path / "r" / "model.safetensors").feature_names == ["x1"]
        index = name or "__index_level_0__"
        assert any(line.split() == [index, "excluded", "(pandas", "index)"] for line in out.splitlines()), out


def test_a_duplicate_feature_is_refused_naming_it(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(20))
    code, _, err = cli("train", path, "--target", "y", "--features", "x1,x1", "--out", tmp_path / "r")
    assert "--features=x1,x1" in _one_error_line(err, code) and "'x1' listed more than once" in err


@pytest.mark.parametrize("flags, flag", [(("--noise", "1e308"), "--noise"), (("--true-w", "1e308"), "--true-w"),
                                         (("--true-b", "nan"), "--true-b"), (("--num-features", "0"), "--num-features"),
                                         (("--true-w", "1e37,1e37"), "--true-w")])
def test_generate_refuses_values_whose_targets_are_not_finite(cli, tmp_path, flags, flag):
    code, _, err = cli("generate", tmp_path / "g.csv", *flags)
    assert f"error: {flag}=" in _one_error_line(err, code)
    assert os.listdir(tmp_path) == []


def test_an_empty_header_name_is_named_by_position(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "x1,,y", _numbers(5))
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    assert f"{path}:1: column 2 has an empty name" in _one_error_line(err, code)


# ---------------------------------------------------------------- corrupt model files


def _model_file(tmp_path, tensors=None, **meta):
    path = tmp_path / "m.safetensors"
    save_model(LinearModel(w=np.array([1.0, 2.0]), b=0.5, feature_names=["x1", "x2"]), path)
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        good_meta, good = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    save_file({**good, **(tensors or {})}, path, metadata={**good_meta, **meta})
    return path


CORRUPT_MODELS = {
    "nan weights": dict(tensors={"w": np.array([np.nan, 1.0])}),
    "b of shape (3,)": dict(tensors={"b": np.zeros(3)}),
    "w of the wrong length": dict(tensors={"w": np.zeros(3)}),
    "w as int64": dict(tensors={"w": np.array([1, 2])}),
    "mean without scale": dict(tensors={"mean": np.zeros(2)}),
    "duplicate feature names": dict(feature_names='["x1", "x1"]'),
    "dtype complex256": dict(dtype="complex256"),
    "format_version abc": dict(format_version="abc"),
    "feature_names 5": dict(feature_names="5"),
    "feature_names not JSON": dict(feature_names="[x1"),
    "target a list": dict(target='["y"]'),
    "config a list": dict(config="[]"),
}


@pytest.mark.parametrize("kind", list(CORRUPT_MODELS))
def test_a_corrupt_model_file_is_refused_as_a_whole(cli, tmp_path, kind):
    path = _model_file(tmp_path, **CORRUPT_MODELS[kind])
    with pytest.raises(DataError, match=f"^{path}: not a valid linsgd model: "):
        load_model(path)
    data = _csv(tmp_path / "d.csv", "x1,x2", ["1,2"])
    code, out, err = cli("predict", path, data, "--out", tmp_path / "p.csv")
    assert "not a valid linsgd model" in _one_error_line(err, code) and not (tmp_path / "p.csv").exists()


# ---------------------------------------------------------------- exit codes


def test_a_signal_inside_compiled_code_is_an_interruption_not_a_bug(cli, tmp_path, monkeypatch):
    # numba's dispatcher reports a Ctrl-C that lands inside a kernel as this SystemError
    def interrupted(*args, **kw):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher(<function sgd_epoch_narrow>) returned a result with an "
                              "exception set") from e

    monkeypatch.setattr("linsgd.runs.run.fit_data", interrupted)
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(20))
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--quiet")
    assert (code, err) == (130, "linsgd train: interrupted\n")


def _linsgd(*args):
    return [sys.executable, "-m", "linsgd", *map(str, args)]


def _until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@contextlib.contextmanager
def _process(cmd, **kw):
    """A running ``linsgd`` process, killed when the test leaves the block without having ended it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "d.parquet"
    from linsgd.cli import main

    assert main(["generate", str(path), "--num-examples", "300000", "--num-features", "4", "--seed", "1"]) == 0
    return path


SIGNALS = [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted"), (signal.SIGKILL, -9, None)]


@pytest.mark.parametrize("sig, expected, said", SIGNALS)
def test_a_signal_during_streamed_training_exits_as_documented_and_leaves_no_spill_file(big_parquet, tmp_path,
                                                                                        sig, expected, said):
    spill, run = tmp_path / "spill", tmp_path / "run"
    spill.mkdir()
    with _process(_linsgd("train", big_parquet, "--target", "y", "--epochs", 100000, "--batch-size", 1,
                          "--max-memory", "1M", "--tmp-dir", spill, "--out", run, "--seed", 1, "--quiet",
                          "--checkpoint-every", "1000steps")) as proc:
        _until(lambda: (run / "checkpoint.safetensors").exists() or proc.poll() is not None)  # into the epochs
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=180)  # cleanly, or after the CLI's grace period (a loaded machine)
    assert proc.returncode == expected, err
    if said is not None:
        assert err == f"linsgd train: {said}\n"
        assert os.listdir(run) == ["checkpoint.safetensors"]  # the last checkpoint, for --resume; no temporary
    assert os.listdir(spill) == []


@pytest.mark.parametrize("sig, expected, said", SIGNALS[:2])
def test_a_signal_during_a_compilation_is_held_until_numba_leaves_its_compiler(tmp_path, sig, expected, said):
    # numba compiles into an empty cache; the signal is sent at a known point, when the first compilation starts.
    # Raised there (inside llvmlite's callbacks, at worst) it would break the compilation: it is held until
    # numba leaves its compiler, so the kernel is compiled and cached, and the run then ends as documented.
    data = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(5000))  # above the small-data threshold: numba
    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "LINSGD_TEST_AT": f"compile:1:{'term' if sig == signal.SIGTERM else 'int'}"}
    train = ("train", data, "--target", "y", "--solver", "sgd", "--out", tmp_path / "run", "--quiet", "--seed", 0)
    with _process(_linsgd(*train), env=env) as proc:
        _, err = proc.communicate(timeout=300)
    assert (proc.returncode, err) == (expected, f"linsgd train: {said}\n")
    assert not (tmp_path / "run").exists()
    compiled = [p.name for p in cache.rglob("*.nbc")]
    assert len(compiled) == 1, compiled  # the compilation that the signal arrived in finished; no other began


def test_sigterm_during_generate_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "g.csv"
    with _process(_linsgd("generate", out, "--num-examples", 50_000_000)) as proc:
        _until(lambda: any(n.endswith(".tmp") for n in os.listdir(tmp_path)) or proc.poll() is not None)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (143, "linsgd generate: terminated\n")
    assert os.listdir(tmp_path) == []


def test_an_unreadable_input_is_an_io_error_naming_the_file(cli, tmp_path, monkeypatch):
    import pyarrow.csv as pcsv

    csv = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(5))
    par = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x1": [1.0, 2.0], "y": [1.0, 2.0]}), par)
    npy = tmp_path / "d.npy"
    np.save(npy, np.ones((3, 2)))

    def denied(path, *args, **kw):  # what the OS says to a user without read permission (root reads anyway)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(pcsv, "open_csv", denied)
    monkeypatch.setattr(pq, "ParquetFile", denied)
    monkeypatch.setattr(np, "load", denied)
    for path, target in ((csv, "y"), (par, "y"), (npy, "1")):
        code, _, err = cli("train", path, "--target", target, "--out", tmp_path / "r")
        assert _one_error_line(err, code, 4) == f"linsgd train: error: {path}: cannot read (Permission denied)\n"


def test_a_failed_final_model_write_is_exit_4(cli, tmp_path, monkeypatch):
    import safetensors.numpy
    from safetensors import SafetensorError

    def full(*args, **kw):
        raise SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull, "
                              "message: \"No space left on device\" })")

    monkeypatch.setattr(safetensors.numpy, "save_file", full)
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(30))
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--quiet", "--seed", 0)
    assert f"cannot write {tmp_path / 'r' / 'model.safetensors'}" in _one_error_line(err, code, 4)
    assert "No space left on device" in err
    assert not (tmp_path / "r").exists()  # created for the run, nothing in it: removed


@pytest.mark.parametrize("flags, flag", [(("--max-memory=inf",), "--max-memory"),
                                         (("--max-memory=1e30",), "--max-memory"),
                                         (("--max-memory=-1",), "--max-memory"),
                                         (("--chunk-bytes=1e23",), "--chunk-bytes"),
                                         (("--chunk-bytes=nan",), "--chunk-bytes"),
                                         (("--dist-timeout", "inf"), "--dist-timeout"),
                                         (("--dist-timeout", "nan"), "--dist-timeout")])
def test_out_of_range_sizes_and_timeouts_are_bad_flags(cli, capsys, tmp_path, flags, flag):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(20))
    code, _, err = _run(cli, "train", path, "--target", "y", "--out", tmp_path / "r", *flags)
    err = err or capsys.readouterr().err
    assert flag in _one_error_line(err, code) and not (tmp_path / "r").exists()


def test_numpy_overflow_notices_stay_off_the_one_line_error(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(20))
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--lr", "1e308", "--seed", 0)
    assert "training diverged" in _one_error_line(err, code, 3)


def test_chunk_bytes_takes_sizes_like_max_memory(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(20))
    code, _, err = cli("train", path, "--target", "y", "--chunk-bytes", "64M", "--out", tmp_path / "r",
                       "--quiet", "--seed", 0)
    assert code == 0, err


def test_a_read_only_out_is_exit_2_for_train_predict_and_generate(cli, tmp_path):
    data = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(30))
    assert cli("train", data, "--target", "y", "--out", tmp_path / "m", "--quiet", "--seed", 0)[0] == 0
    ro = tmp_path / "ro"
    ro.mkdir()
    runs = {"train": _linsgd("train", data, "--target", "y", "--out", ro / "run"),
            "predict": _linsgd("predict", tmp_path / "m" / "model.safetensors", data, "--out", ro / "p.csv"),
            "generate": _linsgd("generate", ro / "g.csv")}
    script = f"mount --bind {ro} {ro} && mount -o remount,bind,ro {ro} && " + "; ".join(
        f"{' '.join(map(str, cmd))} 2>>{tmp_path}/err.{name}; echo {name}=$?" for name, cmd in runs.items())
    proc = in_private_mounts(script)
    for name in runs:
        err = (tmp_path / f"err.{name}").read_text()
        assert f"{name}=2" in proc.stdout, (proc.stdout, proc.stderr, err)
        assert "--out=" in err and "not writable" in err or "a writable folder" in err, err
        assert err.count("\n") == 1, err
    assert os.listdir(ro) == []


def test_a_full_disk_is_exit_4_with_the_os_reason_while_spilling_and_at_the_final_model(cli, tmp_path):
    data = tmp_path / "d.parquet"
    assert cli("generate", data, "--num-examples", 20000, "--seed", 1)[0] == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    spill = _linsgd("train", data, "--target", "y", "--max-memory", "64K", "--tmp-dir", disk, "--out",
                    tmp_path / "r1", "--quiet", "--seed", 0)
    final = _linsgd("train", data, "--target", "y", "--out", disk / "run", "--quiet", "--seed", 0)
    # a 64 KiB tmpfs: 20000 rows of 3 float32 need 240 KB to spill; a model file needs a few hundred bytes,
    # so a filler takes the space first (mkdir of the run folder still fits)
    script = (f"mount -t tmpfs -o size=64k none {disk} && {' '.join(map(str, spill))} 2>{tmp_path}/err.spill;"
              f" echo spill=$?; mkdir {disk}/run && (dd if=/dev/zero of={disk}/filler bs=1k 2>/dev/null; true) &&"
              f" {' '.join(map(str, final))} 2>{tmp_path}/err.final; echo final=$?; ls -a {disk} {disk}/run")
    proc = in_private_mounts(script)
    for name in ("spill", "final"):
        err = (tmp_path / f"err.{name}").read_text()
        assert f"{name}=4" in proc.stdout, (proc.stdout, proc.stderr, err)
        assert "No space left on device" in err and err.count("\n") == 1 and "(None)" not in err, err
    assert "model.safetensors" not in proc.stdout and ".tmp" not in proc.stdout, proc.stdout


# ---------------------------------------------------------------- lost or clobbered data


def test_predict_never_writes_over_its_own_input(cli, tmp_path):
    data = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(30))
    before = data.read_bytes()
    assert cli("train", data, "--target", "y", "--out", tmp_path / "r", "--quiet", "--seed", 0)[0] == 0
    model = tmp_path / "r" / "model.safetensors"
    os.symlink(data, tmp_path / "link.csv")
    for out in (data, tmp_path / "link.csv", tmp_path / "." / "d.csv"):
        code, _, err = cli("predict", model, data, "--out", out)
        assert "--out=" in _one_error_line(err, code) and "overwritten" in err
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"x1": [1.0, 2.0], "x2": [3.0, 4.0]}), parts / "a.parquet")
    code, _, err = cli("predict", model, parts, "--out", parts / "a.parquet")
    assert "overwritten" in _one_error_line(err, code)
    assert data.read_bytes() == before and pq.read_table(parts / "a.parquet").num_rows == 2


def test_a_second_train_into_the_same_folder_is_refused_naming_the_other_pid(cli, tmp_path):
    data = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(30))
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], "
                               "os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); "
                               "time.sleep(60)", str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert select.select([holder.stdout], [], [], 60)[0], "the lock holder did not start"  # killed below
        assert holder.stdout.readline() == "locked\n"
        code, _, err = cli("train", data, "--target", "y", "--out", run, "--quiet", "--seed", 0)
        assert f"--out={run}" in _one_error_line(err, code) and f"process {holder.pid}" in err
        assert os.listdir(run) == []
    finally:
        holder.kill()
        holder.wait()
    assert cli("train", data, "--target", "y", "--out", run, "--quiet", "--seed", 0)[0] == 0
    fd = os.open(run, os.O_RDONLY)  # released at the end of the run
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- messages


def test_a_row_longer_than_a_chunk_names_the_flag_to_raise(cli, tmp_path):
    path = _csv(tmp_path / "d.csv", "x1,x2,y", [*_numbers(10), '"' + "1" * 300_000 + '",1,2', *_numbers(10)])
    code, _, err = cli("train", path, "--target", "y", "--chunk-bytes", "64K", "--out", tmp_path / "r")
    assert "--chunk-bytes" in _one_error_line(err, code) and "raise it" in err
    code, _, err = cli("train", path, "--target", "y", "--chunk-bytes", "1M", "--out", tmp_path / "r")
    assert f"{path}:12: column 'x1': infinite value" in _one_error_line(err, code)


def test_an_integer_above_2_53_is_said_to_be_one(cli, tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x1": pa.array([1, 2, 2**53 + 1], pa.int64()), "y": [1.0, 2.0, 3.0]}), path)
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    assert f"{path}:3: column 'x1': integer too large to be exact as a float" in _one_error_line(err, code)
    assert "truncated or corrupt" not in err


def test_a_fifo_a_symlink_loop_and_a_broken_link_are_said_to_be_what_they_are(cli, tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    os.symlink(tmp_path / "loop.csv", tmp_path / "loop.csv")
    os.symlink(tmp_path / "gone.csv", tmp_path / "broken.csv")
    for name, said in (("fifo.csv", "is a FIFO"), ("loop.csv", "symbolic link loop"),
                       ("broken.csv", "broken symbolic link")):
        code, _, err = cli("train", tmp_path / name, "--target", "y", "--out", tmp_path / "r")
        assert f"{tmp_path / name}: {said}" in _one_error_line(err, code)


def test_evaluate_json_is_valid_json_with_null_for_an_undefined_metric(cli, tmp_path):
    data = _csv(tmp_path / "d.csv", "x1,x2,y", _numbers(30))
    assert cli("train", data, "--target", "y", "--out", tmp_path / "r", "--quiet", "--seed", 0)[0] == 0
    const = _csv(tmp_path / "c.csv", "x1,x2,y", [f"{i},{i % 3},5" for i in range(10)])  # r2 of a constant target
    code, out, err = cli("evaluate", tmp_path / "r" / "model.safetensors", const, "--json")
    assert code == 0, err
    result = json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert result["r2"] is None and result["n"] == 10


def test_decimal_parquet_columns_are_read_as_float_with_a_note(cli, tmp_path):
    from decimal import Decimal

    path = tmp_path / "d.parquet"
    x = [Decimal(f"0.{i:02d}") for i in range(40)]
    pq.write_table(pa.table({"x1": pa.array(x, pa.decimal128(10, 2)), "y": [2.0 * float(v) for v in x]}), path)
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--quiet", "--seed", 0)
    assert code == 0 and "note:" in err and "decimal column x1 read as float64" in err, err
    assert load_model(tmp_path / "r" / "model.safetensors").feature_names == ["x1"]


# ---------------------------------------------------------------- the Python API


def _api_inputs():
    import pandas as pd

    X = np.random.default_rng(0).standard_normal((40, 2))
    y = X @ [2.0, -3.4] + 4.2
    na = pd.DataFrame(X).astype("Float64")
    na.iloc[3, 1] = pd.NA
    return {"complex X": (X + 1j, y, "complex"), "complex y": (X, y + 0j, "complex"),
            "pandas NA": (na, y, r"X: column '1' has 1 missing values \(the first in row 3\)"),
            "object NA": (pd.DataFrame(X).astype(object).where(pd.DataFrame(X) < 10, pd.NA).mask(
                pd.DataFrame(X).index.to_series().eq(5).to_frame().reindex(columns=[0, 1], fill_value=True),
                pd.NA), y, r"X: column '0' has 1 missing values \(the first in row 5\)"),
            "text": (np.full((40, 2), "a"), y, "not numbers")}


@pytest.mark.parametrize("kind", ["complex X", "complex y", "pandas NA", "object NA", "text"])
def test_fit_refuses_what_is_not_a_real_dense_array(kind):
    import warnings

    import linsgd

    X, y, said = _api_inputs()[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning is not an answer
        with pytest.raises(DataError, match=said):
            linsgd.fit(X, y, seed=0)
