"""Real tables: roles, one-hot categories, gaps, dates, identifiers, the preprocessing in the model file.

The oracle is scikit-learn's pipeline on the same information (OneHotEncoder(drop="first") with sorted
categories, SimpleImputer(add_indicator=True), LinearRegression, dates as days since 1970-01-01).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.housing import housing, write_csv

import linsgd
from linsgd.config import DataConfig
from linsgd.data.encoding import Census
from linsgd.data.first_pass import Encoded, open_table, scan
from linsgd.model import load_model

pytest.importorskip("sklearn")


def _pipeline(df: pd.DataFrame):
    """scikit-learn's answer on the same information: (fitted pipeline, X it was fitted on, feature names)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = _sk_features(df)
    numeric = ["id", "sqm", "rooms", "sold"]
    ct = ColumnTransformer([("num", SimpleImputer(add_indicator=True), numeric),
                            ("cat", OneHotEncoder(drop="first", handle_unknown="ignore"), ["city"])])
    pipe = make_pipeline(ct, LinearRegression()).fit(X, df["price"])
    names = [n.replace("num__missingindicator_", "").replace("num__", "").replace("cat__city_", "city=")
             for n in ct.get_feature_names_out()]
    names = [f"{n}_missing" if n in ("sqm", "rooms") and i >= len(numeric) else n for i, n in enumerate(names)]
    return pipe, names


def _sk_features(df: pd.DataFrame) -> pd.DataFrame:
    X = df.drop(columns="price").copy()
    X["sold"] = (X["sold"] - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    return X


def _r2(pred, y) -> float:
    return float(1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))


def _predictions(path) -> np.ndarray:
    return pq.read_table(path)["prediction"].to_numpy() if str(path).endswith(".parquet") \
        else pd.read_csv(path)["prediction"].to_numpy()


def test_exact_solver_equals_the_sklearn_pipeline(cli, tmp_path):
    df = housing(2000, seed=0)
    write_csv(df, tmp_path / "h.csv")
    code, out, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute", "--solver",
                         "exact", "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    for line in ("id     numeric feature (all values distinct", "sqm    numeric feature, gaps imputed",
                 "city   categorical: 5 levels, reference 'Lyon'", "sold   date: days since 1970-01-01",
                 "price  target", "city=Paris"):
        assert line in out, out
    assert "warning: column 'id' looks like an identifier" in err
    model = load_model(tmp_path / "run" / "model.safetensors")
    pipe, names = _pipeline(df)
    ours = model.coef_table()
    theirs = dict(zip(names, pipe[-1].coef_, strict=True))
    assert sorted(theirs) == sorted(n for n in ours if n != "(intercept)")
    worst = max(abs(ours[n] - v) / max(1.0, abs(v)) for n, v in theirs.items())
    assert worst < 1e-8, worst
    assert ours["(intercept)"] == pytest.approx(pipe[-1].intercept_, rel=1e-8)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["features"] == ["id", "sqm", "rooms", "city", "sold"] and "city=Nice" in config["encoded_features"]
    # the Python API on the DataFrame itself: the same preprocessing, the same answer
    run = linsgd.fit_file(df, linsgd.DataConfig(target="price", missing="impute"),
                          linsgd.TrainConfig(solver="exact", dtype="float64", seed=0), announce=lambda *a: None)
    np.testing.assert_allclose(run.model.w, model.w, rtol=1e-9, atol=1e-12)
    # and linsgd.fit on the encoded matrix
    source, roles = open_table(df, DataConfig(target="price"), dtype="float64")
    X = np.concatenate([X for X, _, _ in Encoded(source, model.preprocessor).blocks()])
    fitted = linsgd.fit(X, df["price"].to_numpy(), solver="exact", dtype="float64")
    np.testing.assert_allclose(fitted.w, model.w, rtol=1e-9, atol=1e-12)


