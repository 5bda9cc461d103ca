"""What a statistician reads: full and unique names, the rows left out and why, real column names and short
lists in the design's messages, a named column for text in linsgd.exact."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import linsgd


def _countries(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # names that agree on their first 14 characters: a table cut at 14 would print duplicates
    levels = ["Korea, Republic of", "Korea, Democratic People's Republic of", "Saint Vincent and the Grenadines"]
    df = pd.DataFrame({"country": rng.choice(levels, n), "x": rng.standard_normal(n)})
    df["y"] = 2 * df["x"] + (df["country"] == levels[1]) + rng.normal(0, 0.1, n)
    df.loc[:49, "y"] = np.nan  # 50 rows with an empty target
    return df


def test_summary_prints_full_unique_names_and_the_rows_left_out(cli, tmp_path):
    path = tmp_path / "c.csv"
    _countries().to_csv(path, index=False)
    assert cli("train", path, "--target", "y", "--missing", "drop", "--out", tmp_path / "r", "--seed", 0)[0] == 0
    code, out, err = cli("summary", tmp_path / "r" / "model.safetensors", path)
    assert code == 0, err
    names = [line.split("  ")[0] for line in out.splitlines()[1:4]]
    assert sorted(names) == ["country=Korea, Republic of", "country=Saint Vincent and the Grenadines", "x"]
    assert "rows: 550 of 600 used; left out: 50 with an empty cell in 'y' (the target)" in out
    code, out, _ = cli("summary", tmp_path / "r" / "model.safetensors", path, "--json")
    rows = json.loads(out)["rows"]
    assert (rows["used"], rows["total"], rows["dropped"]) == (550, 600, {"y": 50})


def test_a_collinear_design_names_the_real_columns_and_shortens_a_long_combination(tmp_path):
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame({f"level{j}": (np.arange(n) % 8 == j).astype(float) for j in range(7)})
    df["speed"] = rng.standard_normal(n)
    df["sum_of_levels"] = df[[f"level{j}" for j in range(7)]].sum(axis=1)  # a linear combination of 7 columns
    df["y"] = df["speed"] + rng.normal(0, 0.1, n)
    with pytest.raises(linsgd.DataError) as info:
        linsgd.fit_file(df, linsgd.DataConfig(target="y"), linsgd.TrainConfig(solver="exact"))
    message = str(info.value)
    assert "column 'sum_of_levels' is a linear combination" in message and "x8" not in message
    assert message.count("·level") == 5 and "… and 2 more columns" in message


def test_exact_names_a_text_column_of_a_dataframe():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "city": ["Oslo", "Bergen", "Oslo", "Bergen"]})
    with pytest.raises(linsgd.DataError, match=r"column 'city' is text \(e.g. 'Oslo'\).*linsgd.fit_file"):
        linsgd.exact(df, [1.0, 2.0, 3.0, 5.0])
    assert linsgd.exact(df[["a"]], [1.0, 2.0, 3.0, 5.0]).w == pytest.approx([1.3])
