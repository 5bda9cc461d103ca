"""svmlight rows streamed window by window: the order of a streamed table (:mod:`linsgd.data.views`) over the
file's blocks, read again from the file each epoch, as CSR.

The first pass (:func:`scan`) reads the file once in blocks of whole lines
(:func:`linsgd.data.formats.svmlight.blocks`), checks every row with the same error path as reading it whole
(``FILE:LINE: column C: …``), and keeps each block's byte range and row count, and the width d. It keeps
the parsed rows too while they fit the memory budget (the run is then trained in memory); past it, it
writes every parsed block to a spill file (binary CSR: y, row pointers, indices, values; ``--tmp-dir``, deleted
when the run ends) and the run is streamed: a block is a *piece*, the pieces are dealt to windows by
:func:`~linsgd.data.batching.stratified_windows` (one piece of every stratum per window), a window's rows
are permuted by ``default_rng([seed, 4, epoch, k])``, and batches continue across windows, exactly as for a
table — so a streamed epoch is the in-memory epoch over the rows in the order of :meth:`SvmlightStreamed.
windows` (the tests compare them). A window is read from the spill file when it is trained (no second parse
of the text: parsing is most of the first pass's time).

Why not the typed table path (``data/formats`` → cells → :class:`~linsgd.data.row_store.RowStore`): it carries
named, typed, dense columns through roles, encoding and standardisation; svmlight rows are unnamed
indices up to 2²⁰ wide, kept sparse, with none of those steps. Their reader is one file
(:mod:`linsgd.data.formats.svmlight`) and this view.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from dataclasses import dataclass

import numpy as np

from linsgd.data.batching import stratified_windows
from linsgd.data.checks import data_error
from linsgd.data.formats.svmlight import blocks, read_block

_WINDOW_STREAM = 4  # the seed-sequence branch of a window's permutation (as linsgd.data.views)


@dataclass(frozen=True)
class Piece:
    """One block of whole lines: its byte range in the file, its first line (1-based), its rows and stored
    values, and where its CSR starts in the spill file (-1: not spilled)."""

    offset: int
    size: int
    first_line: int
    rows: int
    nnz: int
    spilled: int = -1


@dataclass
class Scan:
    """What the first pass found: the pieces, n, d, and the rows as CSR parts when they fit the budget."""

    pieces: list[Piece]
    n: int
    d: int
    nnz: int
    parts: list | None  # [(X, y)] of every non-empty block, or None past the budget
    fingerprint: str  # of the file's bytes
    spill: object = None  # the spill file (an open binary temporary file) past the budget

    @property
    def csr_bytes(self) -> int:
        """Bytes the rows take as float64 CSR (values, int32 indices, row pointers) and y."""
        return self.nnz * 12 + self.n * 16


def scan(path, *, dtype: str, chunk_bytes: int, budget: int, spill_dir=None) -> Scan:
    """The first pass over the svmlight file ``path`` (module docstring); DataError for a bad row or no rows.
    ``spill_dir``: where the spill file goes past the budget (None: the system's temporary folder)."""
    pieces, parts, kept, n, d, nnz, offset, spill = [], [], 0, 0, 0, 0, 0, None
    digest = hashlib.blake2b(digest_size=16)
    for first, block in blocks(path, chunk_bytes):
        digest.update(block)
        X, y = read_block(path, first, block, dtype)
        if X.shape[0]:
            pieces.append(Piece(offset, len(block), first, X.shape[0], X.nnz))
            n, d, nnz = n + X.shape[0], max(d, X.shape[1]), nnz + X.nnz
            if spill is not None:
                pieces[-1] = _spill(spill, pieces[-1], X, y)
            else:
                parts.append((X, y))
                kept += X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + y.nbytes
                if kept > budget:  # from here on, every block goes to the spill file
                    spill = tempfile.TemporaryFile(dir=spill_dir, prefix="linsgd-svmlight-")
                    start = len(pieces) - len(parts)
                    for k, (Xk, yk) in enumerate(parts):
                        pieces[start + k] = _spill(spill, pieces[start + k], Xk, yk)
                    parts = None
        offset += len(block)
    if not n:
        raise data_error(path, None, "no rows: every line is blank or a # comment")
    return Scan(pieces, n, d, nnz, parts, digest.hexdigest(), spill)


def _spill(f, piece: Piece, X, y) -> Piece:
    """Append a block's CSR to the spill file ``f``: y, row pointers, column indices (int64), values."""
    at = f.seek(0, 2)
    for a in (y.astype(np.float64), X.indptr.astype(np.int64), X.indices.astype(np.int64), X.data):
        f.write(np.ascontiguousarray(a).tobytes())
    return dataclasses.replace(piece, spilled=at)


def stack(parts, d: int):
    """One CSR (rows, d) and y of the CSR parts (each of its own width <= d)."""
    import scipy.sparse as sp

    X = sp.vstack([sp.csr_matrix((p.data, p.indices, p.indptr), shape=(p.shape[0], d)) for p, _ in parts],
                  format="csr")
    return X, np.concatenate([y for _, y in parts])


class SvmlightStreamed:
    """The data view (:class:`linsgd.data.views.DataView`) of an svmlight file read window by window.

    Args:
        path: the file. found: its :class:`Scan`, spilled (``found.spill``). dtype: the training dtype.
            window_rows: rows per window (whole pieces: at least one).
    """

    def __init__(self, path, found: Scan, dtype: str, window_rows: int) -> None:
        self.path, self.pieces, self.d, self.dtype, self.spill = path, found.pieces, found.d, dtype, found.spill
        self.n = found.n
        mean_rows = self.n / len(self.pieces)
        self.per_window = max(1, int(window_rows // mean_rows))  # pieces (strata) per window
        self.nwindows = max(1, -(-len(self.pieces) // self.per_window))

    def read(self, pieces):
        """``(X CSR (rows, d), y)`` of the given pieces, in their order, read from the spill file; DataError
        (naming the block's first line) for a value that overflows the training dtype."""
        import scipy.sparse as sp

        parts, f = [], self.spill
        for p in pieces:
            f.seek(p.spilled)
            y = np.fromfile(f, np.float64, p.rows)
            indptr = np.fromfile(f, np.int64, p.rows + 1)
            indices = np.fromfile(f, np.int64, p.nnz)
            data = np.fromfile(f, np.float64, p.nnz)
            X = sp.csr_matrix((data.astype(self.dtype), indices, indptr), shape=(p.rows, self.d))
            y = y.astype(self.dtype)
            if not (np.all(np.isfinite(X.data)) and np.all(np.isfinite(y))):
                raise data_error(self.path, None, f"a value of the lines from {p.first_line} on overflows "
                                                  f"{self.dtype}: train with --dtype float64")
            parts.append((X, y))
        return stack(parts, self.d)

    def windows(self, seed: int, epoch: int):
        """Yield, per window, its pieces and the permutation of its rows."""
        for k, chosen in enumerate(stratified_windows(seed, epoch, len(self.pieces), self.nwindows)):
            group = [self.pieces[p] for p in chosen]
            rows = sum(p.rows for p in group)
            yield group, np.random.default_rng([seed, _WINDOW_STREAM, epoch, k]).permutation(rows)

    def epoch_orders(self, seed: int, epochs: int, start: int = 0):
        return ((seed, epoch) for epoch in range(start, epochs))

    def epoch_runs(self, order: tuple[int, int], batch_size: int):
        """Runs ``(X, y, idx, None)``, one per window: the rows carried from the last window, then the window's,
        and the first whole batches of their order; the rest (fewer than a batch) is carried on."""
        import scipy.sparse as sp

        carry_X, carry_y = sp.csr_matrix((0, self.d), dtype=self.dtype), np.empty(0, dtype=self.dtype)
        seen, last = 0, len(self.pieces)
        for group, perm in self.windows(*order):
            X, y = self.read(group)
            X, y = sp.vstack([carry_X, X], format="csr"), np.concatenate([carry_y, y])
            c = len(carry_y)
            visit = np.concatenate([np.arange(c), c + perm])
            seen += len(group)
            use = len(y) if seen == last else len(y) // batch_size * batch_size
            if use:
                yield X, y, visit[:use], None
            carry_X, carry_y = X[visit[use:]], y[visit[use:]]

    def loss(self, engine, w, b) -> float:
        """Mean ½ (Xw + b − y)² over all rows, a window of pieces at a time in file order."""
        total = 0.0
        for a in range(0, len(self.pieces), self.per_window):
            X, y = self.read(self.pieces[a:a + self.per_window])
            total += engine.loss(X, y, w, b) * len(y)
        return total / self.n

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-self.n // batch_size)

    def sample(self):
        """The first window's rows (CSR)."""
        return self.read(self.pieces[:self.per_window])[0]

    def rows(self):
        """``(X, y)`` a window of pieces at a time, in file order."""
        for a in range(0, len(self.pieces), self.per_window):
            yield self.read(self.pieces[a:a + self.per_window])
