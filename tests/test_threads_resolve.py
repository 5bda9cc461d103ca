"""How many threads a run uses and how often they average, resolved before the first epoch."""

from __future__ import annotations

from linsgd.config import TrainConfig
from linsgd.engines.threaded import THREAD_MIN_ROWS, default_sync_every
from linsgd.sgd.threads import process_batch, resolve


def test_threads_and_their_k_resolved_from_the_config():
    big = THREAD_MIN_ROWS * 4
    two = resolve(TrainConfig(threads=2, seed=0), rows=big, d=3)
    assert (two.threads, two.sync_every) == (2, default_sync_every(3, 10))
    assert process_batch(two) == 20 and process_batch(TrainConfig(batch_size=7)) == 7
    assert resolve(two, rows=big, d=3) == two  # idempotent
    assert resolve(TrainConfig(threads=2, seed=0, sync_every=5), rows=big, d=3).sync_every == 5
    three = resolve(TrainConfig(threads=3, seed=0), rows=big, d=3)
    assert (three.threads, three.sync_every) == (3, default_sync_every(3, 10))
    # one thread: "auto" is the ranks' K, else 1
    one = resolve(TrainConfig(threads=2, seed=0), rows=THREAD_MIN_ROWS - 1, d=3)
    assert (one.threads, one.sync_every) == (1, 1)
    assert resolve(TrainConfig(seed=0), rows=big, d=3, one_thread_k=4).sync_every == 4
    assert resolve(TrainConfig(seed=0), rows=big, d=3, one_thread_k=None).sync_every == 1


def test_k_auto_is_lockstep_on_wide_rows_where_the_loop_can_run_it():
    big, wide = THREAD_MIN_ROWS * 4, {"threads": 2, "seed": 0, "batch_size": 128}
    assert resolve(TrainConfig(**wide), rows=big, d=100).sync_every == 1  # a barrier per step: under 5 % of it
    assert resolve(TrainConfig(**wide), rows=big, d=100, one_thread_k=1).sync_every == 1
    averaged = default_sync_every(100, 128)
    assert averaged > 100
    for config, ranks_k in [({"loss": "huber"}, None), ({"engine": "reference"}, None), ({}, 4)]:
        # no lockstep for another loss, the reference engine, or ranks that average every 4 steps
        assert resolve(TrainConfig(**wide, **config), rows=big, d=100, one_thread_k=ranks_k).sync_every == averaged
    assert resolve(TrainConfig(**{**wide, "batch_size": 64}), rows=big, d=100).sync_every == default_sync_every(
        100, 64) > 1  # half the step: the barrier would cost more than its share
