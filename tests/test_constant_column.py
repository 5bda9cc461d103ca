"""A constant column is named by the value the user has in the file, not by its standardised value (0)."""

from __future__ import annotations

import pytest


@pytest.fixture
def constant(tmp_path):
    def make(value: str):
        path = tmp_path / "c.csv"
        path.write_text("x1,x2,y\n" + "".join(f"{value},{i % 5},{i % 7}\n" for i in range(30)))
        return path
    return make


@pytest.mark.parametrize("value", ["7", "0.1", "-2.5e+06"])
@pytest.mark.parametrize("flags", [("--solver", "exact"), ("--solver", "exact", "--standardize"),
                                   ("--solver", "exact", "--lr", "0.01")])
def test_the_exact_solver_names_a_constant_column_by_the_users_value(cli, constant, tmp_path, value, flags):
    code, _, err = cli("train", constant(value), "--target", "y", "--out", tmp_path / "r", *flags)
    assert code == 2 and err.count("\n") == 1, err
    assert f"column 'x1' is constant (every value is {float(value):g}): it repeats the intercept" in err, err


def test_an_sgd_run_says_the_users_value_where_the_optimality_gap_is_unavailable(cli, constant, tmp_path):
    code, out, err = cli("train", constant("7"), "--target", "y", "--out", tmp_path / "r", "--seed", 0,
                         "--epochs", 2, "--lr", "auto")
    assert code == 0, err
    assert "optimality gap: unavailable (column 'x1' is constant (every value is 7):" in out, out
