"""A run folder's pictures on request: ``linsgd train`` writes what they are drawn from and says how to draw
them; ``linsgd plot RUN`` draws from the folder alone exactly what ``train --plots`` draws."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pv
import pytest

from linsgd.model import load_model

PICTURES = ["coef.png", "fit.png", "loss.png", "residuals.png"]


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.csv"
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 2))
    y = X @ [1.5, -0.5] + 2.0 + rng.normal(0, 0.3, 300)
    path.write_text("a,b,y\n" + "".join(f"{r[0]:.17g},{r[1]:.17g},{t:.17g}\n" for r, t in zip(X, y, strict=True)))
    return path


def _pngs(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def test_plot_draws_from_the_folder_the_same_bytes_train_plots_draws(cli, data, tmp_path):
    flags = ("--target", "y", "--seed", 5, "--solver", "sgd", "--epochs", 20, "--val-fraction", 0.25,
             "--early-stopping", "--patience", 2, "--quiet")
    code, out, err = cli("train", data, *flags, "--out", tmp_path / "drawn", "--plots")
    assert code == 0, err
    assert "pictures not drawn" not in out and "loss.png, fit.png, residuals.png, coef.png" in out
    code, out, err = cli("train", data, *flags, "--out", tmp_path / "later")
    assert code == 0, err
    assert _pngs(tmp_path / "later") == {}
    assert f"pictures not drawn (--plots draws them): linsgd plot {tmp_path / 'later'} draws" in out
    code, out, err = cli("plot", tmp_path / "later")
    assert code == 0 and err == "", err
    order = ("loss.png", "fit.png", "residuals.png", "coef.png")
    assert out == f"wrote {', '.join(str(tmp_path / 'later' / n) for n in order)}\n"
    drawn, later = _pngs(tmp_path / "drawn"), _pngs(tmp_path / "later")
    assert sorted(drawn) == PICTURES and drawn == later  # no software stamp: the same picture, the same bytes


def test_the_sample_is_the_first_rows_actual_and_predicted_by_the_model(cli, data, tmp_path):
    from safetensors.numpy import load_file

    assert cli("train", data, "--target", "y", "--seed", 0, "--out", tmp_path / "run", "--quiet")[0] == 0
    sample = load_file(tmp_path / "run" / "sample.safetensors")
    table = pv.read_csv(data)
    X = np.column_stack([table["a"].to_numpy(), table["b"].to_numpy()])
    y = table["y"].to_numpy()
    model = load_model(tmp_path / "run" / "model.safetensors")
    np.testing.assert_array_equal(sample["actual"], y)  # 300 rows < 2,000: all of them, in file order
    np.testing.assert_allclose(sample["predicted"], X @ model.w + model.b, rtol=1e-12)


@pytest.mark.parametrize("solver", ["auto", "sgd"])
def test_plot_labels_an_exact_run_and_marks_the_kept_epoch(cli, data, tmp_path, monkeypatch, solver):
    from linsgd import plots
    from linsgd.runs.pictures import draw_folder

    drawn = {}
    monkeypatch.setattr(plots, "loss_curve", lambda series, path, **kw: drawn.update(kw, series=series))
    extra = ("--epochs", 30, "--val-fraction", 0.25, "--early-stopping", "--patience", 2) if solver == "sgd" else ()
    assert cli("train", data, "--target", "y", "--seed", 1, "--solver", solver, *extra, "--out", tmp_path / "r",
               "--quiet")[0] == 0
    draw_folder(tmp_path / "r")  # in this process (the CLI's forked painter would pickle the figure calls)
    lines = [json.loads(s) for s in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert drawn["series"]["train"] == [line["train_loss"] for line in lines]
    if solver == "auto":  # 300 rows: solved exactly, one loss of one pass
        assert "exact" in drawn["title"] and "epoch" not in drawn["xlabel"] and "val" not in drawn["series"]
    else:
        kept = load_model(tmp_path / "r" / "model.safetensors").metrics["early_stopping"]["kept_epoch"]
        assert drawn["marker"] == kept and "title" not in drawn
        assert drawn["series"]["val"] == [line["val_loss"] for line in lines]


def test_plot_of_a_folder_that_is_not_a_run_folder_is_one_line_and_exit_2(cli, data, tmp_path):
    code, out, err = cli("plot", tmp_path / "nothing")
    assert code == 2 and out == ""
    assert err == f"linsgd plot: error: {tmp_path / 'nothing'}: no such run folder (the --out of linsgd train)\n"
    run = tmp_path / "run"
    assert cli("train", data, "--target", "y", "--seed", 0, "--out", run, "--quiet")[0] == 0
    lines = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text(lines + '{"epoch": 2}\n')
    code, out, err = cli("plot", run)
    assert code == 2 and err.startswith(f"linsgd plot: error: {run / 'metrics.jsonl'}:2: not a line of linsgd "
                                        f"train's metrics") and err.count("\n") == 1, err
    (run / "metrics.jsonl").write_text(lines)
    (run / "sample.safetensors").write_bytes(b"not safetensors")
    code, out, err = cli("plot", run)
    assert code == 2 and err.startswith(f"linsgd plot: error: {run / 'sample.safetensors'}: not a sample") \
        and err.count("\n") == 1, err
    (run / "sample.safetensors").unlink()
    code, out, err = cli("plot", run)
    assert code == 2 and "sample.safetensors: not found" in err and err.count("\n") == 1, err
    assert _pngs(run) == {}  # nothing drawn from a broken folder
