"""Rank bookkeeping and parameter averaging (the multi-process equivalence tests run torchrun)."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.data.batching import rank_slice
from linsgd.runs.distributed import Topology, shard


@pytest.mark.parametrize("n,batch,world", [(100, 10, 2), (103, 10, 2), (7, 4, 3), (5, 10, 2)])
def test_rank_slices_partition_every_global_batch(n, batch, world):
    order = np.random.default_rng(0).permutation(n)
    parts = [rank_slice(order, batch, r, world) for r in range(world)]
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))  # each example once
    global_b = world * batch
    for start in range(0, n - n % global_b, global_b):  # full global batches: rank r has slice r
        for r in range(world):
            k = start // global_b
            np.testing.assert_array_equal(parts[r][k * batch:(k + 1) * batch],
                                          order[start + r * batch:start + (r + 1) * batch])


def test_topology_reads_torchrun_environment():
    t = Topology.from_env({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    assert (t.rank, t.world_size, t.local_rank, t.is_main, t.distributed) == (1, 2, 1, False, True)
    assert Topology.from_env({}) == Topology(0, 1, 0) and Topology().is_main


def test_shard_deals_files_round_robin():
    files = [f"part-{i}" for i in range(5)]
    assert shard(files, Topology(0, 2)) == ["part-0", "part-2", "part-4"]
    assert shard(files, Topology(1, 2)) == ["part-1", "part-3"]


def test_plan_refuses_streaming_all_rows_on_every_rank_and_wraps_in_memory_data(tmp_path):
    from linsgd.data.rank_views import RankSlice
    from linsgd.data.row_store import RowStore
    from linsgd.data.views import InMemory, Streamed
    from linsgd.errors import ConfigError
    from linsgd.runs.plan import Plan

    t = RowStore(2, "float32", str(tmp_path))
    t.spill()
    t.append(np.ones((10, 3), np.float32))
    plan = Plan(Topology(1, 2))
    with pytest.raises(ConfigError, match="folder of Parquet files"):
        plan.views(Streamed(t.finish(None), window_rows=4), None, 5, sharded=False)
    train, val = plan.views(InMemory(np.ones((10, 2)), np.ones(10)), None, 5, sharded=False)
    assert isinstance(train, RankSlice) and val is None
    one = Plan().views(InMemory(np.ones((10, 2)), np.ones(10)), None, 5, sharded=False)[0]
    assert isinstance(one, InMemory)
    t.close()
