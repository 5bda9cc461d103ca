"""The same rules on every reader: CSV, Parquet, Arrow IPC/Feather, JSON lines and tables in memory.

An empty or repeated column name, and an integer above 2**53 (not exact as a float), are refused in one
line naming the file (or DataFrame), the line or row, and the column; JSON lines and Feather files train
exactly like the same rows in CSV; a binary file of a format that is not read is refused naming the ones
that are.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.first_pass import encode
from linsgd.errors import DataError
from linsgd.model import load_model

X1 = np.linspace(0.0, 1.0, 40)
Y = 2.0 * X1 + 1.0


def _write(table: pa.Table, path):
    """``table`` as the file format of ``path``'s suffix."""
    suffix = path.suffix
    if suffix == ".parquet":
        pq.write_table(table, path)
    elif suffix in (".feather", ".arrow"):
        feather.write_feather(table, path)
    elif suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    else:
        path.write_text(",".join(table.column_names) + "\n" + "".join(
            ",".join(str(v) for v in r.values()) + "\n" for r in table.to_pylist()))
    return path


FILES = (".csv", ".parquet", ".feather", ".arrow", ".jsonl", ".ndjson")


@pytest.mark.parametrize("suffix", FILES)
def test_an_empty_column_name_is_refused_by_every_reader(cli, tmp_path, suffix):
    path = _write(pa.table({"x1": X1, "": X1 * 3, "y": Y}), tmp_path / f"d{suffix}")
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    line = ":1" if suffix == ".csv" else ""
    assert code == 2 and err.count("\n") == 1, err
    assert f"linsgd train: error: {path}{line}: column 2 has an empty name" in err and "name every column" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("make", ["pandas", "pyarrow"])
def test_an_empty_column_name_in_a_table_in_memory_is_refused(make):
    import pandas as pd

    frame = pd.DataFrame({"x1": X1, "": X1 * 3, "y": Y})
    data = frame if make == "pandas" else pa.Table.from_pandas(frame, preserve_index=False)
    label = "DataFrame" if make == "pandas" else "Table"
    with pytest.raises(DataError, match=f"^{label}: column 2 has an empty name: name every column$"):
        linsgd.fit_file(data, DataConfig(target="y"), TrainConfig(seed=0, epochs=1))
    with pytest.raises(DataError, match="^X: column 2 has an empty name"):
        linsgd.fit(frame[["x1", ""]] if make == "pandas" else data.select([0, 1]), Y, seed=0)


def test_duplicate_dataframe_columns_are_a_data_error_naming_them():
    import pandas as pd

    frame = pd.DataFrame(np.column_stack([X1, X1, X1 * 2, X1 * 2, Y]), columns=["a", "a", "b", "b", "y"])
    with pytest.raises(DataError, match=r"^DataFrame: duplicate column names 'a', 'b': give every column its own"):
        linsgd.fit_file(frame, DataConfig(target="y"), TrainConfig(seed=0, epochs=1))
    with pytest.raises(DataError, match=r"^X: duplicate column name 'a': give every column its own name$"):
        linsgd.fit(frame.iloc[:, :2], Y, seed=0)


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53 + 1), 2**62 + 1])
@pytest.mark.parametrize("suffix", (".csv", ".parquet", ".jsonl"))
def test_an_integer_above_2_53_is_refused_on_every_path(cli, tmp_path, value, suffix):
    ints = list(range(1, 41))
    ints[29] = value  # data row 30 (CSV line 31)
    path = _write(pa.table({"x1": pa.array(ints, pa.int64()), "y": Y}), tmp_path / f"d{suffix}")
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    line = 31 if suffix == ".csv" else 30
    assert code == 2 and err.count("\n") == 1, err
    assert f"{path}:{line}: column 'x1': integer too large to be exact as a float" in err, err
    assert f"(value='{value}')" in err, err


def test_csv_numbers_that_are_exact_or_written_as_floats_are_read(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,y\n9007199254740992,1\n-9007199254740992,2\n1e300,3\n90071992547409930.0,4\n")
    X = np.concatenate([c.X for c in encode(path, DataConfig(target="y")).chunks()])
    assert X[:, 0].tolist() == [2.0**53, -(2.0**53), 1e300, 90071992547409930.0]


def test_a_big_integer_is_a_bad_row_when_skipping(cli, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,y\n" + "".join(f"{v},{2 * v}\n" for v in range(30)) + "9007199254740993,1\n")
    code, out, err = cli("train", path, "--target", "y", "--out", tmp_path / "r", "--on-bad-rows", "skip",
                         "--seed", 0, "--epochs", 1)
    assert code == 0 and "skipped 1 bad rows" in out, err


@pytest.mark.parametrize("suffix", (".feather", ".arrow", ".jsonl", ".ndjson"))
def test_feather_and_json_lines_train_exactly_like_the_same_rows_in_csv(cli, tmp_path, suffix):
    table = pa.table({"x1": X1, "city": [f"c{i % 3}" for i in range(40)], "y": Y})
    models = []
    for s in (".csv", suffix):
        path = _write(table, tmp_path / f"d{s}")
        code, out, err = cli("train", path, "--target", "y", "--out", tmp_path / s, "--quiet", "--seed", 3,
                             "--epochs", 2)
        assert code == 0, err
        assert "city  categorical: 3 levels" in out, out
        models.append(load_model(tmp_path / s / "model.safetensors"))
    csv, other = models
    assert other.feature_names == csv.feature_names == ["x1", "city=c1", "city=c2"]
    assert np.array_equal(other.w, csv.w) and other.b == csv.b
    code, out, err = cli("predict", tmp_path / suffix / "model.safetensors", tmp_path / f"d{suffix}", "--out",
                         tmp_path / "p.csv")
    assert code == 0 and "wrote 40 predictions" in out, err


def test_a_json_file_that_is_not_json_lines_is_one_line_naming_the_format(cli, tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"x1": 1.0, "y": 2.0}, {"x1": 2.0, "y": 4.0}], indent=1))
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{path}: cannot read as JSON lines" in err and "one JSON object per line" in err, err
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    code, _, err = cli("train", empty, "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and err.count("\n") == 1 and f"{empty}: cannot read as JSON lines (Empty JSON" in err, err


def test_a_binary_file_of_another_format_is_refused_naming_the_formats_that_are_read(cli, tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and err.count("\n") == 1 and "UnicodeDecodeError" not in err, err
    assert f"{path}: not a format linsgd reads (CSV" in err and "Arrow IPC/Feather" in err and "JSON lines" in err