def test_sgd_on_a_housing_csv_matches_the_pipeline_r2(cli, tmp_path):
    train, test = housing(4000, seed=1), housing(1000, seed=2)
    write_csv(train, tmp_path / "train.csv")
    write_csv(test, tmp_path / "test.csv")
    code, out, err = cli("train", tmp_path / "train.csv", "--target", "price", "--missing", "impute",
                         "--exclude", "id", "--lr", "auto", "--epochs", 60, "--batch-size", 128, "--dtype", "float64",
                         "--out", tmp_path / "run", "--seed", 0, "--quiet")
    assert code == 0, err
    assert "id     excluded (--exclude)" in out and "coefficients (raw scale):" in out
    code, out, err = cli("evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "test.csv", "--json")
    assert code == 0, err
    r2 = json.loads(out)["r2"]
    pipe, _ = _pipeline(train.assign(id=0))  # id excluded: a constant column changes nothing
    r2_pipe = _r2(pipe.predict(_sk_features(test.assign(id=0))), test["price"].to_numpy())
    print(f"held-out R²: linsgd {r2:.6f}, pipeline {r2_pipe:.6f}")
    assert abs(r2 - r2_pipe) < 2e-3, (r2, r2_pipe)


def test_streamed_equals_in_memory_with_categories_and_gaps(tmp_path):
    df = housing(6000, seed=3)
    write_csv(df, tmp_path / "h.csv")
    outs = {}
    for chunk in (1 << 16, 1 << 24):  # ~4 chunks, or one
        cfg = DataConfig(target="price", chunk_bytes=chunk, val_fraction=0.2, missing="impute")
        source, roles = open_table(tmp_path / "h.csv", cfg, dtype="float64")
        census, _ = scan(source, roles, cfg, seed=0)
        pre = census.fit({c.name: c.role for c in roles}, "impute", [c.name for c in roles if c.is_feature])
        X = np.concatenate([X for X, _, _ in Encoded(source, pre).blocks()])
        outs[chunk] = (pre, X)
    (a, Xa), (b, Xb) = outs.values()
    assert [i.levels for i in a.inputs] == [i.levels for i in b.inputs]
    np.testing.assert_allclose([i.mean for i in a.inputs], [i.mean for i in b.inputs], rtol=1e-13)
    np.testing.assert_allclose(Xa, Xb, rtol=1e-14)  # means merged in another order: rounding only
    # the means are of the training rows only (validation rows never count)
    from linsgd.data.rows import split_mask
    train = ~split_mask(0, 0, len(df), 0.2)
    assert a.inputs[1].mean == pytest.approx(df["sqm"][train].mean(), rel=1e-12)
    assert a.inputs[1].mean != pytest.approx(df["sqm"].mean(), rel=1e-9)


def test_streamed_training_run_equals_in_memory_preprocessing(cli, tmp_path):
    df = housing(3000, seed=4)
    write_csv(df, tmp_path / "h.csv")
    models = {}
    for budget in ("1G", "30K"):
        code, out, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute",
                             "--standardize", "--lr", 0.02, "--epochs", 15, "--dtype", "float64",
                             "--max-memory", budget, "--chunk-bytes", 1 << 16, "--out", tmp_path / budget,
                             "--seed", 0)
        assert code == 0, err
        assert ("; streamed (block shuffle" in out) == (budget == "30K")
        models[budget] = load_model(tmp_path / budget / "model.safetensors")
    a, b = models.values()
    assert a.preprocessing == b.preprocessing and a.feature_names == b.feature_names
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
    assert abs(a.metrics["train"]["r2"] - b.metrics["train"]["r2"]) < 2e-3


def test_levels_seen_in_only_some_chunks_are_merged(tmp_path):
    df = housing(6000, seed=5)
    df.loc[5990:, "city"] = "Brest"  # only in the last chunk
    write_csv(df, tmp_path / "h.csv")
    cfg = DataConfig(target="price", chunk_bytes=1 << 16, missing="impute")
    source, roles = open_table(tmp_path / "h.csv", cfg, dtype="float64")
    census, _ = scan(source, roles, cfg, seed=0)
    pre = census.fit({c.name: c.role for c in roles}, "impute", [c.name for c in roles if c.is_feature])
    city = next(i for i in pre.inputs if i.name == "city")
    assert city.levels == ("Brest", "Lyon", "Marseille", "Nice", "Paris", "Toulouse")
    # the vocabulary merge is exact: two halves merged equal the whole
    whole = Census.empty(["x"], ["c"])
    halves = [Census.empty(["x"], ["c"]), Census.empty(["x"], ["c"])]
    from linsgd.data.cells import Rows
    for k, (vals, text) in enumerate([([1.0, 2.0], ["a", "b"]), ([4.0, np.nan], ["c", None])]):
        v = np.array(vals)[:, None]
        rows = Rows(np.nan_to_num(v), np.isnan(v), [pa.array(text, pa.string())], None, np.arange(2))
        whole, halves[k] = whole.update(rows), halves[k].update(rows)
    merged = halves[0].merge(halves[1])
    assert merged.levels == whole.levels == [{"a": 1, "b": 1, "c": 1, None: 1}]
    assert merged.mean[0] == pytest.approx(whole.mean[0], rel=1e-15) and merged.gaps.tolist() == [1]
    assert Census.from_dict(json.loads(json.dumps(merged.to_dict()))).levels == merged.levels


