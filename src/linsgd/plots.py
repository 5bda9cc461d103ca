"""Headless matplotlib figures written as PNG files (no pyplot, no display, no global state)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from linsgd.storage import atomic_path


def scatter(x: np.ndarray, y: np.ndarray, path: str | os.PathLike, *, xlabel: str, ylabel: str,
            title: str, size: float = 1.0) -> None:
    """Scatter plot of y against x with marker size ``size`` (the chapter's 1; 50 makes fat dots)."""
    fig, ax = _figure()
    ax.scatter(np.asarray(x), np.asarray(y), s=size)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    _save(fig, path)


def loss_curve(series: dict[str, Sequence[float]], path: str | os.PathLike, *, floor: float | None = None,
               title: str = "training loss", ylabel: str = "mean ½(ŷ − y)²") -> None:
    """Per-epoch loss curves on a log scale, epochs numbered from 1, with an optional floor line."""
    fig, ax = _figure()
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=label)
    if floor is not None and floor > 0:
        ax.axhline(floor, color="gray", linestyle="--", label=f"floor {floor:.2g}")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title, yscale="log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)


def _figure():
    from matplotlib.figure import Figure  # lazy: matplotlib costs ~0.3 s to import

    fig = Figure(figsize=(5, 3.5), dpi=120)
    # Fixed margins for one axes: a layout engine would measure every label (~0.2 s per figure).
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.14, top=0.9)
    return fig, fig.add_subplot()


def _save(fig, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
