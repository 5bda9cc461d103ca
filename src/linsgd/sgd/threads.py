"""How many threads a run uses, and how often they average: the settings resolved before the first epoch.

``TrainConfig.threads`` asks for N threads and ``sync_every`` for K or "auto"; :func:`resolve` turns them into
what the run does, so that the result (and its config in the model file and checkpoints) records it:

* threads: N, but 1 for a small job or fewer than 65,536 rows (:func:`linsgd.engines.threaded.threads_used`);
* K: as given, or with "auto" :func:`linsgd.engines.threaded.default_sync_every` when N > 1 (averaging, or a
  barrier per step in lockstep, costs at most 5 % of the epoch), on one thread the ranks' K (``--sync-every``'s
  1 under torchrun).

The loop then runs process batches of N·B examples (B = ``batch_size``, each thread's batch) and cuts the
epoch every K of them.
"""

from __future__ import annotations

import dataclasses

from linsgd.config import TrainConfig
from linsgd.engines.sparse_threads import default_sync_every as sparse_sync_every
from linsgd.engines.threaded import default_sync_every, threads_used


def resolve(config: TrainConfig, rows: int, d: int, one_thread_k: int | None = None, *,
            row_nnz: float | None = None) -> TrainConfig:
    """``config`` with ``threads`` the threads used on ``rows`` × ``d`` data and ``sync_every`` an integer.

    ``one_thread_k``: K of "auto" on one thread (the ranks' ``Sync.every``; None: 1). ``row_nnz``: sparse
    data's mean stored values per row (None: dense), whose K of "auto" is
    :func:`linsgd.engines.sparse_threads.default_sync_every` (a sync there costs O(d), a step O(nnz)).

    Idempotent: a resolved config comes back unchanged.

    >>> c = resolve(TrainConfig(threads=2, seed=0), rows=1_000_000, d=2)
    >>> c.threads, c.sync_every
    (2, 30000)
    >>> resolve(TrainConfig(threads=2, seed=0), rows=1000, d=2).threads  # few rows: one thread
    1
    """
    steps = config.epoch_budget * -(-rows // config.batch_size)
    threads = threads_used(config.threads, rows, steps)
    k = config.sync_every
    if k == "auto":
        if threads == 1:
            k = one_thread_k or 1
        elif row_nnz is not None:
            k = sparse_sync_every(d, row_nnz, config.batch_size, threads)
        else:  # lockstep where the loop can run it (linsgd.sgd.loop: the fused engine, the squared loss, no ranks)
            k = default_sync_every(d, config.batch_size, lockstep=config.engine == "fused" and config.loss == "squared"
                                   and one_thread_k in (None, 1))
    return dataclasses.replace(config, threads=threads, sync_every=k)


def process_batch(config: TrainConfig) -> int:
    """Examples per step of the process: every thread's batch (N·B)."""
    return config.threads * config.batch_size
