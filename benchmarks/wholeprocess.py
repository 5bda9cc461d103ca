"""Whole-process wall time: ``python -m linsgd demo`` against a script of the chapter's code."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The chapter end to end as a reader types it in (plots left out): torch, data, 3 epochs, the errors.
CHAPTER_SCRIPT = '''\
import random
import torch

def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))

true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = synthetic_data(true_w, true_b, 1000)
print('features:', features[0], '\\nlabel:', labels[0])

def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]

w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)

def linreg(X, w, b):
    return torch.matmul(X, w) + b

def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

lr, num_epochs, batch_size = 0.03, 3, 10
net, loss = linreg, squared_loss
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = loss(net(X, w, b), y)
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
print(f'error in estimating w: {true_w - w.reshape(true_w.shape)}')
print(f'error in estimating b: {true_b - b}')
'''

# The same, plus the chapter's step 2 ("look at it"): its scatter plot, saved headless as linsgd does.
CHAPTER_SCRIPT_WITH_PLOT = CHAPTER_SCRIPT + '''\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.figure(figsize=(3.5, 2.5))
plt.scatter(features[:, 1].detach().numpy(), labels.detach().numpy(), 1)
plt.savefig("scatter.png")
'''


@dataclass
class Timing:
    """Median wall seconds of a command over the timed runs, or why it could not be timed."""

    median: float | None
    runs: list[float]
    error: str | None = None


def _time_once(cmd: list[str], env: dict | None, cwd: str) -> tuple[float, str | None]:
    """Wall seconds of one run of ``cmd``, and the last stderr line when it failed."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)  # the plotting script writes there
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or [f"exit {proc.returncode}"]
        return seconds, f"exit {proc.returncode}: {lines[-1][:120]}"
    return seconds, None


def compare(repeats: int, env: dict | None = None) -> dict[str, Timing]:
    """Time the linsgd demo and the chapter script, interleaved, after one untimed warm-up run each.

    The warm-up fills the page cache and lets linsgd write its compiled-kernel cache: the target is about
    a user's second and later runs. Interleaving spreads the noise of a shared machine over both.

    Args:
        repeats: timed runs of each (the median is reported).
        env: environment for the children (e.g. a PYTHONPATH that finds linsgd), None: inherit.
    """
    with tempfile.TemporaryDirectory(prefix="linsgd-bench-") as tmp:
        script = Path(tmp) / "chapter_script.py"
        script.write_text(CHAPTER_SCRIPT)
        plotted = Path(tmp) / "chapter_script_with_plot.py"
        plotted.write_text(CHAPTER_SCRIPT_WITH_PLOT)
        cmds = {"linsgd demo": [sys.executable, "-m", "linsgd", "demo", "--seed", "0",
                                "--out", str(Path(tmp) / "demo")],
                "chapter script": [sys.executable, str(script)],
                "chapter script + scatter plot": [sys.executable, str(plotted)]}
        runs: dict[str, list[float]] = {name: [] for name in cmds}
        errors: dict[str, str | None] = {}
        for name, cmd in cmds.items():
            errors[name] = _time_once(cmd, env, tmp)[1]
        for _ in range(repeats):
            for name, cmd in cmds.items():
                if errors[name] is None:
                    seconds, errors[name] = _time_once(cmd, env, tmp)
                    runs[name].append(seconds)
    return {name: Timing(statistics.median(runs[name]) if errors[name] is None else None, runs[name],
                         errors[name]) for name in cmds}
