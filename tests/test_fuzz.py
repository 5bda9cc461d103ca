"""Property-based hostile input: random bad cells in CSV and Parquet files, random corruptions of model files.

Every case must end as the README promises: exit 2, one line naming the file, the line (CSV: header = 1;
Parquet: 1-based row) and the column, no traceback, nothing written next to the data. A model file with
random bytes or a random JSON header is refused as "not a (valid) linsgd model" (exit 2) or, when the
damage left a valid model, used (exit 0): never an internal error (exit 1).
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linsgd.errors import DataError
from linsgd.model import LinearModel, load_model, save_model

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COLUMNS = ("x1", "x2", "y")

# kind of bad cell -> (the cell's CSV text, the value in Parquet, the problem the message names)
BAD = {
    "text": ("abc", None, "not a number"),
    "comma text": ('"1,5"', None, "not a number"),
    "empty": ("", None, "empty cell"),
    "nan": ("nan", float("nan"), "NaN is not a usable value"),
    "inf": ("-inf", float("-inf"), "infinite value"),
    "huge": ("1e39", 1e39, "too large for float32"),
    "overflow": ("1e400", None, "infinite value"),
}


def _folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz")
    return path


def _assert_bad_input(code: int, err: str, where: str, column: str, problem: str, folder, keep: set[str]):
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{where}: column '{column}': " in err, (where, column, err)
    assert problem in err or "is text" in err, err
    assert set(os.listdir(folder)) == keep  # no run folder, no temporary file


@st.composite
def csv_cases(draw):
    # at least 2 rows: a column whose only cell is text is a category (linsgd.data.roles), not a bad number
    n = draw(st.one_of(st.integers(2, 60), st.integers(3000, 9000)))  # past the first 64K block too
    row = draw(st.integers(0, n - 1))
    column = draw(st.sampled_from(COLUMNS))
    kind = draw(st.sampled_from(sorted(BAD)))
    chunk = draw(st.sampled_from([1 << 16, 4 << 20]))
    return n, row, column, kind, chunk


@FUZZ
@given(case=csv_cases())
def test_a_bad_csv_cell_anywhere_is_exit_2_naming_its_line_and_column(cli, tmp_path_factory, case):
    n, row, column, kind, chunk = case
    folder = _folder(tmp_path_factory)
    path = folder / "d.csv"
    rng = np.random.default_rng(n * 31 + row)
    cells = [[f"{v:.4f}" for v in rng.uniform(-1, 1, 3)] for _ in range(n)]
    cells[row][COLUMNS.index(column)] = BAD[kind][0]
    path.write_text(",".join(COLUMNS) + "\n" + "".join(",".join(r) + "\n" for r in cells))
    code, _, err = cli("train", path, "--target", "y", "--out", folder / "run", "--chunk-bytes", chunk,
                       "--epochs", 1, "--quiet", "--seed", 0)
    _assert_bad_input(code, err, f"{path}:{row + 2}", column, BAD[kind][2], folder, {"d.csv"})


@st.composite
def parquet_cases(draw):
    n = draw(st.integers(1, 3000))
    row = draw(st.integers(0, n - 1))
    column = draw(st.sampled_from(COLUMNS))
    kind = draw(st.sampled_from(["empty", "nan", "inf", "huge"]))
    group = draw(st.sampled_from([7, 1000, 100_000]))  # row groups: the bad row in any of them
    parts = draw(st.integers(1, 3))  # a folder of part files: the error names the part and its row
    return n, row, column, kind, group, parts


@FUZZ
@given(case=parquet_cases())
def test_a_bad_parquet_cell_anywhere_is_exit_2_naming_its_row_and_column(cli, tmp_path_factory, case):
    n, row, column, kind, group, parts = case
    folder = _folder(tmp_path_factory)
    data = folder / "data"
    data.mkdir()
    rng = np.random.default_rng(n * 17 + row)
    values = {c: rng.uniform(-1, 1, n) for c in COLUMNS}
    for k in range(parts):  # the bad cell is in the last part; the others are good copies
        cols = {c: pa.array(v) for c, v in values.items()}
        if k == parts - 1:
            bad = BAD[kind][1]
            cols[column] = pa.array([bad if i == row else v for i, v in enumerate(values[column])], pa.float64())
        pq.write_table(pa.table(cols), data / f"part-{k}.parquet", row_group_size=group)
    code, _, err = cli("train", data, "--target", "y", "--out", folder / "run", "--epochs", 1, "--quiet", "--seed", 0)
    where = f"{data / f'part-{parts - 1}.parquet'}:{row + 1}"
    _assert_bad_input(code, err, where, column, BAD[kind][2], folder, {"data"})


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    save_model(LinearModel(w=np.array([0.5, -1.5]), b=0.25, feature_names=["x1", "x2"],
                           mean=np.zeros(2), scale=np.ones(2), metrics={"train": {"mse": 0.1}}), path)
    return path.read_bytes()


def _predict(cli, folder, raw: bytes):
    model, data = folder / "m.safetensors", folder / "d.csv"
    model.write_bytes(raw)
    data.write_text("x1,x2\n1,2\n3,4\n")
    try:
        load_model(model)
        loaded = True
    except DataError as e:
        assert str(e).startswith(f"{model}: "), str(e)
        loaded = False
    code, _, err = cli("predict", model, data, "--out", folder / "p.csv")
    assert code == (0 if loaded else 2), err
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "not a linsgd model file" in err or "not a valid linsgd model" in err or "no such" in err, err
        assert sorted(os.listdir(folder)) == ["d.csv", "m.safetensors"]
    shutil.rmtree(folder)


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)),
                      min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_random_bytes_in_a_model_file_are_refused_or_harmless(cli, tmp_path_factory, model_bytes, edits, cut):
    raw = bytearray(model_bytes)
    for where, new in edits:
        at = int(where * len(raw))
        raw[at:at + len(new)] = new
    if cut is not None:
        raw = raw[:int(cut * len(raw))]
    _predict(cli, tmp_path_factory.mktemp("m"), bytes(raw))


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)


@FUZZ
@given(data=st.data())
def test_a_random_json_header_in_a_model_file_is_refused_or_harmless(cli, tmp_path_factory, model_bytes, data):
    n = int.from_bytes(model_bytes[:8], "little")
    header, body = json.loads(model_bytes[8:8 + n]), model_bytes[8 + n:]
    section = data.draw(st.sampled_from(["__metadata__", "w", "b", "mean", "scale"]), label="section")
    keys = sorted(header[section])
    key = data.draw(st.sampled_from(keys + ["new"]), label="key")
    how = data.draw(st.sampled_from(["json text", "any value", "delete"]), label="how")
    if how == "delete":
        header[section].pop(key, None)
    elif how == "json text":  # metadata values are strings holding JSON: any JSON, or any text
        header[section][key] = data.draw(JSON_VALUES.map(json.dumps) | st.text(max_size=12), label="value")
    else:
        header[section][key] = data.draw(JSON_VALUES, label="value")
    text = json.dumps(header).encode()
    _predict(cli, tmp_path_factory.mktemp("m"), len(text).to_bytes(8, "little") + text + body)
