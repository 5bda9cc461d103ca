"""PyTorch and scikit-learn are optional: without them the fused engine, the CLI and file training work,
and what needs them says which extra to install in one line (exit 2 on the CLI), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

# Stand-ins that fail to import the way a missing package does, placed first on the path.
_BLOCKED = ("torch", "sklearn")


@pytest.fixture
def without_extras(tmp_path):
    for name in _BLOCKED:
        (tmp_path / "blocked" / name).mkdir(parents=True)
        (tmp_path / "blocked" / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}'\", name='{name}')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "blocked"), *sys.path])}

    def run(*args: str, code: str | None = None):
        argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "linsgd", *args]
        return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)

    return run


def test_the_stand_ins_really_hide_the_packages(without_extras):
    proc = without_extras(code="import torch")
    assert proc.returncode == 1 and "No module named 'torch'" in proc.stderr


def test_demo_train_and_fit_work_without_torch_and_sklearn(without_extras, tmp_path):
    assert without_extras("demo", "--seed", "1", "--out", "demo").returncode == 0
    assert (tmp_path / "demo" / "loss.png").exists()
    X = np.random.default_rng(0).normal(size=(200, 2))
    np.save(tmp_path / "d.npy", np.column_stack([X, X @ [2.0, -1.0] + 0.5]))
    train = without_extras("train", "d.npy", "--target", "2", "--out", "run", "--seed", "0", "--epochs", "20")
    assert train.returncode == 0, train.stderr
    assert (tmp_path / "run" / "model.safetensors").exists()
    code = ("import sys, linsgd\n"
            "X, y = linsgd.make_regression(1000, [2, -3.4], 4.2, seed=0)\n"
            "r = linsgd.fit(X, y, seed=0)\n"
            "assert abs(r.w - [2, -3.4]).max() < 5e-3, r.w\n"
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules\n")
    proc = without_extras(code=code)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("args, extra", [(("demo", "--engine", "reference"), "torch")])
def test_the_cli_names_the_extra_in_one_line_and_exits_2(without_extras, args, extra):
    proc = without_extras(*args, "--out", "never")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"pip install 'linsgd[{extra}]'" in proc.stderr


@pytest.mark.parametrize("code, extra", [
    ("import linsgd; linsgd.fit([[1.0], [2.0]], [1.0, 2.0], engine='reference')", "torch"),
    ("import linsgd.scratch", "torch"),
    ("import linsgd; linsgd.LinearRegressor()", "sklearn"),
])
def test_the_api_raises_missing_extra_error_naming_the_extra(without_extras, code, extra):
    proc = without_extras(code=f"from linsgd.errors import MissingExtraError\ntry:\n    {code}\n"
                               f"except MissingExtraError as e:\n    print(e)\n")
    assert proc.returncode == 0, proc.stderr
    assert f"pip install 'linsgd[{extra}]'" in proc.stdout
