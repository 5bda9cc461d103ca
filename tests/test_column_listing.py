"""Nothing silent: a categorical column with one level in the training rows is listed as giving no column."""

from __future__ import annotations

from linsgd.model import load_model


def test_a_one_level_category_is_listed_as_no_column_and_gets_no_coefficient(cli, tmp_path):
    rows = [f"{i},{'ab'[i % 2]},same,{3 * i + (i % 2)}" for i in range(40)]
    (tmp_path / "d.csv").write_text("x,two,one,y\n" + "\n".join(rows) + "\n")
    code, out, err = cli("train", tmp_path / "d.csv", "--target", "y", "--out", tmp_path / "run", "--seed", 0)
    assert code == 0, err
    listing = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "no column" in listing["one"] and "categorical: 1 level, reference 'same'" in listing["one"]
    assert "no column" not in listing["two"] and "categorical: 2 levels" in listing["two"]
    names = list(load_model(tmp_path / "run" / "model.safetensors").coef_table())
    assert "two=b" in names and not any(n.startswith("one") for n in names), names
