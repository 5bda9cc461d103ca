"""A signal held through a critical section and raised when it ends is not lost when a library's callback
swallows that raise (numba leaves its compiler inside its own callbacks): the loop raises it again at the
epoch's end, and a run folder replaces none of its files."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd import _held
from linsgd.storage import replacing_files


class Stop(KeyboardInterrupt):
    """The exception a signal handler would raise (KeyboardInterrupt, as the command's handlers do)."""


@pytest.fixture
def swallowed():
    """A signal arrived inside a section; leaving it raised the signal's exception, which was swallowed."""
    exc = Stop()
    _held.arm()  # as the command does when it installs its handlers
    _held.enter()
    assert _held.hold(exc) is True  # inside a section: kept, not raised
    try:
        _held.leave()
    except Stop as e:  # a library callback catching everything
        assert e is exc
    else:
        pytest.fail("leaving the outermost section did not raise the held exception")
    yield exc
    _held.forget()


def test_a_signal_outside_any_section_is_not_held():
    assert _held.hold(Stop()) is False


def test_outside_a_command_nothing_is_kept_for_later():
    """A library call (no command's handlers) that leaves a section with a held exception keeps nothing that
    a later, unrelated call would raise."""
    _held.enter()
    _held.hold(Stop())
    with pytest.raises(Stop):
        _held.leave()
    _held.raise_pending()  # returns: nothing pending


def test_the_swallowed_exception_is_raised_again_and_forgotten_when_the_command_ends(swallowed):
    with pytest.raises(Stop) as caught:
        _held.raise_pending()
    assert caught.value is swallowed
    _held.forget()
    _held.raise_pending()  # nothing pending: returns
    _held.enter()  # and after the command, a section left with a held exception keeps nothing either
    _held.hold(Stop())
    with pytest.raises(Stop):
        _held.leave()
    _held.raise_pending()


def test_the_loop_stops_at_the_end_of_the_first_epoch(swallowed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X @ np.array([2.0, -3.4]) + 4.2
    with pytest.raises(Stop):
        linsgd.fit(X, y, epochs=5, seed=0, solver="sgd")
    # the same run without a pending signal trains all its epochs
    _held.forget()
    assert len(linsgd.fit(X, y, epochs=5, seed=0, solver="sgd").history) == 5


def test_a_run_folder_replaces_none_of_its_files(swallowed, tmp_path):
    (tmp_path / "model.safetensors").write_text("old")
    with pytest.raises(Stop):
        with replacing_files(tmp_path) as new:
            (new / "model.safetensors").write_text("new")
            (new / "config.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    assert (tmp_path / "model.safetensors").read_text() == "old"