def test_predict_with_unseen_levels_and_new_gaps(cli, tmp_path):
    df = housing(1500, seed=6)
    df.loc[df.index[:40], "city"] = None  # categorical gaps: a level of their own
    write_csv(df, tmp_path / "h.csv")
    code, out, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute", "--solver",
                         "exact", "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    assert "gaps as level '(missing)'" in out
    model = load_model(tmp_path / "run" / "model.safetensors")
    new = housing(6, seed=7).drop(columns="price")
    new["city"] = ["Brest", "Paris", None, "Lyon", "Brest", "Nice"]
    new.loc[[0, 3], "sqm"] = np.nan
    new["rooms"] = new["rooms"].fillna(2.0)
    new.loc[[1], "sold"] = pd.NaT  # no gaps in training: the mean, no indicator
    write_csv(new, tmp_path / "new.csv")
    code, out, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "new.csv",
                         "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert "levels unseen in training (predicted as the reference level): column 'city' 2 rows" in out
    got = pd.read_csv(tmp_path / "p.csv")
    assert got["id"].tolist() == new["id"].tolist()  # an identifier column is copied by default
    pre, w = {i.name: i for i in model.preprocessor.inputs}, model.coef_table()
    for r, row in new.reset_index(drop=True).iterrows():
        sold = (row["sold"] - pd.Timestamp("1970-01-01")).days if not pd.isna(row["sold"]) else pre["sold"].mean
        sqm_gap = pd.isna(row["sqm"])
        expect = (w["(intercept)"] + w["id"] * row["id"] + w["sqm"] * (pre["sqm"].mean if sqm_gap else row["sqm"])
                  + w["sqm_missing"] * sqm_gap + w["rooms"] * row["rooms"] + w["sold"] * sold
                  + w.get(f"city={'(missing)' if pd.isna(row['city']) else row['city']}", 0.0))
        assert got["prediction"][r] == pytest.approx(expect, rel=1e-9), r


def test_drop_counts_rows_per_column_and_error_names_the_fix(cli, tmp_path):
    df = housing(500, seed=8)
    write_csv(df, tmp_path / "h.csv")
    n_sqm, n_rooms = int(df["sqm"].isna().sum()), int(df["rooms"].isna().sum())
    both = int((df["sqm"].isna() & df["rooms"].isna()).sum())
    code, out, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "drop", "--solver", "exact",
                         "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    assert f"dropped rows with an empty cell: sqm {n_sqm}, rooms {n_rooms}" in out
    assert f"{500 - n_sqm - n_rooms + both} train rows" in out
    code, _, err = cli("train", tmp_path / "h.csv", "--target", "price", "--out", tmp_path / "r2")
    first = int(np.flatnonzero(df["sqm"].isna() | df["rooms"].isna())[0])
    col = "sqm" if pd.isna(df["sqm"][first]) else "rooms"
    assert code == 2 and f"h.csv:{first + 2}: column '{col}': empty cell (use --missing impute" in err, err


