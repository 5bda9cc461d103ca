"""What this machine's memory gives one and two threads for the row gathers of shuffled SGD, with no SGD.

The ceiling against which linsgd's 1- and 2-thread kernels are judged: nogil numba kernels that read every
row once in a given order and sum it (the least arithmetic that keeps the loads), requesting rows ahead as
the fused engine's kernels do. Rows: wide, 10⁶ × 100 float32 and y (404 bytes, two arrays as SGD reads them);
narrow, the large workload's packed rows (x₀, x₁, y), 10⁷ × 12 bytes; each in the epoch's shuffled order
(``epoch_order``) and in storage order; and a streaming read of the wide X (``machine.bandwidth``'s float32
sum, the read bound of the other benchmarks; on two threads that sum's ``prange``). Each on one thread (all
rows, half the rows) and on two threads with a half each, started together: two threads' speed-up over one
is the ceiling of any 2-thread SGD that reads the rows so. Beside it the fused kernel (``bench_two_threads.
_parts``: an epoch on one thread, its halves one after the other and on two threads) and a probe of the two
vCPUs (cores or SMT siblings?): an L1- and an L2-resident sum on one thread and on two at once.

Configurations alternate round by round; each figure is the best round (wall time, and the CPU time of the
threads: ``time.thread_time``, time descheduled left out); the load average at the start and the end.

    python benchmarks/bench_gather.py [--rounds 7] [--out benchmarks/GATHER_RESULTS.md]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
if importlib.util.find_spec("linsgd") is None:  # a checkout, not installed
    sys.path.insert(0, str(REPO / "src"))

from gather_kernels import NARROW_AHEAD, WIDE_AHEAD, check, gather_packed, gather_wide, resident_sum  # noqa: E402

MODES = ("1 thread, all rows", "1 thread, half the rows", "2 threads, a half each")
LINSGD_KEYS = ("epoch 1 thread, epoch_order", "halves serial", "halves 2 threads")  # of bench_two_threads._parts


def _cpu_ticks() -> tuple[int, int]:
    """(idle, total) ticks of all CPUs since boot (/proc/stat; (0, 0) where there is none)."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except OSError:
        return 0, 0
    return ticks[3] + ticks[4], sum(ticks)


