"""What the benchmarks that compare this checkout with a baseline commit share: the baseline's ``src/`` from
git, one measuring worker process per checkout, and scikit-learn's SGDRegressor epoch as the peer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def baseline(ref: str, into: Path) -> str:
    """``ref``'s src/ extracted into ``into``; returns its short commit."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], capture_output=True, text=True,
                          check=True).stdout.strip()


def run_worker(script: str, src: Path, repeat: int) -> dict:
    """``script --worker --repeat N`` with ``src`` first on the path; the JSON of its last stdout line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(HERE)])}
    proc = subprocess.run([sys.executable, script, "--worker", "--repeat", str(repeat)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"{Path(script).stem}: the worker on {src} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sklearn_epoch(X, y, lr: float) -> None:
    """One epoch of scikit-learn's SGDRegressor, the same constant step, shuffled."""
    from sklearn.linear_model import SGDRegressor

    SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant", eta0=lr, tol=None, max_iter=1,
                 shuffle=True, random_state=0).fit(X, y)


def alternate(script: str, ref: str, rounds: int, repeat: int) -> tuple[str, list[dict], list[dict]]:
    """``rounds`` × (a worker on ``ref``'s src, then one on this checkout's), alternating so that both see the
    same neighbours; returns (the baseline's short commit, its workers' results, this checkout's)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="linsgd-baseline-") as tmp:
        commit = baseline(ref, Path(tmp))
        base, new = [], []
        for r in range(rounds):
            print(f"round {r + 1}/{rounds}", file=sys.stderr)
            base.append(run_worker(script, Path(tmp) / "src", repeat))
            new.append(run_worker(script, REPO / "src", repeat))
    return commit, base, new


def options(doc: str, rounds: int):
    """The command line of such a benchmark: --baseline REF, --rounds, --repeat, --out FILE (and --worker)."""
    import argparse

    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--baseline", default="main", help="git ref to compare with (default: main)")
    p.add_argument("--rounds", type=int, default=rounds)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--out", type=Path)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()
