"""The cells of a typed batch as values: numbers, dates as days, text; checked and filtered per ``--missing``.

:class:`Cells` turns one pyarrow RecordBatch (the columns a :class:`~linsgd.data.formats.base.Source` reads,
in their own types) into :class:`Rows`. It is where a bad value stops reading with ``FILE:LINE: column 'c': problem``
(or, with ``on_bad_rows="skip"``, where the row is dropped and counted) and where empty cells meet the
missing-value policy:

* ``"error"`` (default): the first empty cell is an error naming its line and column (and the two other
  policies), as before; with ``on_bad_rows="skip"`` such rows are skipped like any bad row.
* ``"impute"``: empty feature cells are kept and marked missing (:mod:`linsgd.data.encoding` fills them);
  a row whose *target* is empty is dropped and counted (a target is never invented).
* ``"drop"``: rows with an empty cell are dropped; the count is kept per column.

Numbers and dates become float64 through the one converter, :func:`linsgd.data.formats.arrow.floats` (dates as days
since 1970-01-01).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from linsgd.config import MISSING
from linsgd.data.checks import bad_cells, data_error, first_problem, too_large
from linsgd.data.formats.arrow import NotDate, TooBig, bool_array, floats, valid_mask
from linsgd.errors import ConfigError

MISSING_HINT = "use --missing impute (the training mean) or --missing drop (skip the row)"


@dataclass
class Rows:
    """Checked rows of one batch.

    Attributes:
        values: (m, k) float64 of the numeric and date inputs (0 where missing). missing: (m, k) bool.
        text: the categorical inputs as pyarrow string arrays (null where missing). y: (m,) or None.
        lines: line (CSV) or row numbers. extra: pass-through columns (pyarrow arrays), e.g. ``predict --id``.
    """

    values: np.ndarray
    missing: np.ndarray
    text: list
    y: np.ndarray | None
    lines: np.ndarray
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


class Cells:
    """Reads batches of ``numeric + categorical (+ target) (+ extra)`` columns into :class:`Rows`.

    Args:
        numeric: numeric and date input columns. categorical: text input columns. target: or None.
        extra: pass-through columns. dtype: the training dtype (float32 also rejects |x| > float32 max).
        missing: "error", "impute" or "drop". skip: ``on_bad_rows == "skip"``.

    Attributes:
        skipped: bad rows skipped. dropped: per column, rows dropped for an empty cell there (``drop``, and
        empty targets under ``impute``); a row empty in two columns counts in both. dropped_rows: in all.
    """

    def __init__(self, numeric: list[str], categorical: list[str], target: str | None, *, extra=(),
                 dtype: str = "float64", missing: str = "error", skip: bool = False) -> None:
        if missing not in MISSING:
            raise ConfigError("missing", missing, f"one of {', '.join(MISSING)}")
        self.numeric, self.categorical, self.target, self.extra = list(numeric), list(categorical), target, list(extra)
        self.dtype, self.missing, self.skip = dtype, missing, skip
        self.checked = self.numeric + self.categorical + ([target] if target else [])
        self.skipped, self.dropped_rows, self.dropped = 0, 0, {}

    def rows(self, batch, bad_rows, lines: np.ndarray, where) -> Rows:
        """The checked rows of ``batch`` (columns by name); DataError at the first bad or (policy
        ``error``) empty cell unless skipping."""
        k, c = len(self.numeric), len(self.categorical)
        values = np.zeros((batch.num_rows, len(self.checked)))
        valid = np.ones(values.shape, dtype=bool)
        for j, name in enumerate(self.checked):
            col = batch.column(name)
            valid[:, j] = valid_mask(col)  # not to_numpy: it imports pandas (linsgd.data.formats.arrow)
            if not k <= j < k + c:
                try:
                    values[:, j] = floats(col)
                except NotDate as e:  # a text date column (Parquet, DataFrame) with a cell that is not one
                    if not self.skip:
                        raise data_error(where, int(lines[e.rows[0]]), _NOT_DATE, column=name,
                                         value=e.values[0]) from None
                    values[:, j] = e.days
                    bad_rows = e.bad if bad_rows is None else bad_rows | e.bad
                except TooBig as e:
                    raise too_large(where, int(lines[e.row]), name, e.value) from None
        bad = bad_cells(values, None, self.dtype).any(axis=1)
        if bad_rows is not None:
            bad |= bad_rows
        empty = ~valid
        if not self.skip and (bad.any() or (self.missing == "error" and empty.any())):
            raise self._problem(where, values, valid, lines)
        keep = ~bad
        if self.skip and self.missing == "error":
            bad |= empty.any(axis=1)
            keep = ~bad
        self.skipped += int((~keep).sum())
        if self.missing != "error":
            drop = empty[:, -1] if self.target else np.zeros(len(keep), dtype=bool)
            if self.missing == "drop":
                drop = empty.any(axis=1)
            drop &= keep
            for j in np.flatnonzero(empty[drop].any(axis=0)):
                name = self.checked[j]
                self.dropped[name] = self.dropped.get(name, 0) + int(empty[drop, j].sum())
            self.dropped_rows += int(drop.sum())
            keep &= ~drop
        return self._rows(batch, values, empty, keep, lines)

    def _rows(self, batch, values, empty, keep, lines) -> Rows:
        import pyarrow.compute as pc

        k, c = len(self.numeric), len(self.categorical)
        mask = None if keep.all() else bool_array(keep)
        take = (lambda col: col) if mask is None else (lambda col: pc.filter(col, mask))
        text = [take(_strings(batch.column(name))) for name in self.categorical]
        extra = {name: take(batch.column(name)) for name in self.extra}
        y = values[keep, k + c] if self.target else None
        return Rows(values[keep, :k], empty[keep, :k], text, y, lines[keep], extra)

    def _problem(self, where, values, valid, lines):
        """The DataError of the first bad or empty cell (row-major), empty cells naming the two policies."""
        problems = bad_cells(values, None, self.dtype) | (~valid if self.missing == "error" else False)
        if self.missing != "error":  # only values are problems: report the first bad one, not a gap
            valid = np.ones_like(valid)
        hits = np.argwhere(problems)
        if not len(hits):  # an unparsable cell flagged by the reader (only when skipping)
            return data_error(where, None, "bad cell")
        i, j = (int(v) for v in hits[0])
        if not valid[i, j]:
            why = "empty cell (the target cannot be imputed: --missing drop skips such rows)" \
                if self.checked[j] == self.target and self.missing == "error" else f"empty cell ({MISSING_HINT})"
            return data_error(where, int(lines[i]), why, column=self.checked[j])
        return first_problem(where, values[i:i + 1], None, self.dtype, self.checked, lines[i:i + 1])


_NOT_DATE = "not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"


def _strings(col):
    """A categorical column (string, dictionary, bool) as a pyarrow string array, nulls kept."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if pa.types.is_boolean(col.type):
        col = col.cast(pa.string())  # "true" / "false"
    return col if col.type == pa.string() else col.cast(pa.string())
