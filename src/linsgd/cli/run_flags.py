"""Flags of ``linsgd train`` for checkpoints, ``--resume`` and data-parallel training (torchrun)."""

from __future__ import annotations

import argparse
import os
import re

from linsgd.cli.options import number_or_auto


def add_scale_flags(p: argparse.ArgumentParser) -> None:
    """--threads, --checkpoint-every, --resume, --sync-every, --dist-timeout."""
    g = p.add_argument_group("threads, checkpoints and data-parallel training (torchrun)")
    g.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads of this process, each running SGD with --batch-size on its slice of every batch "
                        "of N x batch-size examples, averaged every --sync-every steps (default: the cores this "
                        "process may run on, divided among torchrun's processes on this machine; small jobs and "
                        "fewer than 65,536 rows use one)")
    g.add_argument("--checkpoint-every", default=None, metavar="N{steps,epochs}",
                   help="write RUN/checkpoint.safetensors every N steps (counted from each epoch's start, "
                        "and at every epoch's end) or every N epochs, e.g. 500steps, 1epoch")
    g.add_argument("--resume", nargs="?", const="yes", choices=("yes", "auto"), default=None,
                   help="continue from RUN/checkpoint.safetensors (the same flags; --epochs may grow); "
                        "--resume=auto starts afresh when there is none (for torchrun --max-restarts)")
    g.add_argument("--sync-every", type=sync_value, default="auto", metavar="K",
                   help="average the parameters of the threads (and ranks) every K steps; auto (default): with "
                        "threads, averaging costs at most 5%% of the epoch; one thread under torchrun: 1")
    g.add_argument("--dist-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="under torchrun: fail when a collective waits longer than this (default 300)")


def plan_of(args, out):
    """The :class:`~linsgd.runs.plan.Plan` of the parsed flags; ConfigError names a bad one."""
    from linsgd.errors import ConfigError
    from linsgd.runs.distributed import Topology
    from linsgd.runs.plan import Plan

    if args.sync_every != "auto" and args.sync_every < 1:
        raise ConfigError("sync_every", args.sync_every, "an integer >= 1 or auto")
    if not 0 < args.dist_timeout <= 1e9:  # inf or nan would overflow torch's timedelta
        raise ConfigError("dist_timeout", args.dist_timeout, "a number of seconds in (0, 1e9]")
    k = 1 if args.sync_every == "auto" else args.sync_every  # ranks on one thread: every step
    return Plan(Topology.from_env(), k, out, parse_every(args.checkpoint_every), args.resume)


sync_value = number_or_auto(int, "16")  # --sync-every: checked by plan_of and TrainConfig


def parse_every(text: str | None) -> tuple[int, str] | None:
    """``500steps`` → (500, "steps"), ``1epoch`` → (1, "epochs"); None stays None."""
    from linsgd.errors import ConfigError

    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(step|steps|epoch|epochs)\s*", text)
    if not m or int(m.group(1)) < 1:
        raise ConfigError("checkpoint_every", text, "N steps or N epochs with N >= 1, e.g. 500steps or 1epoch")
    return int(m.group(1)), "steps" if m.group(2).startswith("step") else "epochs"


def thread_words(asked: int, used) -> str:
    """The threads the run used (nothing silent: when fewer than ``--threads`` asked ran, why)."""
    from linsgd.engines.threaded import THREAD_MIN_ROWS

    if used.threads > 1:
        words = f"; {used.threads} threads, their parameters averaged every {used.sync_every} steps"
        cores = os.cpu_count() or 1
        more = f" (more threads than the machine's {cores} core{'s' if cores > 1 else ''})"
        return words + (more if used.threads > cores else "")
    if asked > 1 and used.solver == "exact":
        return f"; --threads {asked} not used: the exact solver makes one pass over the rows"
    if asked > 1:
        return (f"; 1 thread, not the {asked} of --threads: with fewer than {THREAD_MIN_ROWS:,} train rows or a "
                "small job one thread is faster (its batch stays --batch-size)")
    return ""
