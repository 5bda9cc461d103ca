"""Data views: what the train loop iterates over — data in memory or streamed from a table (a rank's share of
either: :mod:`linsgd.data.rank_views`).

Every view keeps the :class:`DataView` protocol. Epochs over data in memory or streamed from a
:class:`~linsgd.data.row_store.RowStore`, for any engine:

In memory, an epoch visits ``epoch_order(seed, epoch, n)`` (the chapter's shuffle of all n examples).
Streamed, the order is a documented stratified block shuffle that needs one window of rows in memory:

1. the table is cut into P pieces of ``piece_rows`` consecutive rows; an epoch has K windows,
   K = ⌈P / m⌉ with m = max(1, ⌊window_rows / piece_rows⌋) pieces per window;
2. the pieces are cut into strata of K consecutive pieces (stratum s: pieces sK … sK + K − 1, the last
   one possibly shorter); each stratum's pieces are dealt to the K windows by its own uniform permutation
   (:func:`~linsgd.data.batching.stratified_windows`: row s of ``default_rng([seed, 3, epoch]).permuted(
   np.tile(range(K), (S, 1)), axis=1)``, S = ⌈P / K⌉ <= m strata), so window k holds one piece from every
   stratum, i.e. from every region of the file;
3. the rows of window k (its pieces in stratum order) are permuted by ``default_rng([seed, 4, epoch, k])``.

Why strata: files are often sorted (by time, by key, by the target). A window of a few pieces drawn
anywhere is then a biased sample of the rows, each window's optimum is off in the same direction, and SGD
lands tens of standard errors away from the least-squares answer. A window with one piece from each of
m strata is a systematic sample of the whole file: on sorted data its rows span every region evenly, and
the streamed answer lands within about a standard error of the in-memory one
(``benchmarks/STREAM_ORDER_RESULTS.md``). The default ``piece_rows``
(:func:`~linsgd.data.batching.default_piece_rows`) gives up to 64 strata, with pieces of at least 8 KiB.

Every row is visited exactly once per epoch. Batches run across window boundaries — the rows of a
window that do not fill a whole batch are carried into the next window — so a streamed epoch is the
same sequence of minibatch updates as an in-memory epoch over the rows in the order of
:meth:`Streamed.windows` (each window's rows, permuted, one window after the other).

The engine gets each window as read from the table (carried rows first) with the window's order, and
visits a prefix of it: nothing is gathered. The next window is read (and standardised in place) meanwhile,
so an epoch holds about 2–3 windows of memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from linsgd.data.batching import default_piece_rows, iter_epoch_orders, stratified_windows

_WINDOW_STREAM = 4  # the seed-sequence branch of the rows' permutation within a window


class DataView(Protocol):
    """What the train loop needs of its data (in memory, streamed, or one rank's share of either)."""

    @property
    def n(self) -> int: ...

    def epoch_orders(self, seed: int, epochs: int, start: int = 0) -> Iterable[Any]:
        """One key per epoch ``start, …, epochs − 1``: an order array, or what ``epoch_runs`` understands."""

    def epoch_runs(self, order: Any, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, Any]]:
        """The epoch as runs ``(X, y, idx, v)`` for :func:`linsgd.sgd.segments.cut` (v: weights or None)."""

    def loss(self, engine, w: np.ndarray, b: float) -> float:
        """Mean ½ v(Xw + b − y)² over the view's rows (all ranks' rows for a shard)."""

    def steps_per_epoch(self, batch_size: int) -> int:
        """Minibatch steps this process runs per epoch (sets the length of a schedule)."""

    def sample(self) -> np.ndarray:
        """Features to estimate a stable learning rate from."""

    def rows(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """This process's share of the rows as ``(X, y)`` chunks, for one-pass statistics (the exact
        solver): over all ranks, every row exactly once."""


_ROWS = 1 << 16  # rows per chunk of ``rows()``
class InMemory:
    """Arrays X (n, d) and y (n,) of the training dtype, visited in ``epoch_order``; optional sample
    weights ``weight`` (n,) of the training dtype, normalised to mean 1 (see :func:`normalized_weights`)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> None:
        self.X, self.y, self.weight = X, y, weight
        self.statistics = None  # set by the loop: an object whose loss(w, b) is this loss without a pass

    @property
    def n(self) -> int:
        return len(self.y)

    def epoch_orders(self, seed: int, epochs: int, start: int = 0, *, ahead: bool = True):
        """The permutation of all rows of each epoch ``start, …, epochs − 1``, prepared ahead (``ahead``; else
        each drawn when asked, on two threads).

        Each is ``epoch_order(seed, epoch, n)``. The arrays are recycled (see
        :func:`~linsgd.data.batching.iter_epoch_orders`): an order is dead once the next one is asked for.
        """
        return iter_epoch_orders(seed, self.n, epochs, start=start, recycle=True, ahead=ahead)

    def epoch_runs(self, order: np.ndarray, batch_size: int):
        """The epoch as runs ``(X, y, idx, v)`` for :func:`linsgd.sgd.segments.cut`: in memory, one run."""
        yield self.X, self.y, order, self.weight

    def loss(self, engine, w, b) -> float:
        """Mean ½ v(Xw + b − y)² over all rows (from ``statistics`` when the loop has gathered them)."""
        if self.statistics is not None:
            return self.statistics.loss(w, b)
        return engine.loss(self.X, self.y, w, b, self.weight)

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-self.n // batch_size)

    def sample(self) -> np.ndarray:
        """Features to estimate a stable learning rate from."""
        return self.X

    def rows(self, start: int = 0, stop: int | None = None):
        """Rows [start, stop) in chunks of 65,536 (default: all)."""
        stop = self.n if stop is None else stop
        for a in range(start, stop, _ROWS):
            yield self.X[a:min(a + _ROWS, stop)], self.y[a:min(a + _ROWS, stop)]


class Streamed:
    """A table read window by window (see the module docstring for the order).

    Args:
        table: a :class:`~linsgd.data.row_store.RowStore` (in memory or spilled).
        window_rows: rows per window (the memory of an epoch is about 2–3 windows).
        piece_rows: rows per piece, the unit read at once (default:
            :func:`~linsgd.data.batching.default_piece_rows`).
    """

    def __init__(self, table, window_rows: int, piece_rows: int | None = None) -> None:
        self.table, self.window_rows = table, max(1, int(window_rows))
        row_bytes = (table.d + 1 + table.weighted) * table.dtype.itemsize
        self.piece_rows = max(1, int(piece_rows or default_piece_rows(self.window_rows, row_bytes)))
        self.pieces = [(s, min(s + self.piece_rows, table.n)) for s in range(0, table.n, self.piece_rows)]
        self.per_window = max(1, self.window_rows // self.piece_rows)  # m: pieces (strata) per window
        self.nwindows = max(1, -(-len(self.pieces) // self.per_window))  # K

    @property
    def n(self) -> int:
        return self.table.n

    def windows(self, seed: int, epoch: int):
        """Yield, per window, the row ranges it holds and the permutation of its rows (module docstring)."""
        for k, pieces in enumerate(stratified_windows(seed, epoch, len(self.pieces), self.nwindows)):
            group = [self.pieces[p] for p in pieces]
            rows = sum(b - a for a, b in group)
            yield group, np.random.default_rng([seed, _WINDOW_STREAM, epoch, k]).permutation(rows)

    def epoch_orders(self, seed: int, epochs: int, start: int = 0):
        """Each epoch's key ``(seed, epoch)`` of the block shuffle (windows are permuted as they are read)."""
        return ((seed, epoch) for epoch in range(start, epochs))

    def epoch_runs(self, order: tuple[int, int], batch_size: int):
        """The epoch as runs ``(X, y, idx, v)``, one per window, batches continuing across windows.

        A run is the rows carried from the last window, then the window's rows as read, standardised for
        the engine, and the first ``use`` entries of the window's order, a whole number of batches; the
        rest (fewer than a batch) is carried on. While the engine runs on a window, a background thread
        reads and standardises the next one (the reads and NumPy release the GIL): the rows a stratified
        window gathers from all over the file cost no wall time.
        """
        head = max(0, batch_size - 1)  # room for the carried rows, read before their number is known
        d, dtype = self.table.d, self.table.dtype
        carry_X, carry_y = np.empty((0, d), dtype=dtype), np.empty(0, dtype=dtype)
        carry_v = np.empty(0, dtype=dtype)
        last, seen = len(self.pieces), 0

        def load(group):
            X, y, v = self.table.read_raw(group, head=head)
            return self.table.transform(X, inplace=True), y, v  # in place: no float64 copy of the window

        windows = self.windows(*order)
        pool, finished = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linsgd-window"), False
        try:
            ahead = next(windows, None)
            pending = pool.submit(load, ahead[0]) if ahead is not None else None
            while ahead is not None:
                (group, perm), (X, y, v) = ahead, pending.result()
                ahead = next(windows, None)
                pending = pool.submit(load, ahead[0]) if ahead is not None else None
                c = len(carry_y)
                X, y = X[head - c:], y[head - c:]
                X[:c], y[:c] = carry_X, carry_y
                if v is not None:
                    v = v[head - c:]
                    v[:c] = carry_v
                visit = np.concatenate([np.arange(c), c + perm])
                seen += len(group)
                use = len(y) if seen == last else len(y) // batch_size * batch_size
                if use:
                    yield X, y, visit[:use], v
                carry_X, carry_y = X[visit[use:]], y[visit[use:]]
                carry_v = v[visit[use:]] if v is not None else carry_v
                X = y = v = None  # free this window before the next one is read
            finished = True
        finally:
            # an abandoned epoch (the loop raised) is closed by the garbage collector, possibly inside
            # threading's locks: only a finished one waits for the reader (as linsgd.data.batching does)
            pool.shutdown(wait=finished, cancel_futures=not finished)

    def loss(self, engine, w, b) -> float:
        """Mean ½ v(Xw + b − y)² over all rows, accumulated window by window (in file order) in float64."""
        total = 0.0
        for a in range(0, self.n, self.window_rows):
            b_ = min(a + self.window_rows, self.n)
            X, y = self.table.read(a, b_)
            total += engine.loss(X, y, w, b, self.table.read_weight(a, b_)) * (b_ - a)
        return total / self.n

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-self.n // batch_size)

    def sample(self) -> np.ndarray:
        """The first window's features (enough to estimate a stable learning rate)."""
        return self.table.read(0, min(self.n, self.window_rows))[0]

    def rows(self, start: int = 0, stop: int | None = None):
        """Rows [start, stop) read from the table in file order, at most a window at a time."""
        stop, step = self.n if stop is None else stop, self.window_rows
        for a in range(start, stop, step):
            yield self.table.read(a, min(a + step, stop))


def normalized_weights(weight, n: int, dtype) -> np.ndarray | None:
    """Sample weights as the views hold them: v = s / mean(s) in ``dtype`` (None stays None).

    Then the mean of ½ v_i r_i² is Σ s_i r_i² / (2 Σ s_i), the weighted objective, and a minibatch step
    with v_i r_i is the plain step on data where row i appears s_i / mean(s) times.
    """
    if weight is None:
        return None
    s = np.asarray(weight, dtype=np.float64).reshape(-1)
    return np.ascontiguousarray(s * (n / s.sum()), dtype=dtype)
