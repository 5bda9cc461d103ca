"""svmlight/libsvm files: read in blocks of whole lines as scikit-learn's writer wrote them (any block size),
bad rows named by file, line and column, and ``linsgd train/evaluate/predict`` on them against numpy's least
squares."""

from __future__ import annotations

import numpy as np
import pyarrow.csv as pacsv
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from linsgd.data.formats.svmlight import blocks, is_svmlight, read_svmlight
from linsgd.errors import DataError
from linsgd.model import load_model


def _data(n=400, d=30, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, format="csr", random_state=seed)
    X.data = np.round(rng.standard_normal(X.nnz), 6)
    w = rng.standard_normal(d)
    y = np.round(X @ w + 0.5 + 0.05 * rng.standard_normal(n), 6)
    return X, y


def _write(path, X, y, comments=True):
    dump_svmlight_file(X, y, str(path), zero_based=False, comment="written for a test" if comments else None)
    if comments:  # a blank line and a comment in the middle hold no row
        lines = path.read_text().splitlines(keepends=True)
        lines.insert(len(lines) // 2, "\n")
        lines.insert(len(lines) // 2, "# a note\n")
        path.write_text("".join(lines))


@pytest.mark.parametrize("chunk_bytes", [37, 1000, 4 << 20])
def test_the_file_reads_back_as_written_whatever_the_block_size(tmp_path, chunk_bytes):
    X, y = _data()
    path = tmp_path / "d.svm"
    _write(path, X, y)
    got, gy = read_svmlight(path, chunk_bytes=chunk_bytes)
    assert got.shape == X.shape and got.format == "csr"
    np.testing.assert_array_equal(got.toarray(), X.toarray())
    np.testing.assert_array_equal(gy, y)
    assert sum(b.count(b"\n") for _, b in blocks(path, chunk_bytes)) == len(path.read_bytes().splitlines())


def test_blocks_cut_after_newlines_and_count_lines(tmp_path):
    path = tmp_path / "d.svm"
    path.write_bytes(b"1 1:1\n2 2:2\n3 3:3")  # no newline at the end
    parts = list(blocks(path, 7))
    assert [first for first, _ in parts] == [1, 2, 3]
    assert b"".join(b for _, b in parts) == path.read_bytes()


@pytest.mark.parametrize(("cell", "column", "value"), [
    ("7 0:1.5", 3, "0:1.5"),        # libsvm indices start at 1
    ("7 2:abc", 3, "2:abc"),        # not a number
    ("7 1:1 4:nan", 7, "4:nan"),    # parses, but not finite
    ("seven 1:1", 1, "seven"),      # the target
    ("inf 1:1", 1, "inf"),
])
@pytest.mark.parametrize("chunk_bytes", [16, 4 << 20])
def test_a_bad_row_is_named_by_file_line_and_column(tmp_path, cell, column, value, chunk_bytes):
    lines = [f"{k} {k % 5 + 1}:{k}" for k in range(60)]
    lines[41] = cell
    path = tmp_path / "bad.libsvm"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        read_svmlight(path, chunk_bytes=chunk_bytes)
    assert str(e.value).startswith(f"{path}:42: column {column}: ")
    assert str(e.value).endswith(f"(value='{value}')")


def test_width_follows_the_model_and_a_wider_file_is_refused(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("1 2:1\n2 5:1\n")
    X, _ = read_svmlight(path, n_features=8)
    assert X.shape == (2, 8) and X[1, 4] == 1.0
    with pytest.raises(DataError, match="index 5 above the model's 4 features"):
        read_svmlight(path, n_features=4)
    path.write_text("# only a comment\n\n")
    with pytest.raises(DataError, match="no rows"):
        read_svmlight(path)


def test_the_format_comes_from_the_suffix_or_the_flag():
    assert is_svmlight("a.svm") and is_svmlight("b.LIBSVM") and is_svmlight("c.svmlight")
    assert not is_svmlight("d.csv") and is_svmlight("d.txt", "svmlight")


@pytest.mark.parametrize("solver", ["exact", "sgd"])
def test_train_evaluate_predict_on_svmlight_land_on_least_squares(cli, tmp_path, solver):
    X, y = _data(n=3000, d=20, seed=2)
    _write(tmp_path / "train.svm", X, y)
    dump_svmlight_file(X[:500], y[:500], str(tmp_path / "test.txt"), zero_based=False)
    code, out, err = cli("train", tmp_path / "train.svm", "--out", tmp_path / "run", "--solver", solver, "--seed", 0)
    assert code == 0, err
    assert "20 feature columns" in out and f"solver: {solver}" in out
    model = load_model(tmp_path / "run" / "model.safetensors")
    best = np.linalg.lstsq(np.column_stack([X.toarray(), np.ones(X.shape[0])]), y, rcond=None)[0]
    tol = 1e-8 if solver == "exact" else 5e-3
    np.testing.assert_allclose(model.w, best[:-1], atol=tol)
    assert model.feature_names[0] == "1" and model.target == "y"
    code, out, err = cli("evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "test.txt",
                         "--format", "svmlight", "--json")
    assert code == 0, err
    expect = X[:500] @ model.w + model.b
    assert '"n": 500' in out and f'"mse": {float(np.mean((expect - y[:500]) ** 2))!r}'[:14] in out
    code, out, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "test.txt",
                         "--format", "svmlight", "--out", tmp_path / "p.csv")
    assert code == 0, err
    got = pacsv.read_csv(tmp_path / "p.csv").column("prediction").to_numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, tmp_path):
    path = tmp_path / "bad.svm"
    path.write_text("1 1:2\n2 3:x\n")
    code, out, err = cli("train", path, "--out", tmp_path / "run")
    assert code == 2 and err.strip().count("\n") == 0 and f"{path}:2: column 3:" in err
    assert "Traceback" not in err and not (tmp_path / "run").exists()
    path.write_text("".join(f"{k} {k % 9 + 1}:1\n" for k in range(300)))  # 300 rows: ~3.6 KB as CSR
    for flags in (("--weight", "w"), ("--target", "y"), ("--on-bad-rows", "skip"), ("--hash-bits", 4)):
        code, _, err = cli("train", path, "--out", tmp_path / "run", *flags)
        assert code == 2 and flags[0] in err and not (tmp_path / "run").exists()
    code, _, err = cli("train", path, "--out", tmp_path / "run", "--max-memory", "1K", "--solver", "exact")
    assert code == 2 and "--max-memory" in err and not (tmp_path / "run").exists()


def test_predict_and_evaluate_refuse_the_flags_an_svmlight_file_has_no_use_for(cli, tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("".join(f"{k % 7} {k % 5 + 1}:1 6:{k % 3}\n" for k in range(60)))
    assert cli("train", path, "--out", tmp_path / "run")[0] == 0
    model = tmp_path / "run" / "model.safetensors"
    code, out, _ = cli("evaluate", model, path)
    assert code == 0 and "mse" in out  # without such flags both run
    for flags in (("--target", "y"), ("--weight", "w"), ("--on-bad-rows", "skip")):
        code, _, err = cli("evaluate", model, path, *flags)
        assert code == 2 and flags[0] in err and err.count("\n") == 1, err
    code, _, err = cli("predict", model, path, "--id", "k", "--out", tmp_path / "p.csv")
    assert code == 2 and "--id" in err and not (tmp_path / "p.csv").exists()
    assert cli("predict", model, path, "--out", tmp_path / "p.csv")[0] == 0 and (tmp_path / "p.csv").exists()


def test_an_svmlight_run_folder_holds_the_config_and_one_metrics_line_per_epoch(cli, tmp_path):
    import json

    X, y = _data(n=1000, d=12, seed=4)
    _write(tmp_path / "train.svm", X, y)
    code, _, err = cli("train", tmp_path / "train.svm", "--out", tmp_path / "run", "--solver", "sgd", "--epochs", 3,
                       "--schedule", "adagrad", "--penalty", "none", "--dtype", "float64", "--seed", 1)
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["format"] == "svmlight" and config["schedule"] == "adagrad" and config["features"] == 12
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    model = load_model(tmp_path / "run" / "model.safetensors")
    last = 0.5 * np.mean((X @ model.w + model.b - y) ** 2)
    assert lines[-1]["train_loss"] == pytest.approx(last, rel=1e-9)
    assert lines[0]["train_loss"] > lines[-1]["train_loss"]
    code, _, err = cli("train", tmp_path / "train.svm", "--out", tmp_path / "exact", "--solver", "exact")
    assert code == 0, err
    (line,) = [json.loads(line) for line in (tmp_path / "exact" / "metrics.jsonl").read_text().splitlines()]
    exact = load_model(tmp_path / "exact" / "model.safetensors")  # one line, as a table run's: the optimum's loss
    assert line["train_loss"] == pytest.approx(0.5 * np.mean((X @ exact.w + exact.b - y) ** 2), rel=1e-9)
    assert line["train_loss"] < lines[-1]["train_loss"]
