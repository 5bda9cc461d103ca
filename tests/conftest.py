"""Shared helpers: run the CLI in-process, and the engines available on this branch."""

from __future__ import annotations

import importlib.util

import pytest

from linsgd.cli import main

ENGINES = ["reference"] + (["fused"] if importlib.util.find_spec("linsgd.engines.fused") else [])


@pytest.fixture
def cli(capsys):
    """Run ``linsgd ARGS…``; returns (exit code, stdout, stderr)."""

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param
