"""When an epoch's full-data loss may wait: summed while the next epoch trains, instead of before it starts."""

from __future__ import annotations

from linsgd._parallel import MIN_SPLIT_ROWS, available_cores
from linsgd.config import TrainConfig
from linsgd.data.views import InMemory


def loss_later(data, config: TrainConfig, val, checkpoints, engine, *, one_process: bool) -> str | None:
    """How an epoch's full-data loss (in memory, by a pass: no statistics) may be had while the next epoch trains,
    where nothing must see it first (early stopping, validation, checkpoints, other ranks): "idle core", summed on
    a core left beside the SGD threads, else "measured" by the next epoch's kernel where the engine can; None."""
    if not (isinstance(data, InMemory) and data.statistics is None and data.n >= MIN_SPLIT_ROWS
            and config.stop_patience is None and val is None and not checkpoints and one_process
            and config.engine == "fused"):
        return None
    if config.threads < available_cores():
        return "idle core"
    return "measured" if getattr(engine, "measures_loss", lambda schedule: False)(config.schedule) else None
