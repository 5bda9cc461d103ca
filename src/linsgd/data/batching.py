"""The order in which examples are visited: one function owns "the permutation of epoch e for seed s".

Every engine visits examples in this order, so engines are comparable step for step. Batch ``k`` of an
epoch is ``order[k·B : min((k+1)·B, n)]``: consecutive slices, the last one possibly shorter.

The permutation is a two-level (bucket) shuffle, uniform and cache-aware (Sanders 1998, "Random
permutations on distributed, external and hierarchical memory"):

1. every example i draws a bucket label L_i, iid uniform on {0, …, K−1}, K = ⌈n / BUCKET_ROWS⌉;
   bucket k takes the positions ``[c_0 + … + c_{k−1}, c_0 + … + c_k)``, c_k = #{i : L_i = k};
2. the examples of each bucket are put in a uniformly random order by Fisher–Yates.

Why it is uniform: fix any arrangement π of range(n). Whatever the bucket sizes c, there is exactly one
labelling that puts π's elements into the buckets π needs, with probability K⁻ⁿ, and then the
Fisher–Yates shuffles produce π's within-bucket orders with probability ∏_k 1/c_k!. So
P(π) = Σ_c K⁻ⁿ ∏_k 1/c_k! over the size vectors c, the same for every π. (Equivalently: sort by iid keys
(L_i, U_i).) The random integers are exact (Lemire's rejection method on splitmix64 output), each step
touches only one bucket (BUCKET_ROWS indices fit in a core's L2 cache), and no step is approximate.

Labels are drawn per segment of SEGMENT_ROWS examples and the Fisher–Yates swaps per bucket, each from
its own stream (disjoint ranges of one splitmix64 counter), so threads can share the work. The streams
are keyed by numpy's SeedSequence of ``(seed, 2, epoch)``, so orders depend on ``(seed, epoch, n)``
only: not on the engine, the dtype or the number of threads that compute them. For a small job
(``linsgd._small.small_shuffle``: n <= SMALL_ROWS, one bucket) the same array is computed without numba, by
:mod:`linsgd.data._shuffle_python`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial

import numpy as np

from linsgd._parallel import in_halves
from linsgd._small import SMALL_ROWS, small_shuffle
from linsgd.data._shuffle_python import fisher_yates

INIT_STREAM = 1  # seed-sequence branch of the initial parameters (linsgd.sgd.loop)
_ORDER_STREAM = 2
_PIECE_STREAM = 3  # the streamed order's dealing of pieces to windows (linsgd.data.views)
# 32,768 int64 indices = 256 KB per bucket: the Fisher–Yates swaps stay in L2 (measured fastest of
# 2¹³…2¹⁷ for n = 10⁷). Changing it changes every order: it is part of the definition.
BUCKET_ROWS = 32_768
# Labels are drawn per segment of 2²⁰ rows, each from its own stream, so that threads can draw them in
# parallel; like BUCKET_ROWS, part of the definition of the order.
SEGMENT_ROWS = 1 << 20


def epoch_order(seed: int, epoch: int, n: int, *, pool: Executor | None = None,
                out: np.ndarray | None = None, epochs: int = 1) -> np.ndarray:
    """A uniformly random permutation of ``range(n)`` for 0-based ``epoch`` under ``seed``.

    The indices are int32 (int64 when n ≥ 2³¹): half the memory an epoch streams through and, above
    all, half the fresh pages a fit touches (see :func:`index_dtype`).

    Args:
        pool: optional executor with a free thread, which does half of the work (the result does not
            depend on it).
        out: optional (n,) array of ``index_dtype(n)`` to write the order into (and return).
        epochs: how many orders the run draws: a small job (``linsgd._small.small_shuffle``) computes the
            same array without numba.

    Example:
        >>> sorted(epoch_order(0, 0, 5).tolist())
        [0, 1, 2, 3, 4]
        >>> bool((epoch_order(3, 1, 100_000) == epoch_order(3, 1, 100_000)).all())
        True
    """
    keys = np.random.SeedSequence([seed, _ORDER_STREAM, epoch]).generate_state(2, np.uint64)
    if small_shuffle(n, epochs):  # one bucket: the same Fisher–Yates without numba's start-up (linsgd._small)
        return fisher_yates(keys[1], n, out)
    return bucket_permutation(keys, n, max(1, -(-n // BUCKET_ROWS)), pool=pool, out=out)


def bucket_permutation(keys: np.ndarray, n: int, nbuckets: int, *, pool: Executor | None = None,
                       segment_rows: int = SEGMENT_ROWS, out: np.ndarray | None = None) -> np.ndarray:
    """The two-level shuffle of the module docstring with ``nbuckets`` buckets and two uint64 ``keys``.

    Uniform for any ``nbuckets`` and ``segment_rows`` >= 1; ``epoch_order`` fixes nbuckets =
    ⌈n / BUCKET_ROWS⌉ and SEGMENT_ROWS. Segments (label streams) and buckets (Fisher–Yates streams)
    are independent, so the work splits between the calling thread and ``pool``'s threads.
    """
    from linsgd.data import _shuffle_kernels as k  # lazy: numba

    label_key, swap_key = keys
    # with a pool its thread does half of each step (segments, buckets); without, all runs here
    in_parts = partial(in_halves, pool=pool, min_split=2 if pool is not None else sys.maxsize)
    nseg = max(1, -(-n // segment_rows))
    counts = np.zeros((nseg, nbuckets), dtype=np.int64)
    in_parts(lambda s0, s1: k.segment_counts(label_key, n, segment_rows, counts, s0, s1), nseg)
    bounds = np.zeros(nbuckets + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=bounds[1:])
    starts = bounds[:-1] + np.cumsum(counts, axis=0) - counts  # segment s after segments < s
    order = np.empty(n, dtype=index_dtype(n)) if out is None else out  # every slot is written once
    in_parts(lambda s0, s1: k.segment_scatter(label_key, n, segment_rows, starts, order, s0, s1), nseg)
    in_parts(lambda b0, b1: k.shuffle_buckets(swap_key, bounds, order, b0, b1), nbuckets)
    return order


def index_dtype(n: int) -> type:
    """The integer type of an order over n rows: int32 when it can hold every index, else int64."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def iter_epoch_orders(seed: int, n: int, epochs: int, *, start: int = 0,
                      recycle: bool = False) -> Iterator[np.ndarray]:
    """``epoch_order(seed, e, n)`` for e = start, …, epochs − 1, each prepared while the previous trains.

    The first order is computed by two threads; after that a background thread computes the next
    epoch's order (the kernels release the GIL) while the caller uses the current one, so on two
    cores the shuffle costs no wall time after the first epoch.

    Args:
        recycle: write epoch e + 2 into the array of epoch e, which the caller must then no longer
            need once it asks for epoch e + 1 (the train loop does not): two n-long arrays in all
            instead of one per epoch, whose fresh pages can cost more than the shuffle itself.
    """
    if start >= epochs:
        return
    if n <= SMALL_ROWS:  # an order takes microseconds: handing it to a thread would cost more
        for epoch in range(start, epochs):
            yield epoch_order(seed, epoch, n, epochs=epochs)
        return
    pool, finished = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linsgd-order"), False
    try:
        current, spare = epoch_order(seed, start, n, pool=pool, epochs=epochs), None
        for epoch in range(start, epochs):
            pending = (pool.submit(epoch_order, seed, epoch + 1, n, out=spare, epochs=epochs) if epoch + 1 < epochs
                       else None)
            yield current
            if pending is None:
                break
            spare = current if recycle else None
            current = pending.result()
        finished = True
    finally:
        # An abandoned iterator (the caller's loop raised, e.g. DivergenceError) is closed by the garbage
        # collector, in whatever thread it runs, possibly inside threading's own locks: joining the
        # worker there deadlocks (seen in the test suite), so only a finished iteration waits for it.
        pool.shutdown(wait=finished, cancel_futures=not finished)


