"""examples/chapter.ipynb runs top to bottom without an error (each cell within nbclient's timeout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "chapter.ipynb"


def test_the_chapter_notebook_runs(tmp_path, monkeypatch):
    src = str(Path(__file__).resolve().parents[1] / "src")  # the kernel imports this checkout's linsgd
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()  # raises CellExecutionError on the first cell that fails
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "epoch 3, loss" in text and "the trace ends where fit ends" in text and "your loop: w =" in text
    # the chapter's scatter, then the scatter, loss and path drawn by lesson.draw from the recorded w, b
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 4
    # the sliders: a live widget view (its redraws go to the browser, tested in tests/test_demo_truth.py)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    sources = "".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "lesson.draw(features, labels, ws, bs" in sources and "plots_demo" not in sources
