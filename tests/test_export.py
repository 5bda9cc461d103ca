"""linsgd export --onnx: onnxruntime's predictions equal linsgd predict's on a table with categories and gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.housing import housing, write_csv


def test_onnx_predictions_equal_linsgd_predict(cli, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    df = housing(1500, seed=12)
    df.loc[df.index[:30], "city"] = None
    write_csv(df, tmp_path / "h.csv")
    code, _, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute", "--standardize",
                       "--lr", 0.02, "--epochs", 3, "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    code, out, err = cli("export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0 and "inputs: id, sqm, rooms, city, sold" in out, err
    new = housing(300, seed=13).drop(columns="price")
    new.loc[new.index[:20], "city"] = "Brest"  # unseen
    new.loc[new.index[20:30], "city"] = None  # the (missing) level
    new.loc[new.index[30:40], "sold"] = pd.NaT  # a gap where training had none
    write_csv(new, tmp_path / "new.csv")
    code, _, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "new.csv", "--out",
                       tmp_path / "p.csv")
    assert code == 0, err
    expected = pd.read_csv(tmp_path / "p.csv")["prediction"].to_numpy()
    days = (new["sold"] - pd.Timestamp("1970-01-01")).dt.days.astype(float).to_numpy()
    feeds = {"id": new["id"].to_numpy(float), "sqm": new["sqm"].to_numpy(float),
             "rooms": new["rooms"].to_numpy(float), "sold": days,
             "city": np.array([c if isinstance(c, str) else "" for c in new["city"]], dtype=object)}
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["prediction"], {k: v.reshape(-1, 1) for k, v in feeds.items()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert np.abs(got - expected).max() < 1e-9  # in practice: float64 throughout


def test_export_without_onnx_names_the_extra(cli, tmp_path, monkeypatch):
    import sys

    cli("generate", tmp_path / "d.csv", "--num-examples", 100)
    cli("train", tmp_path / "d.csv", "--target", "y", "--out", tmp_path / "r", "--quiet")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    code, _, err = cli("export", tmp_path / "r" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 2 and "pip install 'linsgd[onnx]'" in err and err.count("\n") == 1
