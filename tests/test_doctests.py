"""Every example in a docstring of linsgd runs as written (doctest), and there are enough of them."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import linsgd

MODULES = sorted(m.name for m in pkgutil.walk_packages(linsgd.__path__, "linsgd.") if not m.name.endswith("__main__"))
# the API a newcomer meets first must show itself working
MUST_HAVE_EXAMPLES = ("linsgd.sgd.fit.fit", "linsgd.lstsq.qr.exact", "linsgd.data.batching.epoch_order",
                      "linsgd.estimator.LinearRegressor", "linsgd.scratch")


def _tests(module: str) -> list[doctest.DocTest]:
    return [t for t in doctest.DocTestFinder().find(importlib.import_module(module)) if t.examples]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    for test in _tests(module):
        result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test)
        assert result.failed == 0, test.name


def test_there_are_examples_where_a_newcomer_looks():
    names = {t.name: len(t.examples) for m in MODULES for t in _tests(m)}
    assert all(name in names for name in MUST_HAVE_EXAMPLES), sorted(names)
    assert len(names) >= 15, sorted(names)
