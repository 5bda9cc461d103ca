"""The statistical table's layout against a hand count of its columns (what mutation testing of
lstsq/summary.py found unpinned)."""

from __future__ import annotations

import numpy as np

from linsgd.lstsq.qr import exact
from linsgd.lstsq.summary import summarize

# the columns after the names: coef 14, std err 12, t 10, P>|t| 10, CI low 14, high 14
FIELDS = 14 + 12 + 10 + 10 + 14 + 14


def test_a_long_name_widens_the_first_column_to_the_name_and_two_spaces():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(30)
    name = "a_rather_long_name_1"  # 20 characters: wider than the 14 of the first column's minimum
    table = str(summarize(exact(X, y, feature_names=[name, "b"]))).splitlines()
    head, rows = table[0], table[1:4]  # the header, then x1, x2 and the intercept
    assert [len(line) for line in [head, *rows]] == [len(name) + 2 + FIELDS] * 4
    assert rows[0].startswith(name + "  ") and rows[2].startswith("intercept" + " " * (len(name) + 2 - 9))


def test_short_names_keep_the_first_column_at_fourteen():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(30)
    table = str(summarize(exact(X, y, feature_names=["twelve_chars", "b"]))).splitlines()
    assert [len(line) for line in table[:4]] == [14 + FIELDS] * 4
