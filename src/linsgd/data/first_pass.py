"""The first pass over a table for training or prediction: its typed source, its column roles, and its preprocessing.

Training reads the data twice: the first pass (:func:`scan`) decides what each column needs — the levels
of every categorical column, the training rows' means for imputation, which columns had gaps, whether a
column named like an identifier is all distinct — and :class:`Encoded` then yields the encoded chunks to
:func:`linsgd.data.rows.load_rows` (the second pass, which splits, standardises and spills as before).
Prediction builds an :class:`Encoded` from the Preprocessor stored in the model file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linsgd.config import DataConfig
from linsgd.data.cells import Cells
from linsgd.data.checks import data_error
from linsgd.data.encoding import Census, Preprocessor
from linsgd.data.formats.arrow import TEXT_DATE_UNIT, floats, valid_mask
from linsgd.data.formats.base import Source
from linsgd.data.formats.registry import open_source
from linsgd.data.formula import TermNotFinite, with_formula
from linsgd.data.formula_text import apply_formula, categorical_roles, check_columns, parse
from linsgd.data.roles import CATEGORICAL, Column, decide_roles, looks_like_identifier, text_dates
from linsgd.data.rows import split_mask


def open_table(data, cfg: DataConfig, *, dtype: str = "float64") -> tuple[Source, list[Column]]:
    """The typed source of ``data`` (a path, a pandas or polars DataFrame, a pyarrow Table) and its roles.

    ``cfg`` says which columns are the target, the features (``features``, ``exclude``) and the sample weights,
    and how to read (``on_bad_rows``, ``chunk_bytes``); ``dtype`` is the training dtype. The source is left
    reading the feature columns and the target, in file order; the ``weight`` column gets the weight role
    and is read by :class:`Encoded` (``weight=``).

    Raises:
        DataError: the data cannot be opened, a named column is missing, a feature's type is not usable.
    """
    cfg = apply_formula(cfg)
    source = open_typed(data, cfg, dtype=dtype)
    if cfg.formula:
        check_columns(source.path, parse(cfg.formula), list(source.columns))
    types = _types(source)
    roles = decide_roles(source.path, source.columns, types, target=cfg.target, features=cfg.features,
                         exclude=tuple(cfg.exclude or ()), index_columns=source.index_columns, weight=cfg.weight)
    roles = categorical_roles(roles, cfg)
    source.select([c.name for c in roles if c.is_feature], cfg.target)
    return source, roles


def encode(data, cfg: DataConfig, *, dtype: str = "float64", seed: int = 0) -> Encoded:
    """The whole first pass on one process: :func:`open_table`, :func:`scan` and the fitted Preprocessor, as
    the :class:`Encoded` table the second pass reads (its chunks: :meth:`Encoded.chunks`).

    ``seed`` splits the rows as :func:`linsgd.data.rows.load_rows` does (the preprocessing is fitted on the
    training rows of ``cfg.val_fraction``).

    Raises:
        DataError: as :func:`open_table` and :func:`scan`.
    """
    cfg = apply_formula(cfg)
    source, roles = open_table(data, cfg, dtype=dtype)
    census, _ = scan(source, roles, cfg, seed=seed)
    return Encoded(source, fit_preprocessing(census, roles, cfg), weight=cfg.weight)


def fit_preprocessing(census: Census, roles: list[Column], cfg: DataConfig):
    """The Preprocessor the census fits for these roles, compiled with ``cfg.formula`` when there is one
    (:class:`~linsgd.data.formula.FormulaPreprocessor`)."""
    pre = census.fit({c.name: c.role for c in roles}, cfg.missing, [c.name for c in roles if c.is_feature])
    return with_formula(pre, cfg, roles)


def _types(source: Source) -> list:
    """The column types roles are decided from: text columns of ISO dates as dates (:func:`text_dates`; a CSV
    reader already parses them), from the first batch."""
    import pyarrow as pa

    text = {c: t for c, t in zip(source.columns, source.types, strict=True)
            if pa.types.is_string(t) or pa.types.is_large_string(t)}
    if not text:
        return source.types
    first = next(iter(source.batches(text)), None)  # read as text: a reader left alone may infer another type
    return text_dates(source.columns, source.types, first[0] if first is not None else None)


def open_typed(data, cfg: DataConfig, *, dtype: str = "float64") -> Source:
    """The typed source of ``data`` (see :func:`open_table`) with no roles decided: for a model's columns
    (``cfg.target`` may be None: predicting)."""
    return open_source(data, target=cfg.target, dtype=dtype, on_bad_rows=cfg.on_bad_rows, chunk_bytes=cfg.chunk_bytes,
                       format=cfg.format)


def read_types(source: Source, kinds: dict[str, str]) -> dict:
    """The pyarrow type to read each selected column as (formats that parse text, CSV, follow it)."""
    import pyarrow as pa

    types = dict(zip(source.columns, source.types, strict=True))

    def of(c):
        kind, t = kinds.get(c), types[c]
        if kind == CATEGORICAL:
            return pa.string()
        if kind == "date":
            return t if pa.types.is_temporal(t) else pa.timestamp(TEXT_DATE_UNIT)
        return pa.float64() if kind is not None or c == source.target else t

    return {c: of(c) for c in source.selected}


def scan(source: Source, roles: list[Column], cfg: DataConfig, *, seed: int) -> tuple[Census, dict]:
    """The first pass: the :class:`Census` of the training rows, and what was seen on the way.

    ``cfg`` gives the split (``val_fraction``, with ``seed``), the ``missing`` policy and ``max_levels``.
    Rows are numbered as :func:`linsgd.data.rows.load_rows` numbers them (among the rows kept), so the
    training rows here are exactly the ones trained on.

    Returns:
        ``(census, seen)``: ``seen`` holds ``skipped`` and ``dropped`` (per column) of this pass, and
        ``identifiers``: the integer features named like an identifier whose values are all distinct.
    """
    kinds = {c.name: c.role for c in roles if c.is_feature}
    types, cells = read_types(source, kinds), _cells(source, kinds, cfg.missing)
    census = Census.empty(cells.numeric, cells.categorical, cfg.max_levels, cfg.hash_bits)
    ids = {c.name: [] for c in roles if looks_like_identifier(c)}
    first = source.skipped = 0
    for batch, bad, lines, where in source.batches(types):
        rows = cells.rows(batch, bad, lines, where)
        train = ~split_mask(seed, first, len(rows), cfg.val_fraction)
        first += len(rows)
        census = census.update(rows, train)
        for name in ids:
            j = cells.numeric.index(name)
            ids[name].append(rows.values[~rows.missing[:, j], j])
    if first == 0:
        skipped = cells.skipped + source.skipped
        why = (f"all {skipped} data rows are bad (skipped)" if skipped
               else "no rows left (every row was dropped for an empty cell)" if cells.dropped_rows
               else "no data rows (header only?)")
        raise data_error(source.path, None, why)
    distinct = [n for n, parts in ids.items() if _all_distinct(parts, first)]
    return census, {"skipped": cells.skipped + source.skipped, "dropped": dict(cells.dropped),
                    "dropped_rows": cells.dropped_rows, "identifiers": distinct}


def _all_distinct(parts: list[np.ndarray], n: int) -> bool:
    values = np.concatenate(parts) if parts else np.empty(0)
    return len(values) == n and len(np.unique(values)) == n


def _cells(source: Source, kinds: dict[str, str], missing: str, extra=()) -> Cells:
    numeric = [c for c in source.features if kinds[c] != CATEGORICAL]
    categorical = [c for c in source.features if kinds[c] == CATEGORICAL]
    return Cells(numeric, categorical, source.target, extra=extra, dtype=source.dtype, missing=missing,
                 skip=source.skip)


@dataclass
class Chunk:
    """Encoded rows: X (m, p) and y (m,) (None when no target was asked for), in the training dtype;
    ``s`` (m,) the sample weights when a weight column was asked for (else None)."""

    X: np.ndarray
    y: np.ndarray | None
    s: np.ndarray | None = None


class Encoded:
    """Encoded chunks of a typed source: what :func:`~linsgd.data.rows.load_rows` and predict read.

    Args:
        source: a typed :class:`Source` reading the preprocessor's inputs (and target). pre: the Preprocessor.
        missing: the policy for gaps (default: the preprocessor's; ``drop`` for evaluation).
        extra: pass-through columns to read along (``predict --id``).

    Attributes:
        features: the model's feature names. unseen: per categorical column, cells of unknown levels.
        skipped, dropped, dropped_rows: as :class:`~linsgd.data.cells.Cells` counts them, this pass.
    """

    def __init__(self, source: Source, pre: Preprocessor, *, missing: str | None = None, extra=(),
                 weight: str | None = None) -> None:
        self.source, self.pre, self.path, self.dtype = source, pre, source.path, source.dtype
        self.weight = weight
        extra = [*extra, *([weight] if weight and weight not in extra else [])]
        self.features, self.target, self.num_rows = pre.names, source.target, source.num_rows
        kinds = {i.name: i.kind for i in pre.inputs}
        source.select([i.name for i in pre.inputs], source.target, list(extra))
        self.kinds = kinds
        self.cells = _cells(source, kinds, missing or pre.missing, extra=[c for c in extra if c in source.extra])
        self.unseen: dict[str, int] = {}

    @property
    def skipped(self) -> int:
        """Bad rows skipped in the last pass: by the reader (ragged rows) and by the checks."""
        return self.cells.skipped + self.source.skipped

    @property
    def dropped(self) -> dict:
        return self.cells.dropped

    def blocks(self):
        """Yield ``(X (m, p) in the source's dtype, y or None, extra columns)`` per chunk, in file order."""
        for X, y, rows in self._encoded():
            yield X, y, rows.extra

    def _encoded(self):
        """Yield ``(X, y, Rows)`` per chunk (see :meth:`blocks`)."""
        types = read_types(self.source, self.kinds)
        kept = self.source.skipped = self.cells.skipped = self.cells.dropped_rows = 0
        self.cells.dropped, self.unseen = {}, {}
        for batch, bad, lines, where in self.source.batches(types):
            rows = self.cells.rows(batch, bad, lines, where)
            if not len(rows):
                continue
            try:
                X, unseen = self.pre.transform(rows)
            except TermNotFinite as e:
                raise data_error(self.path, int(rows.lines[e.row]), f"formula term '{e.term}' is {e.value} (a "
                                 f"term must be finite: change the term or the rows)", column=e.column) from None
            for name, k in unseen.items():
                self.unseen[name] = self.unseen.get(name, 0) + k
            kept += len(rows)
            y = None if rows.y is None else np.ascontiguousarray(rows.y, dtype=self.dtype)
            yield np.ascontiguousarray(X, dtype=self.dtype), y, rows
        if kept == 0:
            why = (f"all {self.skipped} data rows are bad (skipped)" if self.skipped
                   else "no rows left (every row was dropped for an empty cell)" if self.cells.dropped_rows
                   else "no data rows (header only?)")
            raise data_error(self.path, None, why)

    def chunks(self):
        """Yield :class:`Chunk` (the interface of :func:`load_rows`), with the sample
        weights when a weight column was given (DataError naming line and column for a negative, empty or
        non-finite weight)."""
        for X, y, rows in self._encoded():
            yield Chunk(X, y, None if self.weight is None else self._weights(rows))

    def _weights(self, rows) -> np.ndarray:
        column = rows.extra[self.weight]
        s = np.where(valid_mask(column), floats(column.cast("float64")), np.nan)  # an empty weight: NaN
        bad = np.flatnonzero(~np.isfinite(s) | (s < 0))
        if len(bad):
            i = int(bad[0])
            what = "negative sample weight" if s[i] < 0 else "NaN" if np.isnan(s[i]) else "infinite sample weight"
            raise data_error(self.path, int(rows.lines[i]), f"{what} (a weight must be a finite number >= 0; "
                             f"an empty cell is NaN)", column=self.weight, value=repr(float(s[i])))
        return np.ascontiguousarray(s, dtype=self.dtype)


def describe_roles(roles: list[Column], pre: Preprocessor, seen: dict) -> list[str]:
    """One line per column: its name and role (what a feature became, why a column is left out)."""
    what = pre.describe()
    shown = {c.name: c.name or "''" for c in roles}  # pandas writes an unnamed index column as ""
    width = max(len(n) for n in shown.values())
    lines = []
    for c in roles:
        if c.is_feature:
            text = what[c.name]
            if c.name in seen.get("identifiers", ()):
                text += " (all values distinct: an identifier? --exclude leaves it out)"
        elif c.role == "excluded":
            text = f"excluded ({c.why})"
        else:
            text = c.role
        dropped = seen.get("dropped", {}).get(c.name)
        if dropped:
            text += f"; {dropped} rows dropped for an empty cell"
        lines.append(f"  {shown[c.name]:<{width}}  {text}")
    return lines + (pre.describe_terms() if hasattr(pre, "describe_terms") else [])
