"""ISO date strings are dates on every path: a 'YYYY-MM-DD' column of a CSV, of a Parquet file written by
pandas (stored as text) and of a DataFrame gets the date role and the same days since 1970-01-01."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.config import DataConfig, TrainConfig
from linsgd.data.roles import mostly_dates
from linsgd.errors import DataError
from linsgd.model import load_model
from linsgd.runs.run import fit_file

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    """3,000 sales over 3,621 distinct days (more than --max-levels as text), y = 0.01·days + x + noise."""
    rng = np.random.default_rng(0)
    n = 3_000
    sold = np.datetime64("2010-01-01") + rng.permutation(3_621)[:n].astype("timedelta64[D]")
    x = rng.standard_normal(n)
    days = (sold - np.datetime64("1970-01-01")).astype(np.int64).astype(np.float64)
    df = pd.DataFrame({"sold_on": np.datetime_as_string(sold, unit="D"), "x": x,
                       "y": 0.01 * days + x + rng.standard_normal(n)})
    folder = tmp_path_factory.mktemp("sales")
    df.to_parquet(folder / "sales.parquet")
    df.to_csv(folder / "sales.csv", index=False)
    return folder, df, days


def test_the_same_iso_date_column_is_a_date_in_csv_parquet_and_a_dataframe(sales):
    folder, df, days = sales
    assert df["sold_on"].nunique() > 100  # as text it would be refused (more than --max-levels)
    A = np.column_stack([days, df["x"], np.ones(len(df))])
    expect = np.linalg.lstsq(A, df["y"].to_numpy(), rcond=None)[0]  # the oracle: days counted by numpy
    for data in (folder / "sales.csv", folder / "sales.parquet", df):
        run = fit_file(data, DataConfig(target="y"), TrainConfig(solver="exact", dtype="float64"))
        assert run.columns == {"sold_on": "date", "x": "numeric", "y": "target"}, type(data)
        np.testing.assert_allclose(np.append(run.model.w, run.model.b), expect, rtol=1e-8)


def test_a_parquet_model_predicts_a_dataframe_of_text_dates_like_its_csv(sales, cli, tmp_path):
    folder, df, _ = sales
    assert cli("train", folder / "sales.parquet", "--target", "y", "--solver", "exact", "--quiet",
               "--out", tmp_path / "run")[0] == 0
    model = tmp_path / "run" / "model.safetensors"
    for data in ("sales.csv", "sales.parquet"):
        assert cli("predict", model, folder / data, "--out", tmp_path / f"{data}.csv")[0] == 0
    a, b = (pd.read_csv(tmp_path / f"{d}.csv")["prediction"].to_numpy() for d in ("sales.csv", "sales.parquet"))
    np.testing.assert_array_equal(a, b)
    m = load_model(model)
    assert m.feature_names[0] == "sold_on" and abs(m.w[0] - 0.01) < 1e-3


def test_a_cell_that_is_not_a_date_names_its_row_and_column(tmp_path, cli):
    df = pd.DataFrame({"d": ["2020-01-01", "2020-01-02", "2020-13-45", "2020-01-04"] * 3,
                       "y": np.arange(12.0)})
    df.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match=r"bad.parquet:3: column 'd': not a date.*2020-13-45"):
        fit_file(tmp_path / "bad.parquet", DataConfig(target="y"), TrainConfig(solver="exact"))
    code, _, err = cli("train", tmp_path / "bad.parquet", "--target", "y", "--quiet", "--out", tmp_path / "r")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not a date" in err
    skipped = fit_file(tmp_path / "bad.parquet", DataConfig(target="y", on_bad_rows="skip"),
                       TrainConfig(solver="exact"))
    assert skipped.skipped == 3 and skipped.columns["d"] == "date"


def test_mostly_dates_follows_the_csv_rule():
    pa = pytest.importorskip("pyarrow")
    assert mostly_dates(pa.array(["2020-01-01", "2021-02-03T04:05:06", "", None]))
    assert not mostly_dates(pa.array(["2020-01-01", "red", "blue"]))  # fewer than half are dates
    assert not mostly_dates(pa.array(["1", "2", "2020-01-01"]))  # numbers as text stay as they were
    assert mostly_dates(pa.array(["2020-01-01", "red"]))  # half: a date column with a bad cell