def wait_idle(limit: float) -> bool:
    """Wait (at most ``limit`` seconds) until the CPUs were 90 % idle over 0.5 s: a round on two threads needs
    both cores, and other processes here come and go. True when they were."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        (i0, t0), _, (i1, t1) = _cpu_ticks(), time.sleep(0.5), _cpu_ticks()
        if t1 == t0 or (i1 - i0) >= 0.9 * (t1 - t0):
            return True
    return False


def _timed(fn):
    """(wall seconds, CPU seconds of this thread, the CPU seconds' share of the wall time) of ``fn()``."""
    t, c = time.perf_counter(), time.thread_time()
    fn()
    wall, cpu = time.perf_counter() - t, time.thread_time() - c
    return wall, cpu, cpu / wall


def _pair(pool, first, second, wait: float = 0.0):
    """Run ``first`` here and ``second`` on the pool's thread, both released by one barrier: (wall seconds,
    the larger of the two threads' CPU seconds, their CPU seconds / 2 × wall: below 1 they were not both on
    a CPU all the time, another process held one). ``wait``: for idle CPUs first (:func:`wait_idle`)."""
    if wait:
        wait_idle(wait)
    gate = threading.Barrier(2)

    def go(fn):
        gate.wait()
        return _timed(fn)

    future = pool.submit(go, second)
    gate.wait()
    t = time.perf_counter()
    mine, other = _timed(first), future.result()
    wall = max(time.perf_counter() - t, other[0])
    return wall, max(mine[1], other[1]), (mine[1] + other[1]) / (2 * wall)


# call(k0, k1) reads rows k0 ≤ k < k1 of ``rows``, ``row_bytes`` a row, ``moved`` bytes a row from memory (whole
# lines: a shuffled wide row 7 of X and one of y; a 12-byte row crosses a line one time in eight); ``two``: the
# two-thread run, when it is not call() on two halves.
Gather = namedtuple("Gather", "title rows row_bytes moved call two", defaults=(None,))


def modes(g: Gather, pool) -> dict:
    """MODES' runs of ``g``, each returning (wall seconds, CPU seconds, CPU use)."""
    n, h = g.rows, g.rows // 2
    two = g.two or (lambda: _pair(pool, lambda: g.call(0, h), lambda: g.call(h, n)))
    return dict(zip(MODES, (lambda: _timed(lambda: g.call(0, n)), lambda: _timed(lambda: g.call(0, h)), two),
                    strict=True))


def workloads(data: dict):
    """The gathers of the module docstring over ``data`` (name: (X, y) of benchmarks/workloads.py)."""
    import machine

    from linsgd.data.batching import epoch_order

    X, y = data["wide"]
    n = len(y)
    shuffled, storage = epoch_order(0, 0, n), np.arange(n, dtype=np.int32)
    Z = np.column_stack(data["large"])  # the fused engine's packed rows of the large workload
    m = len(Z)
    narrow, narrow_storage = epoch_order(0, 0, m), np.arange(m, dtype=np.int32)
    check(X, y, Z, shuffled)
    flat = X.reshape(-1)
    serial, parallel = machine._numba_sum(False), machine._numba_sum(True)

    two_streams = lambda: _timed(partial(parallel, flat))[:2] + (float("nan"),)  # noqa: E731 (prange threads)
    return [
        Gather("wide 10⁶ × 100 + y, shuffled", n, 404, 512, lambda a, b: gather_wide(X, y, shuffled, a, b, WIDE_AHEAD)),
        Gather("wide 10⁶ × 100 + y, storage order", n, 404, 404,
               lambda a, b: gather_wide(X, y, storage, a, b, WIDE_AHEAD)),
        Gather("narrow packed 10⁷ × 3, shuffled", m, 12, 72, lambda a, b: gather_packed(Z, narrow, a, b, NARROW_AHEAD)),
        Gather("narrow packed 10⁷ × 3, storage order", m, 12, 12,
               lambda a, b: gather_packed(Z, narrow_storage, a, b, NARROW_AHEAD)),
        Gather("stream: the wide X as one array (machine.bandwidth's sum)", n, 400, 400,
               lambda a, b: serial(flat[a * 100:b * 100]), two_streams),
    ]


def linsgd_round(data: dict, record) -> None:
    """One timing of each of LINSGD_KEYS on both workloads, through ``bench_two_threads._parts`` (the other
    keys it offers are skipped)."""
    from bench_two_threads import _parts
    from workloads import WORKLOADS

    def best(key, fn):
        name, _, what = key.partition(" ")
        if what in LINSGD_KEYS:
            record(name, what, fn)

    for name in ("wide", "large"):
        _parts(name, *data[name], WORKLOADS[name], best)


def smt_probe(pool, rounds: int, wait: float) -> list[str]:
    """Table rows: an L1-resident (16 KB) and an L2-resident (768 KB a thread) sum, one thread and two at once
    (~10-20 ms each)."""
    out = []
    for label, kb, times in (("L1-resident, 16 KB a thread", 16, 200_000), ("L2-resident, 768 KB a thread", 768,
                                                                            4_000)):
        a, b = (partial(resident_sum, np.ones(kb * 256, dtype=np.float32), times) for _ in range(2))
        resident_sum(a.args[0], 1), resident_sum(b.args[0], 1)  # compile and warm off the clock
        one = min(_timed(a)[1] for _ in range(rounds))
        two, cpu, use = min(_pair(pool, a, b, wait) for _ in range(rounds))  # the round of the least wall time
        out.append(f"| {label} | {1e3 * one:.1f} | {1e3 * two:.1f} ({1e3 * cpu:.1f}; {100 * use:.0f} %) | "
                   f"{one * 2 / two:.2f}× | {cpu / one:.2f}× |")
    return out


def topology() -> list[str]:
    """Bullet lines: each CPU's core id and SMT siblings as the kernel reports them, and the hypervisor."""
    base = Path("/sys/devices/system/cpu")
    text = lambda path: path.read_text().strip() if path.exists() else "?"  # noqa: E731
    cpus = [f"{c.name}: core_id {text(c / 'topology/core_id')}, thread_siblings_list "
            f"{text(c / 'topology/thread_siblings_list')}" for c in sorted(base.glob("cpu[0-9]*"))]
    flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "")
    caches = [f"L{text(i / 'level')} {text(i / 'type').lower()} {text(i / 'size')} (shared with CPUs "
              f"{text(i / 'shared_cpu_list')})" for i in sorted((base / "cpu0" / "cache").glob("index*"))]
    return [f"- topology (as the guest kernel reports it): {'; '.join(cpus)}; "
            f"{'a virtual machine (hypervisor flag)' if ' hypervisor' in flags else 'no hypervisor flag'}",
            f"- caches of cpu0: {', '.join(caches)}"]


def _gather_row(g: Gather, one, half, two) -> str:
    """A table row of ``g`` from the best round's (wall, CPU seconds, CPU use) of each of MODES."""
    rate = lambda t: (f"{1e3 * t[0]:.1f} ({1e3 * t[1]:.1f}{{}}) | {g.rows / t[0] / 1e6:.0f} | "  # noqa: E731
                      f"{g.rows * g.row_bytes / t[0] / 1e9:.1f} | {g.rows * g.moved / t[0] / 1e9:.1f}")
    use = "" if two[2] != two[2] else f"; {100 * two[2]:.0f} %"  # NaN: prange's threads
    return (f"| {g.title} | {g.row_bytes} / {g.moved} | {rate(one).format('')} | {1e3 * half[0]:.1f} | "
            f"{rate(two).format(use)} | {one[0] / two[0]:.2f}× | {2 * half[0] / two[0]:.2f}× |")


