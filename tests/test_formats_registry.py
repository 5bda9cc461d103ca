"""The registry of input formats: every suffix names one format, ``--format`` picks one by name whatever the
file is called, and a new format is one Source subclass plus one line of ``FORMATS``."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from linsgd.config import DataConfig, TrainConfig
from linsgd.data.first_pass import encode
from linsgd.data.formats import registry
from linsgd.data.formats.base import Source
from linsgd.data.formats.registry import Format, format_of, open_source, read_formats
from linsgd.errors import ConfigError
from linsgd.runs.run import fit_file


def _rows(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = X @ [1.5, -2.0] + 0.5 + 0.1 * rng.standard_normal(n)
    return X, y, np.linalg.lstsq(np.column_stack([X, np.ones(n)]), y, rcond=None)[0]


def test_every_suffix_names_exactly_one_format_and_every_one_is_listed():
    suffixes = [s for f in registry.FORMATS for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)) and all(s == s.lower() and s.startswith(".") for s in suffixes)
    listed = read_formats()
    assert all(s in listed for s in suffixes)
    assert {f.name for f in registry.FORMATS} >= {"csv", "parquet", "npy", "arrow", "jsonl", "frame"}


@pytest.mark.parametrize("name, suffix", [("csv", ".tsv"), ("parquet", ".pq"), ("npy", ".npy"),
                                          ("arrow", ".feather"), ("jsonl", ".ndjson")])
def test_the_suffix_picks_the_format(tmp_path, name, suffix):
    path = tmp_path / f"d{suffix}"
    path.write_bytes(b"x")
    assert format_of(path).name == name


def test_a_format_named_reads_a_file_whatever_its_suffix(tmp_path, cli):
    X, y, expect = _rows()
    path = tmp_path / "d.txt"  # by its suffix a CSV file
    path.write_text("".join(json.dumps({"a": a, "b": b, "y": t}) + "\n" for (a, b), t in zip(X, y, strict=True)))
    with pytest.raises(Exception, match="not found"):  # read as CSV: one column per JSON fragment, no 'y'
        encode(path, DataConfig(target="y"))
    run = fit_file(path, DataConfig(target="y", format="jsonl"), TrainConfig(solver="exact"))
    np.testing.assert_allclose(np.append(run.model.w, run.model.b), expect, rtol=1e-10)
    out = tmp_path / "run"
    code, _, err = cli("train", path, "--target", "y", "--format", "jsonl", "--solver", "exact", "--quiet",
                       "--out", out)
    assert code == 0, err
    code, stdout, err = cli("evaluate", out / "model.safetensors", path, "--format", "jsonl", "--json")
    assert code == 0 and json.loads(stdout)["n"] == len(y), err


def test_an_unknown_format_name_is_a_flag_error_listing_the_names(tmp_path, cli):
    X, y, _ = _rows(20)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="")
    code, _, err = cli("train", path, "--target", "y", "--format", "xlsx", "--out", tmp_path / "r")
    assert code == 2 and err.count("\n") == 1, err
    assert "--format=xlsx is not allowed: one of csv, parquet, npy, arrow, jsonl" in err, err
    assert "frame" not in err  # tables in memory are recognised by their type, never named
    assert not (tmp_path / "r").exists()
    with pytest.raises(ConfigError, match="format"):
        open_source(path, target="y", format="xlsx")


class _PipeSource(Source):
    """A new format for the test: ``a|b|y`` lines of numbers (header first), in one batch."""

    def __init__(self, path, **kw) -> None:
        lines = [line.split("|") for line in open(path).read().split("\n") if line]
        self.table = pa.table({name: [float(r[j]) for r in lines[1:]] for j, name in enumerate(lines[0])})
        self.types, self.num_rows = list(self.table.schema.types), self.table.num_rows
        super().__init__(path, list(self.table.column_names), **kw)

    def batches(self, types=None):
        batch = self.table.select(self.selected).to_batches()[0]
        yield batch, None, np.arange(2, 2 + batch.num_rows), self.path


def test_a_new_format_is_a_source_and_one_registry_line(tmp_path, monkeypatch):
    X, y, expect = _rows()
    path = tmp_path / "d.pipe"
    path.write_text("a|b|y\n" + "".join(f"{a:.17g}|{b:.17g}|{t:.17g}\n" for (a, b), t in zip(X, y, strict=True)))
    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, Format("pipe", "pipes", (".pipe",), b"", _PipeSource)))
    assert format_of(path).name == "pipe" and ".pipe" in read_formats()
    run = fit_file(path, DataConfig(target="y"), TrainConfig(solver="exact"))
    assert run.columns == {"a": "numeric", "b": "numeric", "y": "target"}
    np.testing.assert_allclose(np.append(run.model.w, run.model.b), expect, rtol=1e-10)
