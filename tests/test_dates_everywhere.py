"""A date column is encoded the same way on every path: CSV text, Parquet (date32, timestamp, text), Arrow IPC,
JSON lines, pandas and polars DataFrames and a pyarrow Table; in memory and streamed; and by predict, evaluate,
summary and the ONNX export. The oracle: numpy's count of days since 1970-01-01 and the exact least-squares
solution on those days."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from linsgd.config import DataConfig, TrainConfig
from linsgd.data.first_pass import Encoded, encode, open_typed
from linsgd.model import save_model
from linsgd.runs.run import fit_file

pd = pytest.importorskip("pandas")

N = 300


@pytest.fixture(scope="module")
def sales():
    """N sales on distinct days of 2015–2020, y = 0.01·days + x + noise; ``days`` counted by numpy."""
    rng = np.random.default_rng(7)
    sold = np.datetime64("2015-01-01") + rng.permutation(2_000)[:N].astype("timedelta64[D]")
    x = rng.standard_normal(N)
    days = (sold - np.datetime64("1970-01-01")).astype(np.int64).astype(np.float64)
    y = 0.01 * days + x + rng.standard_normal(N)
    A = np.column_stack([days, x, np.ones(N)])
    expect = np.linalg.lstsq(A, y, rcond=None)[0]  # w_d, w_x, b
    return sold, x, y, days, expect


def _table(sold, x, y, dates) -> pa.Table:
    return pa.table({"d": dates, "x": x, "y": y})


def _text(sold) -> list[str]:
    return list(np.datetime_as_string(sold, unit="D"))


def _write(form: str, sold, x, y, folder):
    """The sales in ``form``: a path, or a table in memory."""
    date32 = pa.array(sold.astype("datetime64[D]"), pa.date32())
    if form == "csv":
        path = folder / "d.csv"
        pd.DataFrame({"d": _text(sold), "x": x, "y": y}).to_csv(path, index=False, float_format="%.17g")
        return path
    if form.startswith("parquet"):
        dates = {"parquet-date32": date32, "parquet-text": pa.array(_text(sold)),
                 "parquet-timestamp": date32.cast(pa.timestamp("ms"))}[form]
        pq.write_table(_table(sold, x, y, dates), folder / "d.parquet")
        return folder / "d.parquet"
    if form == "feather":
        feather.write_feather(_table(sold, x, y, date32), folder / "d.feather")
        return folder / "d.feather"
    if form == "jsonl":
        path = folder / "d.jsonl"
        path.write_text("".join(json.dumps({"d": d, "x": float(a), "y": float(b)}) + "\n"
                                for d, a, b in zip(_text(sold), x, y, strict=True)))
        return path
    if form == "arrow-table":
        return _table(sold, x, y, date32)
    if form.startswith("pandas"):
        d = pd.to_datetime(_text(sold)) if form == "pandas-datetime" else _text(sold)
        return pd.DataFrame({"d": d, "x": x, "y": y})
    pl = pytest.importorskip("polars")
    d = sold.astype("datetime64[D]").tolist() if form == "polars-date" else _text(sold)
    return pl.DataFrame({"d": d, "x": x, "y": y})


FILES = ("csv", "parquet-date32", "parquet-text", "parquet-timestamp", "feather", "jsonl")
FORMS = (*FILES, "arrow-table", "pandas-datetime", "pandas-text", "polars-date", "polars-text")


@pytest.mark.parametrize("form", FORMS)
def test_a_date_column_is_the_same_days_and_the_same_model_from_every_format(sales, tmp_path, form):
    sold, x, y, days, expect = sales
    data = _write(form, sold, x, y, tmp_path)
    table = encode(data, DataConfig(target="y"))
    X = np.concatenate([c.X for c in table.chunks()])
    assert table.features == ["d", "x"]
    np.testing.assert_array_equal(X[:, 0], days)
    np.testing.assert_array_equal(X[:, 1], x)
    models = []
    for max_memory in (None, 2_000):  # in memory, then streamed from spill files
        run = fit_file(data, DataConfig(target="y", max_memory=max_memory), TrainConfig(solver="exact"))
        assert run.streamed == (max_memory is not None)
        assert run.columns == {"d": "date", "x": "numeric", "y": "target"}
        models.append(np.append(run.model.w, run.model.b))
        np.testing.assert_allclose(models[-1], expect, rtol=1e-9)
    np.testing.assert_allclose(models[0], models[1], rtol=1e-12)


@pytest.fixture(scope="module")
def trained(sales, tmp_path_factory):
    """A model trained on the CSV, saved; and its predictions of the oracle's rows."""
    sold, x, y, days, _ = sales
    folder = tmp_path_factory.mktemp("dates")
    run = fit_file(_write("csv", sold, x, y, folder), DataConfig(target="y"), TrainConfig(solver="exact"))
    save_model(run.model, folder / "model.safetensors")
    return run.model, folder / "model.safetensors", np.column_stack([days, x]) @ run.model.w + run.model.b


@pytest.mark.parametrize("form", FORMS)
def test_a_model_reads_the_dates_of_every_format_alike(sales, trained, tmp_path, form):
    sold, x, y, _, _ = sales
    model, _, expect = trained
    data = _write(form, sold, x, y, tmp_path)
    table = Encoded(open_typed(data, DataConfig(target=None)), model.preprocessor)
    predicted = np.concatenate([model.predict(X) for X, _, _ in table.blocks()])
    np.testing.assert_allclose(predicted, expect, rtol=1e-12)


@pytest.mark.parametrize("form", FILES)
def test_predict_evaluate_and_summary_agree_on_every_file_format(sales, trained, tmp_path, cli, form):
    sold, x, y, _, _ = sales
    _, model, expect = trained
    data = _write(form, sold, x, y, tmp_path)
    code, _, err = cli("predict", model, data, "--out", tmp_path / "p.csv")
    assert code == 0, err
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["prediction"], expect, rtol=1e-12)
    code, out, err = cli("evaluate", model, data, "--json")
    assert code == 0, err
    mse = float(np.mean((expect - y) ** 2))
    assert json.loads(out)["mse"] == pytest.approx(mse, rel=1e-9)
    code, out, err = cli("summary", model, data, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"]["used"] == N and summary["optimality_gap"]["relative"] < 1e-9


def test_the_onnx_graph_takes_the_days_linsgd_encodes(sales, trained, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from linsgd.export import to_onnx

    _, x, _, days, _ = sales
    model, _, expect = trained
    to_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(["prediction"], {"d": days.reshape(-1, 1), "x": x.reshape(-1, 1)})[0]
    np.testing.assert_allclose(got, expect, rtol=1e-12)
