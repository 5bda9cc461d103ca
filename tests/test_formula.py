"""Formulas (``--formula``, ``DataConfig(formula=…)``): the design matrix is formulaic's own, the fit is
statsmodels' OLS with the same formula on a real table (ISLP's Carseats), a streamed file gives the rows held
in memory, and a model file reproduces the formula on new rows by column name."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.data.first_pass import encode
from linsgd.model import load_model

smf = pytest.importorskip("statsmodels.formula.api")
formulaic = pytest.importorskip("formulaic")

FIRST_ZERO_AD = 8  # the CSV line of Carseats' first row without advertising (checked below)
FORMULA = "Sales ~ Price * Income + C(ShelveLoc) + Urban + np.log(Advertising + 1) + I(Age ** 2)"


def _carseats() -> pd.DataFrame:
    spec = importlib.util.find_spec("ISLP")
    assert spec is not None, "ISLP is not installed: `make .venv/.installed-dev` installs it"
    return pd.read_csv(Path(next(iter(spec.submodule_search_locations))) / "data" / "Carseats.csv")


@pytest.fixture
def carseats(tmp_path):
    df = _carseats()
    path = tmp_path / "carseats.csv"
    df.to_csv(path, index=False)
    return df, path


def _design(data, cfg: DataConfig):
    table = encode(data, cfg)
    X = np.concatenate([c.X for c in table.chunks()])
    return X, table.features


def test_the_design_matrix_is_formulaics_model_matrix_on_the_same_frame(carseats):
    df, path = carseats
    X, names = _design(path, DataConfig(target=None, formula=FORMULA))
    mm = formulaic.model_matrix(FORMULA.split("~")[1], df)
    assert names == [c for c in mm.columns if c != "Intercept"]
    np.testing.assert_allclose(X, mm[names].to_numpy(dtype=float), rtol=1e-12, atol=1e-9)


def test_the_exact_fit_equals_statsmodels_ols_with_the_same_formula(carseats):
    df, path = carseats
    run = linsgd.fit_file(path, DataConfig(target=None, formula=FORMULA), TrainConfig(solver="exact", seed=0))
    ols = smf.ols(FORMULA, df, eval_env=1).fit()  # np.log is looked up where the formula is written
    ours = run.model.coef_table()
    assert set(ours) - {"(intercept)"} == set(ols.params.index) - {"Intercept"}
    for name, coef in ols.params.items():
        assert ours["(intercept)" if name == "Intercept" else name] == pytest.approx(coef, rel=1e-8, abs=1e-10)


def test_sgd_lands_on_statsmodels_optimum_with_the_formula(carseats):
    df, path = carseats
    run = linsgd.fit_file(path, DataConfig(target=None, formula=FORMULA, standardize=True),
                          TrainConfig(solver="sgd", lr="auto", epochs="auto", average="auto", seed=1))
    gap = run.model.metrics["train"]["optimality_gap"]
    assert gap["relative"] < 1e-3 and gap["max_se_units"] < 1


def test_predict_on_new_rows_equals_statsmodels_predict_and_survives_the_model_file(carseats, tmp_path):
    df, path = carseats
    train, new = df.iloc[:300], df.iloc[300:].drop(columns="Sales")
    run = linsgd.fit_file(train, DataConfig(target=None, formula=FORMULA), TrainConfig(solver="exact", seed=0))
    expected = smf.ols(FORMULA, train, eval_env=1).fit().predict(new).to_numpy()
    np.testing.assert_allclose(run.model.predict_table(new), expected, rtol=1e-9)
    linsgd.save_model(run.model, tmp_path / "m.safetensors")
    model = load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(model.predict_table(new), expected, rtol=1e-9)
    pre = model.preprocessing  # the formula and the levels as JSON values, never a pickle
    assert pre["formula"].startswith("1 + ") and "C(ShelveLoc)" in pre["formula"]
    assert [i["levels"] for i in pre["inputs"] if i["name"] == "ShelveLoc"] == [["Bad", "Good", "Medium"]]
    json.dumps(pre)


def test_a_streamed_file_gives_the_rows_and_the_fit_held_in_memory(tmp_path):
    """A level that first appears in the file's last rows still gets its column in every block (the levels
    come from the first pass), and the spilled rows give the same exact fit."""
    rng = np.random.default_rng(4)
    n = 6000
    city = np.where(np.arange(n) < n - 50, rng.choice(["Lyon", "Nice"], n), "Paris")
    area, lot = rng.uniform(20, 200, n), rng.uniform(50, 900, n)
    price = 3 * area + 40 * np.log(lot) + np.where(city == "Paris", 90.0, np.where(city == "Nice", 20.0, 0.0))
    df = pd.DataFrame({"area": area, "city": city, "lot": lot, "price": price + rng.normal(0, 5, n)})
    path = tmp_path / "h.csv"
    df.to_csv(path, index=False)
    formula = "price ~ area * C(city) + np.log(lot)"
    whole, names = _design(path, DataConfig(target=None, formula=formula))
    blocks, names_blocks = _design(path, DataConfig(target=None, formula=formula, chunk_bytes=4096))
    assert names == names_blocks and "C(city)[T.Paris]" in names
    np.testing.assert_array_equal(blocks, whole)
    cfg = TrainConfig(solver="exact", seed=0)
    memory = linsgd.fit_file(path, DataConfig(target=None, formula=formula), cfg)
    streamed = linsgd.fit_file(path, DataConfig(target=None, formula=formula, chunk_bytes=4096, max_memory=20_000),
                               cfg)
    assert streamed.streamed and not memory.streamed
    np.testing.assert_allclose(streamed.model.w, memory.model.w, rtol=1e-9)
    ols = smf.ols(formula, df, eval_env=1).fit()
    assert streamed.model.coef_table()["C(city)[T.Paris]"] == pytest.approx(ols.params["C(city)[T.Paris]"], rel=1e-8)


def test_a_numeric_column_inside_c_is_a_category_in_numeric_order_and_a_number_elsewhere(tmp_path):
    rng = np.random.default_rng(0)
    rooms = rng.integers(1, 12, 400)
    df = pd.DataFrame({"rooms": rooms, "z": rng.normal(0, 1, 400)})
    df["y"] = rooms % 3 + 0.5 * df.z * rooms + rng.normal(0, 0.1, 400)
    formula = "y ~ C(rooms) + z:rooms"
    run = linsgd.fit_file(df, DataConfig(target=None, formula=formula), TrainConfig(solver="exact", seed=0))
    ols = smf.ols(formula, df).fit()
    assert list(run.model.coef_table())[:-1] == list(ols.params.index[1:])  # C(rooms)[T.2] … C(rooms)[T.11]
    np.testing.assert_allclose(list(run.model.coef_table().values())[:-1], ols.params.to_numpy()[1:], rtol=1e-8)
    new = pd.DataFrame({"rooms": [12, 3], "z": [1.0, 1.0]})  # 12: a level unseen in training, still a number
    expected = run.model.b + 12 * run.model.coef_table()["z:rooms"]
    assert run.model.predict_table(new)[0] == pytest.approx(expected, rel=1e-12)


def test_the_column_listing_names_every_term(cli, carseats, tmp_path):
    _, path = carseats
    code, out, err = cli("train", path, "--formula", FORMULA, "--solver", "exact", "--out", tmp_path / "run")
    assert code == 0, err
    assert "categorical: 3 levels, reference 'Bad'; formula terms: C(ShelveLoc)" in out
    for line in ("term Price:Income: Price:Income", "term C(ShelveLoc): C(ShelveLoc)[T.Good], C(ShelveLoc)[T.Medium]",
                 "term np.log(Advertising + 1): np.log(Advertising + 1)", "term I(Age ** 2): I(Age ** 2)"):
        assert line in out
    assert "Population" in out and "excluded (not in the formula)" in out  # nothing silent: unused columns too
    code, out, err = cli("summary", tmp_path / "run" / "model.safetensors", path)
    assert code == 0, err
    ols = smf.ols(FORMULA, _carseats(), eval_env=1).fit()
    row = next(line for line in out.splitlines() if line.startswith("C(ShelveLoc)[T.Good] "))
    assert float(row.split()[2]) == pytest.approx(ols.bse["C(ShelveLoc)[T.Good]"], rel=1e-3)  # printed to 4 digits
    code, out, err = cli("predict", tmp_path / "run" / "model.safetensors", path, "--out", tmp_path / "p.csv")
    assert code == 0, err
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["prediction"],
                               smf.ols(FORMULA, _carseats(), eval_env=1).fit().fittedvalues, rtol=1e-9)


@pytest.mark.parametrize("flags,needle", [
    (["--formula", "Sales ~ Price +"], "--formula=Sales ~ Price + is not allowed: formulaic cannot read it"),
    (["--formula", "Sales ~ Price - 1"], "the intercept kept"),
    (["--formula", "Sales ~ center(Price)"], "term 'center(Price)' needs statistics of every row"),
    (["--formula", "np.log(Sales) ~ Price"], "the left side must name the target column"),
    (["--formula", "Sales ~ Price", "--missing", "impute"], "--missing=impute is not allowed"),
    (["--formula", "Sales ~ Price", "--features", "Price,Age"], "--features=Price,Age is not allowed"),
    (["--formula", "Sales ~ Price", "--hash-bits", "4"], "--hash-bits=4 is not allowed: none with a formula"),
    (["--formula", "Sales ~ Price + Age", "--exclude", "Age"], "--exclude=Age is not allowed"),
    (["--formula", "Sales ~ Price + C(Age > 50)"], "'C(Age > 50)' takes its levels from an expression"),
    (["--formula", "Sales ~ Price + nope"], "--formula reads column 'nope', which the data does not have"),
    (["--formula", "Sales ~ Price + np.log(Advertising)"], f":{FIRST_ZERO_AD}: column 'Advertising': formula term "
                                                           f"'np.log(Advertising)' is -inf"),
])
def test_bad_formulas_are_one_line_naming_the_flag_term_or_column(cli, carseats, tmp_path, flags, needle):
    df, path = carseats
    assert int(np.flatnonzero(df["Advertising"].to_numpy() == 0)[0]) + 2 == FIRST_ZERO_AD
    code, out, err = cli("train", path, *flags, "--solver", "exact", "--out", tmp_path / "run")
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run" / "model.safetensors").exists()


def _onnx_feeds(session, df: pd.DataFrame) -> dict:
    return {i.name: (df[i.name].to_numpy(dtype=object) if i.type == "tensor(string)"
                     else df[i.name].to_numpy(dtype=float)).reshape(-1, 1) for i in session.get_inputs()}


def test_onnx_export_reproduces_the_formula_on_new_rows(carseats, tmp_path, cli):
    ort = pytest.importorskip("onnxruntime")
    df, path = carseats
    code, _, err = cli("train", path, "--formula", FORMULA, "--solver", "exact", "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = cli("export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 0, err
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    new = df.drop(columns="Sales")
    expected = smf.ols(FORMULA, df, eval_env=1).fit().predict(new).to_numpy()
    np.testing.assert_allclose(session.run(None, _onnx_feeds(session, new))[0], expected, rtol=1e-9)


def test_onnx_export_refuses_a_term_without_a_translation_in_one_line(carseats, tmp_path, cli):
    pytest.importorskip("onnx")
    _, path = carseats
    code, _, err = cli("train", path, "--formula", "Sales ~ Price + np.sin(Age)", "--solver", "exact",
                       "--out", tmp_path / "run")
    assert code == 0, err
    code, _, err = cli("export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "formula term 'np.sin(Age)' has no ONNX translation" in err
    assert not (tmp_path / "m.onnx").exists()


def test_linear_regressor_with_a_formula_equals_statsmodels_and_keeps_scikit_learns_conventions():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score

    df = _carseats()
    rhs = FORMULA.split("~")[1].strip()
    train, new = df.iloc[:300], df.iloc[300:]
    m = linsgd.LinearRegressor(formula=rhs, solver="exact").fit(train.drop(columns="Sales"), train["Sales"])
    ols = smf.ols(FORMULA, train, eval_env=1).fit()
    np.testing.assert_allclose(m.predict(new.drop(columns="Sales")), ols.predict(new), rtol=1e-9)
    assert list(m.get_feature_names_out()) == [c for c in formulaic.model_matrix(rhs, train).columns
                                               if c != "Intercept"]
    assert m.n_features_in_ == 10 and list(m.feature_names_in_) == list(df.columns.drop("Sales"))
    halves = clone(m).partial_fit(train.iloc[:150].drop(columns="Sales"), train["Sales"][:150])
    halves.partial_fit(train.iloc[150:].drop(columns="Sales"), train["Sales"][150:])
    np.testing.assert_allclose(halves.coef_, m.coef_, rtol=1e-8)
    scores = cross_val_score(clone(m), df.drop(columns="Sales"), df["Sales"], cv=KFold(3))
    for score, (a, b) in zip(scores, KFold(3).split(df), strict=True):  # statsmodels on the same folds
        fold, test = df.iloc[a], df.iloc[b]
        residual = test["Sales"] - smf.ols(FORMULA, fold, eval_env=1).fit().predict(test)
        assert score == pytest.approx(1 - (residual ** 2).sum() / ((test["Sales"] - test["Sales"].mean()) ** 2).sum(),
                                      rel=1e-9)


@pytest.mark.parametrize("X,formula,needle", [
    ("array", "Price", "pass X as a DataFrame"),
    ("frame", "Sales ~ Price", "the right side of a formula"),
    ("frame", "Price - 1", "the intercept kept"),
])
def test_linear_regressor_refuses_a_formula_it_cannot_apply(X, formula, needle):
    pytest.importorskip("sklearn")
    df = _carseats()
    data = df[["Price"]].to_numpy() if X == "array" else df.drop(columns="Sales")
    with pytest.raises(linsgd.LinsgdError, match=needle.replace("(", r"\(")):
        linsgd.LinearRegressor(formula=formula, solver="exact").fit(data, df["Sales"])


def test_the_summary_of_a_formula_fit_equals_statsmodels(carseats):
    df, path = carseats
    run = linsgd.fit_file(path, DataConfig(target=None, formula=FORMULA), TrainConfig(solver="exact", seed=0))
    table = linsgd.summarize(run.result.solution)
    ols = smf.ols(FORMULA, df, eval_env=1).fit()
    for name, se in zip(table.names, table.se, strict=True):
        assert se == pytest.approx(ols.bse["Intercept" if name == "intercept" else name], rel=1e-7)
    assert table.r2 == pytest.approx(ols.rsquared, rel=1e-10)


def test_evaluate_reads_the_formula_and_an_unknown_level_predicts_as_the_reference(cli, carseats, tmp_path):
    df, path = carseats
    train, held = df.iloc[:300], df.iloc[300:]
    train.to_csv(tmp_path / "train.csv", index=False)
    held.to_csv(tmp_path / "held.csv", index=False)
    code, _, err = cli("train", tmp_path / "train.csv", "--formula", FORMULA, "--solver", "exact",
                       "--out", tmp_path / "run")
    assert code == 0, err
    code, out, err = cli("evaluate", tmp_path / "run" / "model.safetensors", tmp_path / "held.csv", "--json")
    assert code == 0, err
    residual = held["Sales"] - smf.ols(FORMULA, train, eval_env=1).fit().predict(held)
    assert json.loads(out)["mse"] == pytest.approx((residual ** 2).mean(), rel=1e-9)
    model = load_model(tmp_path / "run" / "model.safetensors")
    odd = held.head(2).assign(ShelveLoc=["Excellent", "Bad"])  # a level no training row had, then the reference
    as_reference = held.head(2).assign(ShelveLoc=["Bad", "Bad"])
    np.testing.assert_allclose(model.predict_table(odd), model.predict_table(as_reference), rtol=1e-12)
    from linsgd.data.first_pass import Encoded, open_typed

    table = Encoded(open_typed(odd, DataConfig(target=None)), model.preprocessor)
    list(table.blocks())
    assert table.unseen == {"ShelveLoc": 1}  # counted, and reported by predict


def test_a_model_file_whose_formula_does_not_yield_its_columns_is_refused(carseats, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    _, path = carseats
    run = linsgd.fit_file(path, DataConfig(target=None, formula="Sales ~ Price + C(ShelveLoc)"),
                          TrainConfig(solver="exact", seed=0))
    linsgd.save_model(run.model, tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), "np") as f:
        meta = f.metadata()
    pre = json.loads(meta["preprocessing"])
    pre["formula"] = "1 + Price + C(ShelveLoc) + I(Price ** 2)"  # a term the stored columns do not have
    save_file(load_file(tmp_path / "m.safetensors"), tmp_path / "bad.safetensors",
              metadata=meta | {"preprocessing": json.dumps(pre)})
    with pytest.raises(linsgd.DataError, match="not a valid linsgd model: preprocessing formula"):
        load_model(tmp_path / "bad.safetensors")


def test_a_formula_run_is_the_same_on_both_engines(carseats):
    pytest.importorskip("torch")
    _, path = carseats
    runs = [linsgd.fit_file(path, DataConfig(target=None, formula=FORMULA, standardize=True),
                            TrainConfig(solver="sgd", lr=0.02, epochs=2, batch_size=8, engine=engine, seed=3,
                                        dtype="float64"))
            for engine in ("fused", "reference")]
    np.testing.assert_allclose(runs[0].model.w, runs[1].model.w, rtol=1e-9, atol=1e-12)
    assert runs[0].model.b == pytest.approx(runs[1].model.b, rel=1e-9)


def test_a_resumed_formula_run_equals_the_uninterrupted_one(cli, carseats, tmp_path):
    _, path = carseats
    common = ("train", path, "--formula", FORMULA, "--standardize", "--solver", "sgd", "--lr", 0.02, "--seed", 4,
              "--quiet")
    assert cli(*common, "--epochs", 3, "--out", tmp_path / "full")[0] == 0
    run = tmp_path / "run"
    assert cli(*common, "--epochs", 1, "--out", run, "--checkpoint-every", "1epoch")[0] == 0
    assert cli(*common, "--epochs", 3, "--out", run, "--checkpoint-every", "1epoch", "--resume")[0] == 0
    a, b = load_model(tmp_path / "full" / "model.safetensors"), load_model(run / "model.safetensors")
    assert np.array_equal(a.w, b.w) and a.b == b.b
    other = ("train", path, "--formula", "Sales ~ Price + C(ShelveLoc)", *common[4:])
    code, _, err = cli(*other, "--epochs", 3, "--out", run, "--resume")  # another formula: other rows
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_linsgd_fit_with_a_formula_equals_statsmodels_and_takes_several_targets():
    df = _carseats()
    r = linsgd.fit(df, formula=FORMULA, solver="exact")
    ols = smf.ols(FORMULA, df, eval_env=1).fit()
    for name, coef in r.coef_table().items():
        assert coef == pytest.approx(ols.params["Intercept" if name == "(intercept)" else name], rel=1e-8)
    both = linsgd.fit(df, formula="Sales + Price ~ Income + C(ShelveLoc)", solver="exact")
    assert both.target_names == ["Sales", "Price"]
    for j, target in enumerate(["Sales", "Price"]):
        alone = smf.ols(f"{target} ~ Income + C(ShelveLoc)", df).fit()
        np.testing.assert_allclose(both.w[:, j], alone.params.drop("Intercept")[both.results[j].feature_names],
                                   rtol=1e-8)
    with pytest.raises(linsgd.ConfigError, match="y None"):
        linsgd.fit(df, df["Sales"], formula=FORMULA)
    with pytest.raises(linsgd.DataError, match="no column 'nope'"):
        linsgd.fit(df, formula="Sales ~ nope")


def test_onnx_translates_every_listed_function_and_operator(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from linsgd.export import to_onnx

    rng = np.random.default_rng(8)
    n = 300
    df = pd.DataFrame({"area": rng.uniform(20, 200, n), "rooms": rng.integers(1, 6, n).astype(float),
                       "lot": rng.uniform(50, 900, n), "city": rng.choice(["Lyon", "Nice"], n)})
    df["price"] = 3 * df.area + np.log(df.lot) + rng.normal(0, 1, n)
    formula = ("price ~ np.log10(lot) + np.sqrt(area) + np.abs(area - 100) + I(-rooms / 2) + np.exp(rooms / 10)"
               " + np.log2(area) * C(city) + C(rooms):area + I(area ** 2 + 1)")
    run = linsgd.fit_file(df, DataConfig(target=None, formula=formula), TrainConfig(solver="exact", seed=0))
    to_onnx(run.model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    new = df.drop(columns="price").sample(50, random_state=1)
    np.testing.assert_allclose(session.run(None, _onnx_feeds(session, new))[0], run.model.predict_table(new),
                               rtol=1e-9)
