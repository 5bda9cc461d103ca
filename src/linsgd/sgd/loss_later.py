"""When an epoch's full-data loss may wait: summed while the next epoch trains, instead of before it starts."""

from __future__ import annotations

from linsgd._parallel import MIN_SPLIT_ROWS, available_cores
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory

# One thread of the dense fused engine on wide rows read from memory measures each epoch's loss in the next epoch's
# kernel (from the loads of the gradient's loop) rather than summing it in a pass on the idle core, which reads
# every row from memory again beside the SGD's gathers (sharing the bandwidth) and which the loop waits for.
# Measured, 10⁶ × 100 float32 shuffled, batch 256, one thread, interleaved in one process (load ~1-2 on 2 cores):
# the epoch 19.2 ms alone, 30.9 ms followed by the pass on the same core (best of 7); CPU ms, best of 9: 20.1
# alone, 21.2 measuring (a second pass over each four rows, still in L1, 23.0); a 5-epoch fit per epoch, best of
# 7: 24.1 ms measuring against 27.8 ms with the pass on the idle core (in processes alternating with the code
# before, best of 5 × 2, load 1.3-1.8: 24.0 against 24.8 ms, median 24.4 against 26.7 ms).


def loss_later(data, config: TrainConfig, val, checkpoints, engine, *, one_process: bool) -> str | None:
    """How an epoch's full-data loss (in memory, by a pass: no statistics) may be had while the next epoch trains,
    where nothing must see it first (early stopping, validation, checkpoints, other ranks): "idle core", summed on
    a core left beside the SGD threads, else "measured" by the next epoch's kernel where the engine can; None. One
    thread of the dense fused engine measures where it can even with a core idle (the numbers above)."""
    if not (isinstance(data, InMemory) and data.statistics is None and data.n >= MIN_SPLIT_ROWS
            and config.stop_patience is None and val is None and not checkpoints and one_process
            and config.engine == "fused"):
        return None
    measures = getattr(engine, "measures_loss", lambda schedule: False)(config.schedule)
    if measures and config.threads == 1 and hasattr(engine, "layout"):  # the dense fused engine (not the sparse)
        return "measured"
    if config.threads < available_cores():
        return "idle core"
    return "measured" if measures else None
