"""A spy for the tests of losses measured inside the kernels (dense lockstep and sparse row losses)."""

from __future__ import annotations

from linsgd.sgd import loss_later


def count_measured(monkeypatch, measure_class) -> list:
    """Two cores whatever the machine, and a list that grows by one each time ``measure_class.result`` (a
    loss the kernel measured) is read."""
    calls = []
    real = measure_class.result

    def spy(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(loss_later, "available_cores", lambda: 2)
    monkeypatch.setattr(measure_class, "result", spy)
    return calls
