"""svmlight rows streamed under --max-memory: a streamed epoch is the in-memory epoch over the rows in the
order of the windows (bit for bit), every row once; ``linsgd train`` streams a file over the budget, lands on
least squares, and resumes a streamed run exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

from linsgd.data.formats.svmlight import read_svmlight
from linsgd.data.svmlight_stream import SvmlightStreamed, scan
from linsgd.engines.rule import StepRule
from linsgd.engines.sparse import SparseEngine
from linsgd.model import load_model


def _file(path, n=1200, d=30, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.15, format="csr", random_state=seed)
    X.data = np.round(rng.standard_normal(X.nnz), 6)
    y = np.round(X @ rng.standard_normal(d) + 0.5 + 0.05 * rng.standard_normal(n), 6)
    dump_svmlight_file(X, y, str(path), zero_based=False)
    return X, y


def _order(view, seed, epoch):
    """The rows in the order a streamed epoch visits them: each window's pieces' rows, permuted."""
    starts = np.concatenate([[0], np.cumsum([p.rows for p in view.pieces])])
    index = {p: k for k, p in enumerate(view.pieces)}
    return np.concatenate([np.concatenate([np.arange(starts[index[p]], starts[index[p] + 1]) for p in group])[perm]
                           for group, perm in view.windows(seed, epoch)])


@pytest.mark.parametrize("rule", [StepRule(0.05), StepRule(0.3, "adagrad")])
def test_a_streamed_epoch_equals_the_in_memory_epoch_over_the_windows_order(tmp_path, rule):
    _file(tmp_path / "d.svm")
    X, y = read_svmlight(tmp_path / "d.svm")
    found = scan(tmp_path / "d.svm", dtype="float64", chunk_bytes=2000, budget=0)
    assert found.parts is None and len(found.pieces) > 10 and found.n == 1200
    view = SvmlightStreamed(tmp_path / "d.svm", found, "float64", window_rows=200)
    assert view.nwindows > 2
    for epoch in range(2):
        order = _order(view, 3, epoch)
        assert np.array_equal(np.sort(order), np.arange(1200))  # every row once
        whole = SparseEngine().run_epoch(X, y, np.zeros(X.shape[1]), 0.0, order, rule, 7)
        engine, w, b, t0 = SparseEngine(), np.zeros(X.shape[1]), 0.0, 0
        for Xs, ys, idx, _ in view.epoch_runs((3, epoch), 7):
            assert len(idx) % 7 == 0 or t0 + -(-len(idx) // 7) == -(-1200 // 7)  # whole batches but the last
            out = engine.run_epoch(Xs, ys, w, b, idx, rule, 7, t0=t0)
            w, b, t0 = out.w, out.b, t0 + -(-len(idx) // 7)
        assert np.array_equal(w, whole.w) and b == whole.b


def test_train_streams_a_file_over_the_budget_and_lands_on_least_squares(cli, tmp_path):
    X, y = _file(tmp_path / "d.svm", n=4000, d=20, seed=1)
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run", "--max-memory", "20K",
                         "--chunk-bytes", "4K", "--epochs", 30, "--seed", 0, "--dtype", "float64")
    assert code == 0, err
    assert "solver: sgd" in out and "streamed" in out
    model = load_model(tmp_path / "run" / "model.safetensors")
    A = np.column_stack([X.toarray(), np.ones(len(y))])
    best = np.linalg.lstsq(A, y, rcond=None)[0]
    floor = np.mean((A @ best - y) ** 2)
    assert np.mean((X @ model.w + model.b - y) ** 2) < 1.05 * floor
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 30 and json.loads(lines[-1])["train_loss"] == pytest.approx(
        0.5 * np.mean((X @ model.w + model.b - y) ** 2), rel=1e-9)


def test_a_streamed_run_resumed_from_its_checkpoint_equals_the_uninterrupted_run(cli, tmp_path):
    _file(tmp_path / "d.svm", n=900, d=15, seed=2)
    flags = ("--max-memory", "8K", "--chunk-bytes", "2K", "--seed", 4, "--lr", "0.05", "--dtype", "float64",
             "--checkpoint-every", "11steps", "--average", "false")
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "whole", "--epochs", 3, *flags)
    assert code == 0, err
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 1, *flags)
    assert code == 0, err
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "part", "--epochs", 3, "--resume", *flags)
    assert code == 0, err
    assert "resumed at epoch 2" in out
    whole, part = (load_model(tmp_path / r / "model.safetensors") for r in ("whole", "part"))
    assert np.array_equal(whole.w, part.w) and whole.b == part.b


def test_a_bad_row_in_a_streamed_file_is_named_by_line_and_column(cli, tmp_path):
    X, y = _file(tmp_path / "d.svm", n=600, d=10, seed=3)
    lines = (tmp_path / "d.svm").read_text().splitlines(keepends=True)
    lines[500] = "1.5 2:0.5 4:zz\n"
    (tmp_path / "d.svm").write_text("".join(lines))
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run", "--max-memory", "4K",
                       "--chunk-bytes", "1K")
    assert code == 2 and f"{tmp_path / 'd.svm'}:501: column 11:" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "run").exists()


def test_the_spill_file_goes_in_tmp_dir_and_is_gone_after_the_run(cli, tmp_path):
    _file(tmp_path / "d.svm", n=800, d=12, seed=4)
    (tmp_path / "spill").mkdir()
    found = scan(tmp_path / "d.svm", dtype="float64", chunk_bytes=2000, budget=0, spill_dir=tmp_path / "spill")
    assert found.spill is not None and found.pieces[0].spilled == 0
    found.spill.close()
    code, out, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run", "--max-memory", "4K",
                         "--chunk-bytes", "1K", "--tmp-dir", tmp_path / "spill", "--lr", "0.05")
    assert code == 0 and "streamed" in out, err
    assert list((tmp_path / "spill").iterdir()) == []


def test_a_value_that_overflows_float32_in_a_streamed_file_is_named(cli, tmp_path):
    X, y = _file(tmp_path / "d.svm", n=600, d=10, seed=5)
    lines = (tmp_path / "d.svm").read_text().splitlines(keepends=True)
    lines[300] = "1.5 2:1e39\n"
    (tmp_path / "d.svm").write_text("".join(lines))
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run", "--max-memory", "4K",
                       "--chunk-bytes", "1K", "--lr", "0.05")
    assert code == 2 and "overflows float32" in err and "--dtype float64" in err and "Traceback" not in err
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run64", "--max-memory", "4K",
                       "--chunk-bytes", "1K", "--lr", "1e-90", "--dtype", "float64", "--epochs", 1)
    assert code == 0, err


def test_predict_and_evaluate_read_the_file_a_block_at_a_time(cli, tmp_path):
    import pyarrow.csv as pacsv

    X, y = _file(tmp_path / "d.svm", n=700, d=14, seed=6)
    code, _, err = cli("train", tmp_path / "d.svm", "--out", tmp_path / "run", "--solver", "exact")
    assert code == 0, err
    model = load_model(tmp_path / "run" / "model.safetensors")
    code, _, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "d.svm", "--out",
                       tmp_path / "p.csv", "--chunk-bytes", "1K")
    assert code == 0, err
    got = pacsv.read_csv(tmp_path / "p.csv").column("prediction").to_numpy()
    np.testing.assert_allclose(got, X @ model.w + model.b, rtol=1e-12)
    code, out, err = cli("evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "d.svm", "--json",
                         "--chunk-bytes", "1K")
    assert code == 0, err
    assert json.loads(out)["mse"] == pytest.approx(np.mean((X @ model.w + model.b - y) ** 2), rel=1e-9)
    wide = tmp_path / "wide.svm"
    wide.write_text("1.0 3:1\n" * 50 + "2.0 99:1\n")
    code, _, err = cli("predict", tmp_path / "run" / "model.safetensors", wide, "--out", tmp_path / "q.csv",
                       "--chunk-bytes", "100")
    assert code == 2 and "above the model's 14 features" in err and not (tmp_path / "q.csv").exists()
