"""The order in which examples are visited: one function owns "the permutation of epoch e for seed s".

Every engine visits examples in this order, so engines are comparable step for step. Batch ``k`` of an
epoch is ``order[k·B : min((k+1)·B, n)]``: consecutive slices, the last one possibly shorter.

The permutation depends on ``(seed, epoch, n)`` only (not on the engine, the dtype or the number of threads
that compute it), through uint64 keys drawn by numpy's SeedSequence of ``(seed, 2, epoch)``:

* **n ≤ SHUFFLE_ROWS** (32,768): Fisher–Yates on ``range(n)``, each swap position drawn exactly uniformly
  (Lemire's rejection method on splitmix64 output, :mod:`linsgd.data._shuffle_kernels`): every one of the
  n! arrangements is equally likely. For a small job (``linsgd._small.small_shuffle``) the same array is
  computed without numba, by :mod:`linsgd.data._shuffle_python`.
* **n > SHUFFLE_ROWS**: a keyed pseudo-random permutation, the four-round Feistel bijection of [0, 2^m)
  (2^m ≥ n) of :mod:`linsgd.data._feistel_kernels`, its values below n kept in order. It is drawn
  without a random swap or a table, vectorised and sequential in memory: ~4 ns a row (10⁷ rows: 35–39 ms
  of CPU, a third to a half of the exact two-level bucket shuffle it replaced, which cost about half an
  SGD epoch of 10⁷ × 2 rows and competed with a second SGD thread; benchmarks/THREADS_RESULTS.md).
  Pseudo-random, not exactly uniform: positions and neighbours pass the chi-square tests of
  ``tests/test_batching.py`` at 10⁵–10⁶ rows, as SGD needs (batches are samples without replacement).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np

from linsgd._small import SMALL_ROWS, small_shuffle
from linsgd.data._shuffle_python import fisher_yates

INIT_STREAM = 1  # seed-sequence branch of the initial parameters (linsgd.sgd.loop)
_ORDER_STREAM = 2
_PIECE_STREAM = 3  # the streamed order's dealing of pieces to windows (linsgd.data.views)
# Up to this many rows an order is an exact Fisher–Yates shuffle (its swaps stay in L2), above it the
# Feistel permutation: part of the definition of the order, like the streams and the round count.
SHUFFLE_ROWS = 32_768


def epoch_order(seed: int, epoch: int, n: int, *, pool: Executor | None = None,
                out: np.ndarray | None = None, epochs: int = 1) -> np.ndarray:
    """A random permutation of ``range(n)`` for 0-based ``epoch`` under ``seed`` (the module docstring's).

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
    sequence = np.random.SeedSequence([seed, _ORDER_STREAM, epoch])
    if n > SHUFFLE_ROWS:
        return feistel_order(sequence.generate_state(4, np.uint64), n, pool=pool, out=out)
    swap_key = sequence.generate_state(2, np.uint64)[1]
    if small_shuffle(n, epochs):  # the same Fisher–Yates without numba's start-up (linsgd._small)
        return fisher_yates(swap_key, n, out)
    from linsgd.data import _shuffle_kernels as k  # lazy: numba

    order = np.empty(n, dtype=index_dtype(n)) if out is None else out
    order[:] = np.arange(n, dtype=order.dtype)
    k.shuffle_buckets(swap_key, np.array([0, n], dtype=np.int64), order, 0, 1)
    return order


def feistel_order(keys: np.ndarray, n: int, *, pool: Executor | None = None,
                  out: np.ndarray | None = None) -> np.ndarray:
    """The values below n of the Feistel permutation of [0, 2^m) with round ``keys`` (uint64 (4,)), in order.

    With ``pool`` its thread fills the order from the back over the second half of [0, 2^m) while this
    thread fills it from the front over the first half (the same array).

    >>> keys = np.array([1, 2, 3, 4], dtype=np.uint64)
    >>> order = feistel_order(keys, 1000)
    >>> sorted(order.tolist()) == list(range(1000)), order[:4].tolist()
    (True, [838, 958, 164, 447])
    """
    from linsgd.data._feistel_kernels import feistel_fill  # lazy: numba

    bits = max(2, (n - 1).bit_length())
    order = np.empty(n, dtype=index_dtype(n)) if out is None else out
    if pool is None:
        feistel_fill(keys, bits, n, order, 0, 1 << bits, True)
        return order
    half = 1 << (bits - 1)  # a bijection keeps n values in all, so the two fills meet exactly
    back = pool.submit(feistel_fill, keys, bits, n, order, half, 1 << bits, False)
    feistel_fill(keys, bits, n, order, 0, half, True)
    back.result()
    return order


def index_dtype(n: int) -> type:
    """The integer type of an order over n rows: int32 when it can hold every index, else int64."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def iter_epoch_orders(seed: int, n: int, epochs: int, *, start: int = 0, recycle: bool = False,
                      ahead: bool = True) -> Iterator[np.ndarray]:
    """``epoch_order(seed, e, n)`` for e = start, …, epochs − 1, each prepared while the previous trains.

    The first order is computed by two threads; after that a background thread computes the next
    epoch's order (the kernels release the GIL) while the caller uses the current one, so on two
    cores the shuffle costs no wall time after the first epoch.

    Args:
        recycle: write epoch e + 2 into the array of epoch e, which the caller must then no longer
            need once it asks for epoch e + 1 (the train loop does not): two n-long arrays in all
            instead of one per epoch, whose fresh pages can cost more than the shuffle itself.
        ahead: False: every order computed when asked, by two threads (the caller's and another), none in the
            background — for a caller whose own threads hold every core (threads in lockstep), where a
            background thread would take a core from one of them while the others wait for it. With
            ``recycle``, epoch e + 1 is written into the array of epoch e: one n-long array in all.
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
            if not ahead:
                if epoch > start:
                    current = epoch_order(seed, epoch, n, pool=pool, out=spare, epochs=epochs)
                yield current
                spare = current if recycle else None
                continue
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
    # each batch of B indices as one item of B·itemsize bytes: numpy copies the strided items one memcpy each,
    # faster than B indices at a time (10⁷ int32 indices, B = 5, 2 slices: 3.7 instead of 6.6 ms of CPU)
    whole = np.ascontiguousarray(order[:full])
    batches = whole.view(np.dtype((np.void, whole.itemsize * batch_size))).reshape(-1, world_size)
    mine = np.ascontiguousarray(batches[:, rank]).view(whole.dtype)
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
