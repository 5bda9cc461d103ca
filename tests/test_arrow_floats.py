"""The one Arrow → float64 converter (``linsgd.data.formats.arrow.floats``) against Python's own arithmetic, and
the one error for an integer float64 cannot hold, worded the same on every path."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.formats.arrow import EXACT, NotDate, TooBig, floats, valid_mask
from linsgd.errors import DataError
from linsgd.runs.run import fit_file

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
STAMPS = [dt.datetime(1969, 12, 31, 18), dt.datetime(2024, 2, 29, 6, 30, 15), None]


def _days(t: dt.datetime) -> float:
    return (t.replace(tzinfo=dt.timezone.utc) - EPOCH) / dt.timedelta(days=1)


CASES = {
    "int8": (pa.array([-128, 0, None], pa.int8()), [-128.0, 0.0, 0.0]),
    "uint64": (pa.array([0, 2**53, None], pa.uint64()), [0.0, 2.0**53, 0.0]),
    "int64 at the limit": (pa.array([-(2**53), 2**53], pa.int64()), [-(2.0**53), 2.0**53]),
    "float32": (pa.array([1.5, None, -2.25], pa.float32()), [1.5, 0.0, -2.25]),
    "decimal": (pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2)), [1.25, 0.0]),
    "date32": (pa.array([dt.date(1969, 12, 31), dt.date(2000, 3, 1), None]),
               [-1.0, (dt.date(2000, 3, 1) - dt.date(1970, 1, 1)).days, 0.0]),
    "date64": (pa.array([dt.date(2000, 3, 1)], pa.date64()), [(dt.date(2000, 3, 1) - dt.date(1970, 1, 1)).days]),
    "null": (pa.array([None, None]), [0.0, 0.0]),
    "ISO text": (pa.array([" 2000-03-01 ", "2024-02-29T06:30:15", None]),
                 [_days(dt.datetime(2000, 3, 1)), _days(STAMPS[1]), 0.0]),
    "dictionary of ISO text": (pa.array(["2000-03-01", "2000-03-01"]).dictionary_encode(),
                               [_days(dt.datetime(2000, 3, 1))] * 2),
}
for unit in ("s", "ms", "us", "ns"):  # a time of day is a fraction of a day, also before 1970
    CASES[f"timestamp[{unit}]"] = (pa.array(STAMPS, pa.timestamp(unit)), [_days(STAMPS[0]), _days(STAMPS[1]), 0.0])
CASES["timestamp with a zone (UTC days)"] = (
    pa.array([dt.datetime(2020, 1, 1, 23, tzinfo=dt.timezone(dt.timedelta(hours=-2)))], pa.timestamp("s", "UTC")),
    [_days(dt.datetime(2020, 1, 2, 1))])


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_arrow_type_becomes_the_float_python_computes(case):
    col, expected = CASES[case]
    got = floats(col)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(valid_mask(col), [v is not None for v in col.to_pylist()])
    np.testing.assert_array_equal(floats(pa.chunked_array([col[:1], col[1:]])), got)  # chunks change nothing


@pytest.mark.parametrize("values, row", [([1, 2**53 + 1, 3], 1), ([-(2**53) - 1], 0), ([None, 2**62], 1)])
def test_an_integer_above_2_53_is_refused_at_its_row(values, row):
    with pytest.raises(TooBig) as e:
        floats(pa.array(values, pa.int64()))
    assert (e.value.row, e.value.value) == (row, values[row])
    with pytest.raises(TooBig):
        floats(pa.array([2**64 - 1], pa.uint64()))
    assert EXACT == 2**53


def test_text_that_is_not_a_date_names_every_bad_cell():
    with pytest.raises(NotDate) as e:
        floats(pa.array(["2020-01-01", "soon", None, "2020-13-45"]))
    assert e.value.rows.tolist() == [1, 3] and e.value.values == ["soon", "2020-13-45"]
    np.testing.assert_array_equal(e.value.days[[0, 2]], [_days(dt.datetime(2020, 1, 1)), 0.0])


WORDING = ("column 'x1': integer too large to be exact as a float (above 2**53: an id or a hash?): leave the "
           "column out with --exclude, or store it as float (value='9007199254740993')")


def test_one_wording_for_a_big_integer_on_every_path(tmp_path):
    pd = pytest.importorskip("pandas")
    ints = [1, 2, 2**53 + 1, 4]
    frame = pd.DataFrame({"x1": ints, "y": [1.0, 2.0, 3.0, 4.0]})
    (tmp_path / "d.csv").write_text("x1,y\n" + "".join(f"{a},{b}\n" for a, b in zip(ints, frame["y"], strict=True)))
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "d.parquet")
    where = {tmp_path / "d.csv": f"{tmp_path / 'd.csv'}:4:", tmp_path / "d.parquet": f"{tmp_path / 'd.parquet'}:3:",
             "frame": "DataFrame:2:"}
    for data, at in where.items():
        with pytest.raises(DataError) as e:
            fit_file(frame if data == "frame" else data, DataConfig(target="y"), TrainConfig(solver="exact"))
        assert str(e.value) == f"{at} {WORDING}", str(e.value)
    with pytest.raises(DataError) as e:  # linsgd.fit of a DataFrame: its rows counted from 0, as X[2]
        linsgd.fit(frame[["x1"]], frame["y"], solver="exact")
    assert str(e.value) == f"X:2: {WORDING}", str(e.value)
