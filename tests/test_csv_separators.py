"""A .tsv file is read tab-separated; a file separated by something else than commas is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.model import load_model


def _rows(sep: str) -> str:
    x = np.arange(30)
    return f"a{sep}b{sep}y\n" + "".join(f"{i}{sep}{i % 4}{sep}{2 * i - (i % 4) + 1}\n" for i in x)


def test_a_tsv_file_trains_as_the_same_rows_in_a_csv_file(cli, tmp_path):
    (tmp_path / "d.tsv").write_text(_rows("\t"))
    (tmp_path / "d.csv").write_text(_rows(","))
    models = []
    for name in ("d.tsv", "d.csv"):
        code, out, err = cli("train", tmp_path / name, "--target", "y", "--out", tmp_path / name[2:], "--seed", 0)
        assert code == 0, err
        assert "a  numeric feature" in out and "b  numeric feature" in out, out
        models.append(load_model(tmp_path / name[2:] / "model.safetensors").coef_table())
    assert models[0] == models[1]
    assert models[0]["a"] == pytest.approx(2.0) and models[0]["b"] == pytest.approx(-1.0)


@pytest.mark.parametrize(("sep", "shown"), [(";", "';'"), ("\t", "tabs"), ("|", "'|'")])
def test_a_file_separated_otherwise_is_refused_naming_the_separator(cli, tmp_path, sep, shown):
    (tmp_path / "d.csv").write_text(_rows(sep))
    code, out, err = cli("train", tmp_path / "d.csv", "--target", "y", "--out", tmp_path / "run")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "d.csv:1: the header is one column" in err and f"looks separated by {shown}" in err, err
    assert not (tmp_path / "run").exists()
