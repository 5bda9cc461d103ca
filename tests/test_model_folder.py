"""Every command that takes MODEL takes the run folder `linsgd train --out` wrote as well as its model file."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.errors import DataError
from linsgd.model import load_model


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from linsgd.cli import main

    root = tmp_path_factory.mktemp("folder")
    assert main(["generate", str(root / "d.csv"), "--num-examples", "300", "--num-features", "2", "--seed", "5"]) == 0
    assert main(["train", str(root / "d.csv"), "--target", "y", "--solver", "exact", "--quiet",
                 "--out", str(root / "run")]) == 0
    return root


def test_load_model_of_a_run_folder_is_its_model_file(run):
    a, b = load_model(run / "run"), load_model(run / "run" / "model.safetensors")
    np.testing.assert_array_equal(a.w, b.w)
    assert a.b == b.b and a.metrics == b.metrics


def test_a_folder_without_a_model_is_one_line_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"^.*empty: a folder without model\.safetensors; give a model file or"):
        load_model(tmp_path / "empty")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_take_the_folder(run, cli, tmp_path, command):
    extra = ("--out", tmp_path / "p.csv") if command == "predict" else ()
    by_folder = cli(command, run / "run", run / "d.csv", *extra)
    by_file = cli(command, run / "run" / "model.safetensors", run / "d.csv",
                  *(("--out", tmp_path / "q.csv") if command == "predict" else ()))
    assert by_folder[0] == by_file[0] == 0
    if command == "predict":
        assert (tmp_path / "p.csv").read_bytes() == (tmp_path / "q.csv").read_bytes()
    else:
        model_file = str(run / "run" / "model.safetensors")
        assert by_folder[1].replace(str(run / "run"), "M") == by_file[1].replace(model_file, "M")


def test_an_empty_folder_as_model_is_exit_2(cli, tmp_path, run):
    (tmp_path / "none").mkdir()
    code, _, err = cli("predict", tmp_path / "none", run / "d.csv", "--out", tmp_path / "p.csv")
    assert code == 2 and "a folder without model.safetensors" in err and not (tmp_path / "p.csv").exists()
