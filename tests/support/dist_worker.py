"""A torchrun worker for tests: one epoch of K=1 data-parallel SGD at the engine level, saved by rank 0.

Usage: dist_worker.py ENGINE OUT.npy — every rank runs its slice of each global batch, then averages.
"""

from __future__ import annotations

import sys

import numpy as np

from linsgd.data.batching import epoch_order, rank_slice
from linsgd.data.synthetic import make_regression
from linsgd.engines import get_engine
from linsgd.runs.distributed import Sync, Topology, process_group
from linsgd.sgd.loop import init_params


def main(engine_name: str, out: str, batch: int = 5, n: int = 203) -> None:
    topo = Topology.from_env()
    X, y = make_regression(n, [2, -3.4], 4.2, seed=3, dtype="float64")
    w, b = init_params(3, 2, 0.01, "float64")
    engine = get_engine(engine_name)
    with process_group(topo, timeout_s=60):
        sync = Sync(topo, every=1)  # the train loop's averaging step
        mine = rank_slice(epoch_order(3, 0, n), batch, topo.rank, topo.world_size)
        for k in range(-(-n // (batch * topo.world_size))):  # one sync per global batch
            part = mine[k * batch:(k + 1) * batch]
            step = engine.run_epoch(X, y, w, b, part, 0.05, batch) if len(part) else None
            w, b = sync.average(step.w if step else w, step.b if step else b, len(part))
    if topo.is_main:
        np.save(out, np.append(w, b))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
