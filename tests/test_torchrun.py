"""Real processes on loopback: 2 ranks with sync every step ≡ 1 process with twice the batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import linsgd
from linsgd.data.synthetic import make_regression

from torchrun_util import torchrun

WORKER = str(Path(__file__).with_name("dist_worker.py"))


def test_two_ranks_sync_every_step_equal_one_process_with_double_batch(engine, tmp_path):
    proc = torchrun(2, WORKER, engine, str(tmp_path / "w.npy"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = np.load(tmp_path / "w.npy")
    X, y = make_regression(203, [2, -3.4], 4.2, seed=3, dtype="float64")  # n = 203: a short last batch
    one = linsgd.fit(X, y, lr=0.05, epochs=1, batch_size=10, engine=engine, seed=3, dtype="float64")
    np.testing.assert_allclose(got, np.append(one.w, one.b), rtol=1e-12, atol=1e-14)
