"""Every bad input of a data file: exit 2, one line ``FILE:LINE: column 'c': problem (value='…')``, no output."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linsgd.config import DataConfig
from linsgd.data.first_pass import encode
from linsgd.data.formats.registry import open_source
from linsgd.errors import DataError

GOOD = b"a,b,y\n1,2,3\n4,5,6\n7,8,9\n"

CSV_CASES = {
    "nan": (b"a,b,y\n1,2,3\n4,nan,6\n", ":3: column 'b': NaN is not a usable value (value='nan')"),
    "empty cell": (b"a,b,y\n1,2,3\n4,,6\n", ":3: column 'b': empty cell"),
    "inf": (b"a,b,y\n1,2,3\n4,5,inf\n", ":3: column 'y': infinite value"),
    "float32 overflow": (b"a,b,y\n1,2,3\n4,1e39,6\n", ":3: column 'b': too large for float32"),
    "text": (b"a,b,y\n1,2,3\n4,abc,6\n", ":3: column 'b': not a number (value='abc')"),
    "decimal comma": (b'a,b,y\n1,2,3\n4,"1,5",6\n', ":3: column 'b': not a number (value='1,5')"),
    "too many fields": (b"a,b,y\n1,2,3\n4,5,6,7\n", ":3: expected 3 fields, got 4 (value='4,5,6,7')"),
    "too few fields": (b"a,b,y\n1,2,3\n4,5\n", ":3: expected 3 fields, got 2 (value='4,5')"),
    "empty file": (b"", ": empty file"),
    "header only": (b"a,b,y\n", ": no data rows"),
    "duplicate column": (b"a,a,y\n1,2,3\n", ":1: column 'a': duplicate column name"),
    "non-UTF-8 header": ("a,\xe9,y\n1,2,3\n".encode("latin-1"), ":1: header is not valid UTF-8"),
    "non-UTF-8 value": (b"a,b,y\n1,2,3\n4,\xe95,6\n",
                        ":3: column 'b': not valid UTF-8 text (value='\\xe95')"),
    "blank line": (b"a,b,y\n1,2,3\n\n4,5,6\n", ":3: column 'a': empty cell"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_csv_is_one_line_exit_2_and_writes_nothing(cli, tmp_path, case):
    content, expected = CSV_CASES[case]
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    out = tmp_path / "run"
    code, stdout, err = cli("train", path, "--target", "y", "--features", "a,b", "--out", out,
                            "--engine", "reference", "--seed", "0", "--solver", "sgd")  # float32 rows
    assert code == 2
    assert err.count("\n") == 1 and f"{path}{expected}" in err, err
    assert not out.exists()


def test_missing_target_and_string_feature_are_named(cli, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,a,y\nx1,1,2\nx2,3,4\nx3,5,7\nx1,2,2\nx2,4,4\nx3,1,8\n")
    code, _, err = cli("train", path, "--target", "nope", "--out", tmp_path / "r")
    assert code == 2 and "column 'nope' not found (columns: id, a, y)" in err
    # a text column is a categorical feature of train, and is listed as one (linsgd.data.roles)
    code, out, err = cli("train", path, "--target", "y", "--features", "id,a", "--out", tmp_path / "r",
                         "--solver", "exact", "--dtype", "float64")
    assert code == 0 and "id  categorical: 3 levels, reference 'x1'" in out, out + err
    # a source reads every column by default (none is left out for its type), --features narrows it
    assert open_source(path, target="y").features == ["id", "a"]
    assert open_source(path, target="y", features=["a"]).features == ["a"]
    assert encode(path, DataConfig(target="y")).features == ["id=x2", "id=x3", "a"]


def _big_csv(tmp_path, bad_line: int, bad: bytes, n: int = 200_000):
    rows = np.arange(n)
    text = "a,b,y\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in rows)
    lines = text.encode().split(b"\n")
    lines[bad_line - 1] = bad  # lines[0] is line 1, the header
    path = tmp_path / "big.csv"
    path.write_bytes(b"\n".join(lines))
    return path


@pytest.mark.parametrize("bad, expected", [
    (b"5,abc,1", "column 'b': not a number (value='abc')"),
    (b"5,1", "expected 3 fields, got 2"),
    (b"5,,1", "column 'b': empty cell"),
    (b"5,\xff,1", "column 'b': not valid UTF-8 text"),
])
def test_bad_row_past_the_first_chunk_names_the_right_line(tmp_path, bad, expected):
    # data row 150,000 of 200,000 is line 150,002; 64 KiB blocks put it ~200 chunks in
    path = _big_csv(tmp_path, 150_002, bad)
    with pytest.raises(DataError) as e:
        for _ in encode(path, DataConfig(target="y", chunk_bytes=1 << 16)).chunks():
            pass
    assert str(e.value).startswith(f"{path}:150002: {expected}")
    skipping = encode(path, DataConfig(target="y", chunk_bytes=1 << 16, on_bad_rows="skip"))
    assert sum(len(c.y) for c in skipping.chunks()) == 199_999 and skipping.skipped == 1


def test_skip_counts_every_kind_of_bad_row(cli, tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b,y\n1,2,3\n4,abc,6\n1,2\n1,nan,2\n,1,2\n1,1e39,1\n2,4,6\n")
    source = encode(path, DataConfig(target="y", features=("a", "b"), on_bad_rows="skip"), dtype="float32")
    X = np.concatenate([c.X for c in source.chunks()])
    assert source.skipped == 5
    np.testing.assert_array_equal(X, [[1, 2], [2, 4]])
    code, out, _ = cli("train", path, "--target", "y", "--features", "a,b", "--on-bad-rows", "skip",
                       "--out", tmp_path / "r", "--engine", "reference", "--seed", "0", "--quiet", "--solver", "sgd")
    assert code == 0 and "skipped 5 bad rows" in out


def test_float64_accepts_what_float32_cannot_hold(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,y\n1e39,1\n2,3\n")
    chunk = next(encode(path, DataConfig(target="y"), dtype="float64").chunks())
    assert chunk.X[0, 0] == 1e39 and chunk.X.dtype == np.float64


def _parquet(path, **cols):
    pq.write_table(pa.table(cols), path)
    return path


def test_parquet_bad_inputs(tmp_path):
    cases = {
        "null": (_parquet(tmp_path / "n.parquet", a=pa.array([1.0, None, 3.0]), y=[1.0, 2.0, 3.0]),
                 ":2: column 'a': empty cell"),
        "nan": (_parquet(tmp_path / "nan.parquet", a=[1.0, 2.0, float("nan")], y=[1.0, 2.0, 3.0]),
                ":3: column 'a': NaN"),
        "list": (_parquet(tmp_path / "s.parquet", a=[1.0, 2.0], s=[[1.0], [2.0]], y=[1.0, 2.0]),
                 ": column 's': type list<element: double> cannot be a feature"),
    }
    for name, (path, expected) in cases.items():
        with pytest.raises(DataError, match=None) as e:
            list(encode(path, DataConfig(target="y")).chunks())
        assert str(e.value).startswith(f"{path}{expected}"), (name, str(e.value))


@pytest.mark.parametrize("content", [b"", b"a,b\n1,2\n", b"PAR1 this is not parquet"])
def test_non_parquet_or_truncated_parquet(cli, tmp_path, content):
    path = tmp_path / "x.parquet"
    good = _parquet(tmp_path / "good.parquet", a=np.arange(100.0), y=np.arange(100.0))
    path.write_bytes(content or good.read_bytes()[:200])  # b"": a truncated real file
    code, _, err = cli("train", path, "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and err.startswith(f"linsgd train: error: {path}: not a Parquet file, or truncated")
    assert not (tmp_path / "r").exists()


def test_parquet_folder_and_glob_read_every_part_in_order(tmp_path):
    for k in range(3):
        _parquet(tmp_path / f"part-{k}.parquet", a=np.arange(k * 10, k * 10 + 10.0), y=np.zeros(10))
    for spec in (tmp_path, tmp_path / "part-*.parquet"):
        assert open_source(spec, target="y").num_rows == 30
        src = encode(spec, DataConfig(target="y"))
        np.testing.assert_array_equal(np.concatenate([c.X[:, 0] for c in src.chunks()]), np.arange(30.0))


def test_npy_columns_are_indices(tmp_path):
    path = tmp_path / "d.npy"
    a = np.arange(12.0).reshape(4, 3)
    a[2, 1] = np.inf
    np.save(path, a)
    assert open_source(path, target="2").features == ["0", "1"]
    with pytest.raises(DataError, match=r"d\.npy:3: column '1': infinite value"):
        list(encode(path, DataConfig(target="2")).chunks())


def test_good_csv_reads_exactly(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(GOOD)
    src = encode(path, DataConfig(target="y", features=("b", "a")))
    chunk = next(src.chunks())
    assert src.features == ["a", "b"]  # the file's order, however --features lists them
    np.testing.assert_array_equal(chunk.X, [[1, 2], [4, 5], [7, 8]])
    np.testing.assert_array_equal(chunk.y, [3, 6, 9])