def rank_slice(order: np.ndarray, batch_size: int, rank: int, world_size: int) -> np.ndarray:
    """Rank ``rank``'s part of a global order cut into global batches of world_size·B examples.

    Global batch k is ``order[k·N·B : (k+1)·N·B]``; rank r takes its r-th slice of B examples. With
    ``--sync-every 1`` the averaged step then equals one single-process step with batch N·B. A short
    last global batch is split as evenly as possible (a rank may get fewer, even zero, examples).

    >>> order = np.arange(10)
    >>> rank_slice(order, 2, 0, 2).tolist(), rank_slice(order, 2, 1, 2).tolist()
    ([0, 1, 4, 5, 8], [2, 3, 6, 7, 9])
    """
    n = len(order)
    if world_size == 1:
        return order
    global_b = world_size * batch_size
    full = n // global_b * global_b  # whole global batches: a strided view, copied once
    mine = order[:full].reshape(-1, world_size, batch_size)[:, rank, :].reshape(-1)
    tail = order[full:]
    if len(tail) == 0:
        return mine
    return np.concatenate([mine, np.array_split(tail, world_size)[rank]])


_STRATA, _MIN_PIECE_BYTES = 64, 8 << 10  # the default piece: <= 64 strata a window, >= 8 KiB a read


def default_piece_rows(window_rows: int, row_bytes: int) -> int:
    """Rows per piece of :class:`~linsgd.data.views.Streamed` when none is given: ``window_rows // 64``,
    but at least 8 KiB of rows (and at most the window). A window then holds one piece from each of up to
    64 regions of the file, and a read's fixed cost (~11 µs measured, whatever its size) stays small
    against the SGD work on its rows (a 32 MB budget's window of 10 float32 features: pieces of 2,978 rows,
    128 KiB; 256 strata of 744 rows ran epochs ~20 % slower than the previous block shuffle on the busy
    2-core machine, 64 strata as fast). Fewer, larger pieces mix a sorted file less: 16 KiB pieces in
    windows of 10,000 rows left 0.96 standard errors against 0.11 with 8 KiB (``tests/test_stream_order.py``).

    >>> default_piece_rows(190_650, 44), default_piece_rows(23_831, 44), default_piece_rows(100, 44)
    (2978, 372, 100)
    """
    return max(1, min(window_rows, max(-(-_MIN_PIECE_BYTES // max(1, row_bytes)), window_rows // _STRATA)))


def stratified_windows(seed: int, epoch: int, npieces: int, nwindows: int) -> list[np.ndarray]:
    """The pieces of each of ``nwindows`` windows of a streamed epoch (the order of :mod:`linsgd.data.views`).

    Pieces are cut into S = ⌈npieces / nwindows⌉ strata of nwindows consecutive pieces; stratum s deals its
    pieces to the windows by row s of ``default_rng([seed, 3, epoch]).permuted(np.tile(range(K), (S, 1)),
    axis=1)`` (K = nwindows): window k gets piece sK + perm_s[k] when it exists, so every window holds one
    piece of every stratum (in stratum order) and each stratum is dealt independently.

    >>> [w.tolist() for w in stratified_windows(0, 0, 7, 3)]  # strata {0, 1, 2}, {3, 4, 5}, {6}
    [[2, 4], [1, 3], [0, 5, 6]]
    """
    K = max(1, nwindows)
    strata = -(-npieces // K)
    deal = np.random.default_rng([seed, _PIECE_STREAM, epoch]).permuted(np.tile(np.arange(K), (strata, 1)), axis=1)
    pieces = np.arange(strata)[:, None] * K + deal  # pieces[s, k]: stratum s's piece in window k
    return [col[col < npieces] for col in pieces.T]