def test_bad_tables_exit_2_naming_the_column(cli, tmp_path):
    df = housing(300, seed=9)
    write_csv(df, tmp_path / "h.csv")
    code, _, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute", "--max-levels", 3,
                       "--out", tmp_path / "r")
    assert code == 2 and "column 'city': 5 distinct values, more than --max-levels=3" in err
    assert "--exclude city" in err and not (tmp_path / "r").exists()
    table = pa.table({"x": [1.0, 2.0, 3.0], "tags": [[1], [2], [3]], "y": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "l.parquet")
    code, _, err = cli("train", tmp_path / "l.parquet", "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and "column 'tags': type list<element: int64> cannot be a feature" in err
    assert "--exclude tags" in err
    code, out, err = cli("train", tmp_path / "l.parquet", "--target", "y", "--exclude", "tags", "--solver", "exact",
                         "--dtype", "float64", "--out", tmp_path / "r")
    assert code == 0 and "tags  excluded (--exclude)" in out, err
    code, _, err = cli("train", tmp_path / "h.csv", "--target", "city", "--out", tmp_path / "r")
    assert code == 2 and "column 'city': the target must be numeric" in err
    code, _, err = cli("train", tmp_path / "h.csv", "--target", "price", "--exclude", "nope", "--out", tmp_path / "r")
    assert code == 2 and "--exclude: column 'nope' not found" in err
    bad = tmp_path / "d.csv"
    bad.write_text("x,sold,y\n1,2020-01-01,1\n2,2020-02-30,2\n")
    code, _, err = cli("train", bad, "--target", "y", "--out", tmp_path / "r")
    assert code == 2 and f"{bad}:3: column 'sold': not a date" in err, err


def test_pandas_index_is_never_a_feature_and_is_the_default_id(cli, tmp_path):
    df = housing(400, seed=10).drop(columns="id").dropna()
    df.index = pd.Index(np.arange(1000, 1000 + len(df)), name="house")
    df.to_parquet(tmp_path / "h.parquet")
    code, out, err = cli("train", tmp_path / "h.parquet", "--target", "price", "--solver", "exact",
                         "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    assert "house  excluded (pandas index)" in out
    assert "house" not in load_model(tmp_path / "run" / "model.safetensors").feature_names
    code, out, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "h.parquet",
                         "--out", tmp_path / "p.parquet")
    assert code == 0, err
    got = pq.read_table(tmp_path / "p.parquet")
    assert got.column_names == ["house", "prediction"] and got["house"].to_pylist() == df.index.tolist()
    unnamed = df.reset_index(drop=True)
    unnamed.index = np.random.default_rng(0).permutation(len(unnamed))  # not a RangeIndex: __index_level_0__
    unnamed.to_parquet(tmp_path / "u.parquet")
    code, out, err = cli("train", tmp_path / "u.parquet", "--target", "price", "--solver", "exact",
                         "--out", tmp_path / "run2", "--dtype", "float64")
    assert code == 0 and "__index_level_0__  excluded (pandas index)" in out, err


def test_a_version_1_model_file_still_predicts(cli, tmp_path):
    from safetensors.numpy import save_file

    meta = {"format": "linsgd-model", "format_version": "1", "linsgd_version": "0.1.0",
            "feature_names": json.dumps(["a", "b"]), "target": json.dumps("y"), "dtype": "float64",
            "config": "{}", "metrics": "{}", "fingerprint": ""}
    save_file({"w": np.array([2.0, -3.0]), "b": np.array([0.5])}, str(tmp_path / "v1.safetensors"), metadata=meta)
    (tmp_path / "d.csv").write_text("b,a,y\n1,2,1.5\n0,1,2.5\n")
    code, out, err = cli("predict", tmp_path / "v1.safetensors", tmp_path / "d.csv", "--out", tmp_path / "p.csv")
    assert code == 0, err
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["prediction"], [2 * 2 - 3 + 0.5, 2 + 0.5])
    code, out, err = cli("evaluate", tmp_path / "v1.safetensors", tmp_path / "d.csv", "--json")
    assert code == 0 and json.loads(out)["r2"] == pytest.approx(1.0)


def test_fit_and_the_estimator_name_the_column_of_a_dataframe(tmp_path):
    df = housing(200, seed=11)
    with pytest.raises(linsgd.DataError, match="column 'city' is text: encode it"):
        linsgd.fit(df[["rooms", "city"]].fillna(0), df["price"])
    with pytest.raises(linsgd.DataError, match=r"column 'sqm' has \d+ missing values"):
        linsgd.fit(df[["sqm"]], df["price"], solver="exact")
    with pytest.raises(linsgd.DataError, match="column 'sold' is a date"):
        linsgd.LinearRegressor().fit(df[["sold"]], df["price"])
    X = df[["rooms", "id"]].fillna(3.0)
    result = linsgd.fit(X, df["price"], solver="exact", dtype="float64")
    assert list(result.coef_table()) == ["rooms", "id", "(intercept)"]
    est = linsgd.LinearRegressor(solver="exact").fit(X, df["price"])
    assert est.get_feature_names_out().tolist() == ["rooms", "id"]
    assert est.coef_table()["rooms"] == pytest.approx(result.coef_table()["rooms"], rel=1e-9)


def test_a_pandas_csv_index_column_is_excluded(cli, tmp_path):
    housing(60, seed=14).to_csv(tmp_path / "h.csv")  # the index as a first column with an empty name
    code, out, err = cli("train", tmp_path / "h.csv", "--target", "price", "--missing", "impute", "--solver",
                         "exact", "--dtype", "float64", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0 and "''     excluded (pandas index)" in out, out + err