def report(gathers, best, linsgd, smt, load, rounds, quiet) -> str:
    import machine

    lines = ["# The memory's ceiling for shuffled row gathers, one thread and two", "", *machine.describe(REPO),
             *topology(), "", f"`python benchmarks/bench_gather.py --rounds {rounds}`: configurations alternating "
             f"round by round, the best of {rounds} rounds ({quiet} started with the CPUs idle, the others after "
             f"waiting for it in vain); load average (1 min) {load[0]:.2f} at the start, "
             f"{load[1]:.2f} at the end, on {os.cpu_count()} logical CPUs. CPU use: the two threads' CPU time / (2 × "
             "wall time); below 100 % another process held a CPU part of the time.", "",
             "| rows read | bytes a row: used / moved | 1 thread, all rows: ms (CPU ms) | M rows/s | GB/s used | GB/s "
             "moved | 1 thread, half: ms | 2 threads, a half each: ms (CPU ms, slower thread; CPU use) | M rows/s | "
             "GB/s used | GB/s moved | 2 threads / 1 thread | 2 threads / two halves in a row |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
             *(_gather_row(g, *(best[(g.title, mode)] for mode in MODES)) for g in gathers), "",
             "linsgd's fused kernel on the same rows (`bench_two_threads._parts`: wide batch 256, large batch 10; the "
             "halves with no synchronisation between them):", "",
             "| workload | 1 thread, one epoch: ms (CPU ms) | the two halves in a row: ms | two halves on 2 threads: "
             "ms | 2 threads / 1 thread | share of the gather's 2-thread rate |", "|---|---|---|---|---|---|"]
    targets = ["", "## The targets against the ceiling", ""]
    for name, ceiling, target in (("wide", gathers[0].title, 1.4), ("large", gathers[2].title, 1.7)):
        (one, one_cpu, _), (serial, *_), (two, *_) = (linsgd[(name, k)] for k in LINSGD_KEYS)
        g1, g2 = best[(ceiling, MODES[0])][0], best[(ceiling, MODES[2])][0]
        lines.append(f"| {name} | {1e3 * one:.1f} ({1e3 * one_cpu:.1f}) | {1e3 * serial:.1f} | {1e3 * two:.1f} | "
                     f"{one / two:.2f}× | {100 * g2 / two:.0f} % |")
        targets.append(f"- {name}, 2 threads ≥ {target}× 1 thread: the gather's 2 threads / 1 thread {g1 / g2:.2f}×; "
                       f"the fused epoch on 1 thread / the gather on 2 threads (the most any 2-thread epoch can gain "
                       f"over today's 1-thread kernel) {one / g2:.2f}×; the fused halves on 2 threads {one / two:.2f}×")
    smt_text = ["", "Two vCPUs as cores or SMT siblings: the same cache-resident sum on one thread and on two at once "
                "(each its own array; two siblings of one core would share its load ports and its L2):", "",
                "| probe | 1 thread: CPU ms | 2 threads at once: ms (CPU ms, slower thread; CPU use) | the work of 2 "
                "threads a second, against 1 | CPU time a thread, 2 threads against 1 |", "|---|---|---|---|---|", *smt,
                "", "Siblings sharing a core: each thread's CPU time near 2× one thread's in the L1 probe (one core's "
                "ports for both); two cores: 1×, and the work a second 2× when no other process holds a CPU."]
    return "\n".join([*lines, *targets, *smt_text]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--out", type=Path)
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for idle CPUs before each round")
    args = p.parse_args()
    load, pool, best, linsgd = [os.getloadavg()[0]], ThreadPoolExecutor(max_workers=1), {}, {}
    from workloads import WORKLOADS, make_data

    data = {name: make_data(WORKLOADS[name]) for name in ("wide", "large")}
    gathers = workloads(data)

    def keep(store, key, timing):  # the round of the least wall time
        store[key] = min(store.get(key, timing), timing)

    def record(name, what, fn):
        if (name, what) not in linsgd:
            fn()  # compile and warm off the clock
        keep(linsgd, (name, what), _timed(fn))

    for g in gathers:  # compile and warm off the clock
        for run in modes(g, pool).values():
            run()
    quiet = 0
    for r in range(args.rounds):
        quiet += wait_idle(args.wait)
        print(f"round {r + 1} of {args.rounds}, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        for g in gathers:
            for mode, run in modes(g, pool).items():
                keep(best, (g.title, mode), run())
        linsgd_round(data, record)
    smt = smt_probe(pool, args.rounds, min(args.wait, 10.0))  # the probes are short: less waiting
    load.append(os.getloadavg()[0])
    pool.shutdown()
    text = report(gathers, best, linsgd, smt, load, args.rounds, quiet)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
