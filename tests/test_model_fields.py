"""A model file is checked field by field on load, and a model that overflows on its data is an error.

Each corrupt field below is patched into a real model file (trained on a table with a categorical column);
``load_model`` refuses it naming the file and the field, and ``predict``/``evaluate`` exit 2 with that one
line, writing nothing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from linsgd.errors import DataError
from linsgd.model import load_model


@pytest.fixture
def trained(cli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("city,x1,y\n" + "".join(f"c{i % 3},{i % 7 / 7},{(i % 3) + i % 7 / 7}\n" for i in range(60)))
    assert cli("train", data, "--target", "y", "--out", tmp_path / "run", "--quiet", "--seed", 0,
               "--missing", "impute")[0] == 0
    return tmp_path / "run" / "model.safetensors", data


def _patched(path, out, *, tensors=None, pre=None, config=None):
    with safe_open(str(path), framework="np") as f:
        meta, arrays = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    p, c = json.loads(meta["preprocessing"]), json.loads(meta["config"])
    if pre is not None:
        pre(p)
    if config is not None:
        config(c)
    meta |= {"preprocessing": json.dumps(p), "config": json.dumps(c)}
    save_file({**arrays, **(tensors or {})}, out, metadata=meta)
    return out


def _input(column, **fields):
    def patch(p):
        next(i for i in p["inputs"] if i["name"] == column).update(fields)
    return patch


CORRUPT = {
    "nan mean": (dict(pre=_input("x1", mean=float("nan"))), "preprocessing input 'x1': field 'mean' is nan"),
    "unknown kind": (dict(pre=_input("x1", kind="ordinal")), "preprocessing input 'x1': field 'kind' is 'ordinal'"),
    "levels on numeric": (dict(pre=_input("x1", levels=["a", "b"])),
                          "preprocessing input 'x1': field 'levels' is"),
    "categorical without levels": (dict(pre=_input("city", levels=[])),
                                   "preprocessing input 'city': field 'levels' is []"),
    "repeated level": (dict(pre=_input("city", levels=["c0", "c1", "c1"])), "field 'levels' repeats a level"),
    "mean as text": (dict(pre=_input("x1", mean="0.5")), "preprocessing input 'x1': field 'mean' is '0.5'"),
    "indicator as number": (dict(pre=_input("x1", indicator=1)), "field 'indicator' is 1, not a JSON boolean"),
    "empty input name": (dict(pre=_input("x1", name="")), "field 'name' is empty"),
    "missing policy": (dict(pre=lambda p: p.update(missing="guess")), "preprocessing field 'missing' is 'guess'"),
    "lr -1": (dict(config=lambda c: c.update(lr=-1)), "config field 'lr' is -1: a finite number > 0"),
    "batch_size 0": (dict(config=lambda c: c.update(batch_size=0)), "config field 'batch_size' is 0"),
    "unknown config key": (dict(config=lambda c: c.update(momentum=0.9)), "config field 'momentum' is unknown"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_every_field_of_a_model_is_checked_on_load_naming_the_file_and_the_field(cli, trained, tmp_path, case):
    model, data = trained
    patch, said = CORRUPT[case]
    bad = _patched(model, tmp_path / "bad.safetensors", **patch)
    with pytest.raises(DataError, match=f"^{bad}: not a valid linsgd model: ") as e:
        load_model(bad)
    assert said in str(e.value)
    code, _, err = cli("predict", bad, data, "--out", tmp_path / "p.csv")
    assert code == 2 and err.count("\n") == 1 and said in err and str(bad) in err, err
    assert not (tmp_path / "p.csv").exists()
    code, _, err = cli("evaluate", bad, data)
    assert code == 2 and err.count("\n") == 1 and said in err, err


def test_the_unpatched_model_loads(trained, tmp_path):
    model, _ = trained
    same = _patched(model, tmp_path / "same.safetensors")  # the patching itself changes nothing
    assert load_model(same).feature_names == load_model(model).feature_names


def test_a_model_that_overflows_on_its_data_is_exit_2_naming_it_and_writes_nothing(cli, trained, tmp_path):
    model, data = trained
    assert load_model(model).feature_names == ["city=c1", "city=c2", "x1"]
    w, b = np.full(3, 1e308), np.zeros(1)  # finite, so the file is valid; a row predicts ([city != c0] + x1)·1e308
    huge = _patched(model, tmp_path / "huge.safetensors", tensors={"w": w, "b": b})
    # the first row above the largest float64, 1.797e308: city c1 or c2 and x1 = 6/7
    first = next(i for i in range(60) if (i % 3 != 0) + i % 7 / 7 > 1.7976931348623157) + 1
    assert first == 14
    for out in ("p.csv", "p.parquet"):
        code, _, err = cli("predict", huge, data, "--out", tmp_path / out)
        assert code == 2 and err.count("\n") == 1, err
        assert f"linsgd predict: error: {huge}: predicts inf for data row {first} of {data}:" in err, err
        assert not (tmp_path / out).exists() and not list(tmp_path.glob(".p.*"))
    code, out, err = cli("evaluate", huge, data, "--json")
    assert (code, out) == (2, "") and f"linsgd evaluate: error: {huge}: predicts inf for a row of {data}" in err, err
    w[:] = 1e300  # large but finite predictions stay allowed
    code, _, err = cli("predict", _patched(model, tmp_path / "big.safetensors", tensors={"w": w, "b": b}), data,
                       "--out", tmp_path / "ok.csv")
    assert code == 0 and np.isfinite(np.loadtxt(tmp_path / "ok.csv", skiprows=1, delimiter=",")).all(), err
