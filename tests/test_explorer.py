"""`linsgd demo --html`: one standalone page; in a real headless browser (Debian's chromium) it loads
without a console message, each slider redraws the path, and its SGD is linsgd's where no randomness is left."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from linsgd.config import TrainConfig
from linsgd.data.synthetic import make_regression
from linsgd.sgd.trace import trace

CHROMIUM = shutil.which("chromium")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make browser` installs "
                                                            "Debian's chromium where apt and root are available)")


def headless(page, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    """Open ``page`` in a fresh headless chromium profile (killed after 120 s by subprocess.run)."""
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", *extra, page],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from linsgd.cli import main

    out = tmp_path_factory.mktemp("explorer")
    assert main(["demo", "--seed", "1", "--num-examples", "200", "--html", "--out", str(out)]) == 0
    return out / "explorer.html"


def test_the_page_stands_alone(page):
    html = page.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html and "fetch(" not in html and "import(" not in html
    assert re.findall(r"https?://[^\s\"']+", html) == ["http://www.w3.org/2000/svg"]  # a namespace name, not a load
    data = json.loads(re.search(r"const DATA = (.*);\n", html).group(1).replace("<\\/", "</"))
    X, y = make_regression(200, [2, -3.4], 4.2, noise=0.01, seed=1)
    np.testing.assert_allclose(data["X"], X, atol=1e-6) and np.testing.assert_allclose(data["y"], y, atol=1e-6)
    assert data["epochs"] == 3 and set(data["limits"]) == {"1", "2", "5", "10", "20", "50", "100", "200"}


@needs_browser
def test_in_a_browser_it_loads_quietly_and_every_slider_redraws_the_path(page, tmp_path):
    proc = headless(f"file://{page}#selftest", tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []  # no error, no message at all
    report = json.loads(re.search(r'<pre id="selftest">(.*?)</pre>', proc.stdout).group(1))
    assert report["changed"] == {"lr": True, "batch": True, "std": True, "seed": True}
    # with init std 0 and a batch of all 200 examples nothing is random: the page's SGD must be linsgd's
    X, y = make_regression(200, [2, -3.4], 4.2, noise=0.01, seed=1)
    t = trace(X, y, TrainConfig(lr=0.1, epochs=3, batch_size=200, init_std=0.0, seed=0, engine="reference",
                                solver="sgd", average=False))
    full = report["fullBatch"]
    assert full["steps"] == 3
    np.testing.assert_allclose(full["last"], [t.w[-1, 0], t.w[-1, 1]], rtol=1e-4)
    assert full["loss"] == pytest.approx(t.loss[-1], rel=1e-4)


@needs_browser
def test_a_broken_page_is_caught(page, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(page.read_text(encoding="utf-8").replace("function redraw()", "function redraw_()"),
                      encoding="utf-8")
    proc = headless(f"file://{broken}#selftest", tmp_path, "--dump-dom")
    assert any(":CONSOLE" in line and "redraw" in line for line in proc.stderr.splitlines())
    assert '<pre id="selftest">' not in proc.stdout


@pytest.mark.parametrize("flags", [["--solver", "exact"], ["--epochs", "auto"], ["--compare", "lr=0.1,0.2"],
                                   ["--num-examples", "1000001", "--true-w", "1,2"]])
def test_html_refuses_what_it_cannot_show(cli, tmp_path, flags):
    rc, out, err = cli("demo", "--html", *flags, "--out", tmp_path / "never")
    assert rc == 2 and err.startswith("linsgd demo: error: --html") and not (tmp_path / "never").exists()
