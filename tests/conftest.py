"""Shared fixtures: the chapter's data, the engines every engine test runs on, the CLI in-process."""

from __future__ import annotations

import pytest

from linsgd.data.synthetic import make_regression

TRUE_W, TRUE_B = [2.0, -3.4], 4.2
ENGINES = ("reference", "fused")


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    """Every engine test runs on every engine (design §2.7: the faithful path is the oracle)."""
    return request.param


@pytest.fixture
def chapter_data():
    """The chapter's data set: n = 1000, w = [2, -3.4], b = 4.2, σ = 0.01 (seed 0)."""
    return make_regression(1000, TRUE_W, TRUE_B, noise=0.01, seed=0)


@pytest.fixture
def cli(capsys):
    """Run ``linsgd ARGS…`` in-process; returns (exit code, stdout, stderr)."""
    from linsgd.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
