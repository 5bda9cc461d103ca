"""What ``linsgd demo --animate`` and ``--html`` are drawn from: the film of every step, the explorer's page.

Both take the demo's outcome (``linsgd.cli.demo.Outcome``: the data, the trace, the optimum) and return
what :class:`linsgd.plots.Painter` runs in its child process.
"""

from __future__ import annotations

import argparse


def film(o, config, idx: list[int]):
    """The animation's arrays: the trace (every step recorded) and each step's minibatch rows."""
    from linsgd.data.batching import epoch_order
    from linsgd.plots import animation

    t, n, B = o.trace, len(o.labels), config.batch_size
    per_epoch = -(-n // B)
    batches = [epoch_order(config.seed, e, n)[k * B:(k + 1) * B] for e in range(len(t.history))
               for k in range(per_epoch)]
    j = min(1, o.features.shape[1] - 1)
    return animation.film(o.features, o.labels, t.w, t.b, batches, t.lr, idx, j, t.loss, t.epoch_ends)


def explorer_call(o, args: argparse.Namespace, config, idx, center, star, path):
    """The call that writes the explorer page (its arrays computed here: the stability limits per batch)."""
    import numpy as np

    from linsgd import lesson
    from linsgd.plots import explorer
    from linsgd.sgd.stability import mean_square_limit

    n = len(o.labels)
    limits = {min(B, n): mean_square_limit(o.features, B) for B in explorer.BATCHES}
    start = dict(lr=o.trace.lr, batch=config.batch_size, init_std=config.init_std, seed=config.seed)
    about = (f"{n} examples of the demo's data (--seed {config.seed}), {config.epochs} epochs per run. The page "
             "draws the initial weights and each epoch's order from its own seed slider (its own generator, not "
             "numpy's), so a run here is the chapter's algorithm, not the CLI's run step for step.")
    return (explorer.write, (o.features, o.labels, path),
            dict(bowl=lesson.bowl(o.features, center, idx, star), idx=idx,
                 optimum=np.append(center.w, center.b), floor=args.noise**2 / 2, epochs=config.epochs,
                 limits=limits, start=start, about=about))
