"""A CSV's dates in every ISO form roles.DATE_TEXT accepts, next to True/False and text columns with gaps: read
the same with --on-bad-rows skip (parsed leniently, cell by cell) as with error (the reader's own parse)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.model import load_model

FORMS = ["2020-01-{d:02d}", "2020-01-{d:02d}T03:04:05", "2020-01-{d:02d} 03:04:05", "2020-01-{d:02d}T03:04",
         "2020-01-{d:02d} 03:04", "2020-01-{d:02d} 03:04:05.75"]


def _write(path, bad_date: str | None = None):
    rng = np.random.default_rng(7)
    lines = ["when,city,flag,x,y"]
    for i in range(240):
        when = FORMS[i % len(FORMS)].format(d=1 + i % 28)
        city = ["a", "b", ""][i % 3]
        flag = ["True", "False"][(i // 3) % 2]
        x = rng.normal()
        y = 0.1 * (1 + i % 28) + (city == "a") * 1.5 + (flag == "True") * 0.5 + 2 * x + 0.01 * rng.normal()
        lines.append(f"{when},{city},{flag},{x!r},{y!r}")
    if bad_date:
        lines.append(f"{bad_date},a,True,0.5,1.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def _model(cli, data, out, *flags):
    code, text, err = cli("train", data, "--target", "y", "--solver", "exact", "--missing", "impute", "--seed", 0,
                          "--out", out, *flags)
    assert code == 0, err
    return load_model(out / "model.safetensors"), text


def test_skip_reads_every_date_form_as_the_strict_reader(cli, tmp_path):
    data = _write(tmp_path / "d.csv")
    strict, text = _model(cli, data, tmp_path / "strict")
    lenient, _ = _model(cli, data, tmp_path / "lenient", "--on-bad-rows", "skip")
    assert "when  date: days since 1970-01-01" in text and "flag  categorical: 2 levels" in text
    assert strict.preprocessor.names == lenient.preprocessor.names
    np.testing.assert_allclose(lenient.w, strict.w, rtol=1e-10, atol=1e-12)
    assert lenient.b == pytest.approx(strict.b, rel=1e-10, abs=1e-12)
    assert strict.w[strict.preprocessor.names.index("when")] == pytest.approx(0.1, abs=5e-3)  # 0.1 per day


@pytest.mark.parametrize("bad", ["2020-13-45", "2020-01-01X03:04"])
def test_a_date_that_no_form_fits_is_a_bad_row_skipped(cli, tmp_path, bad):
    good = _model(cli, _write(tmp_path / "good.csv"), tmp_path / "good", "--on-bad-rows", "skip")[0]
    model, text = _model(cli, _write(tmp_path / "d.csv", bad_date=bad), tmp_path / "r", "--on-bad-rows", "skip")
    assert "skipped 1 bad rows (--on-bad-rows skip)" in text
    np.testing.assert_allclose(model.w, good.w, rtol=1e-10, atol=1e-12)
