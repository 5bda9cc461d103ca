"""Model files: round trip, never unpickled, foreign and newer files refused, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

import linsgd.model as model_module
from linsgd.errors import DataError, StorageError
from linsgd.model import FORMAT_VERSION, LinearModel, load_model, save_model


def _model():
    return LinearModel(w=np.array([2.0, -3.4]), b=4.2, feature_names=["x1", "x2"], target="y",
                       mean=np.array([0.5, 1.0]), scale=np.array([2.0, 3.0]), config={"lr": 0.03},
                       metrics={"train": {"mse": 1e-4}}, fingerprint="abc")


def test_round_trip_keeps_every_field(tmp_path):
    save_model(_model(), tmp_path / "m.safetensors")
    m = load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(m.w, [2.0, -3.4])
    np.testing.assert_array_equal(m.scale, [2.0, 3.0])
    assert (m.b, m.feature_names, m.target, m.config, m.metrics, m.fingerprint) == \
        (4.2, ["x1", "x2"], "y", {"lr": 0.03}, {"train": {"mse": 1e-4}}, "abc")
    np.testing.assert_allclose(m.predict(np.array([[1.0, 1.0]])), [2.0 - 3.4 + 4.2])


def test_file_is_plain_safetensors_with_versioned_metadata(tmp_path):
    save_model(_model(), tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert header["__metadata__"]["format"] == "linsgd-model"
    assert header["__metadata__"]["format_version"] == str(FORMAT_VERSION)
    assert b"pickle" not in raw and not raw.startswith(b"\x80")


@pytest.mark.parametrize("kind", ["foreign safetensors", "newer version", "garbage", "pickle", "missing"])
def test_refuses_what_is_not_a_linsgd_model(tmp_path, kind):
    path = tmp_path / "m.safetensors"
    if kind == "foreign safetensors":
        save_file({"weight": np.zeros(3)}, path)
    elif kind == "newer version":
        save_model(_model(), path)
        raw = path.read_bytes()
        path.write_bytes(raw.replace(f'"format_version":"{FORMAT_VERSION}"'.encode(),
                                     f'"format_version":"{FORMAT_VERSION + 1}"'.encode()))
    elif kind == "garbage":
        path.write_bytes(b"not a model at all")
    elif kind == "pickle":
        import pickle
        path.write_bytes(pickle.dumps({"w": [1.0]}))
    with pytest.raises(DataError) as e:
        load_model(path)
    msg = str(e.value)
    assert msg.startswith(str(path))
    assert ("newer" in msg) if kind == "newer version" else ("not a linsgd model" in msg or "no such" in msg)


def test_cli_predict_with_a_foreign_model_exits_2(cli, tmp_path):
    save_file({"w": np.zeros(2)}, tmp_path / "m.safetensors")
    (tmp_path / "d.csv").write_text("x1,x2\n1,2\n")
    code, _, err = cli("predict", tmp_path / "m.safetensors", tmp_path / "d.csv", "--out", tmp_path / "p.csv")
    assert code == 2 and "not a linsgd model file" in err and not (tmp_path / "p.csv").exists()


def test_a_crash_while_writing_leaves_no_model(tmp_path, monkeypatch):
    save_model(_model(), tmp_path / "m.safetensors")
    before = (tmp_path / "m.safetensors").read_bytes()

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("safetensors.numpy.save_file", crash)
    with pytest.raises(StorageError):
        save_model(_model(), tmp_path / "m.safetensors")
    assert (tmp_path / "m.safetensors").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert model_module.FORMAT == "linsgd-model"
