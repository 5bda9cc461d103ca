"""Column roles: what each column of a table is for, decided once from its type and the flags, and shown.

Every column gets exactly one role, and ``linsgd train`` prints them all before training:

* ``numeric`` — integers, floats and decimals: one feature each.
* ``categorical`` — text (CSV), string, dictionary and bool columns (Parquet, DataFrames): one-hot encoded
  with the first level in sorted order as the reference (see :mod:`linsgd.data.encoding`).
* ``date`` — dates and timestamps (Parquet, DataFrames), and text columns of ``YYYY-MM-DD[THH:MM:SS]``
  (CSV, and the string columns pandas writes to Parquet or holds in a DataFrame: the same column gets the
  same role on every path, :func:`text_dates`): one feature, days since 1970-01-01 (a timestamp keeps its
  time of day as a fraction).
* ``target``, ``weight`` (sample weights; reserved for ``--weight``), ``excluded`` (with why: ``--exclude``,
  not in ``--features``, or a pandas index).

Any other type (lists, structs, binary, durations) is refused with the column and its type; nothing is
dropped without being listed. A CSV column that pyarrow reads as text but whose cells in the first block
are mostly numbers is a numeric column with a bad cell, reported with its line when read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linsgd.data.checks import data_error
from linsgd.data.formats.arrow import TEXT_DATE_UNIT

NUMERIC, CATEGORICAL, DATE = "numeric", "categorical", "date"
TARGET, WEIGHT, EXCLUDED = "target", "weight", "excluded"
FEATURE_KINDS = (NUMERIC, CATEGORICAL, DATE)
# an integer column named like this, with all values distinct, is probably a row identifier
IDENTIFIER = re.compile(r"(?i)^(id|.*_id)$")
# what a number and an ISO date look like as text: the share of such cells decides a text column's kind
NUMBER_TEXT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(inf|infinity|nan)\s*$"
DATE_TEXT = r"^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d*)?)?)?\s*$"


@dataclass(frozen=True)
class Column:
    """One column and its role; ``why`` says why it is excluded, ``type`` is its pyarrow type as text."""

    name: str
    role: str
    type: str = ""
    why: str = ""

    @property
    def is_feature(self) -> bool:
        return self.role in FEATURE_KINDS


def kind_of(t) -> str | None:
    """The feature kind of a pyarrow type: numeric, categorical, date, or None (not usable)."""
    import pyarrow as pa

    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_null(t):
        return NUMERIC
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t):
        return CATEGORICAL
    if pa.types.is_dictionary(t):
        return CATEGORICAL if kind_of(t.value_type) in (CATEGORICAL, NUMERIC) else None
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return DATE
    return None


def text_counts(col) -> tuple[int, int, int]:
    """``(filled, numbers, dates)``: the non-empty cells of a text column, and how many look like a number
    and like an ISO date."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # a cast to bool rather than `> 0`: a Python scalar argument would make pyarrow import pandas (0.2 s)
    filled = int(pc.sum(pc.cast(pc.binary_length(col), pa.bool_())).as_py() or 0)
    numbers, dates = (int(pc.sum(pc.match_substring_regex(col, r)).as_py() or 0) for r in (NUMBER_TEXT, DATE_TEXT))
    return filled, numbers, dates


def mostly_numbers(col) -> bool:
    """Whether at least half the non-empty cells of a text column look like numbers (and one does)."""
    filled, numbers, _ = text_counts(col)
    return numbers > 0 and 2 * numbers >= filled


def mostly_dates(col) -> bool:
    """Whether a text column's non-empty cells are at least half ISO dates (``YYYY-MM-DD[THH:MM[:SS]]``)
    and fewer of them numbers: the rule CSV columns follow (:func:`linsgd.data.formats.csv.csv_types`)."""
    filled, numbers, dates = text_counts(col)
    return not (numbers > 0 and 2 * numbers >= filled) and dates > 0 and 2 * dates >= filled


def text_dates(names: list[str], types: list, first_batch) -> list:
    """``types`` with ``timestamp[us]`` for each string column whose cells in ``first_batch`` (a pyarrow
    RecordBatch with those column names, or None) are mostly ISO dates (:func:`mostly_dates`): Parquet and
    DataFrames store such a column as text, a CSV reader parses it as dates; both get the date role.
    Its cells are parsed when read (:mod:`linsgd.data.cells`), a bad one reported with its row."""
    import pyarrow as pa

    out = list(types)
    if first_batch is None:
        return out
    present = set(first_batch.schema.names)
    for j, (name, t) in enumerate(zip(names, types, strict=True)):
        if (pa.types.is_string(t) or pa.types.is_large_string(t)) and name in present:
            col = first_batch.column(name)
            if pa.types.is_large_string(t):
                col = col.cast(pa.string())
            if mostly_dates(col):
                out[j] = pa.timestamp(TEXT_DATE_UNIT)
    return out


def decide_roles(path, names: list[str], types: list, *, target: str | None, features=None, exclude=(),
                 index_columns=(), weight: str | None = None) -> list[Column]:
    """The role of every column, in file order.

    Args:
        path: the data, for messages. names, types: the columns and their pyarrow types.
        target: the target column (None: predicting). features: the feature columns (None: every column
            not given another role). exclude: columns left out. index_columns: a pandas index (left out
            unless named in ``features``). weight: the sample-weight column, or None.

    Raises:
        DataError: a named column does not exist, the target is not numeric, a feature's type is not
            usable (names the column, its type and ``--exclude``), or no feature is left.
    """
    known = set(names)
    for flag, cols in (("--exclude", exclude), ("--features", features or ()), ("--target", [target] * bool(target))):
        absent = [c for c in cols if c not in known]
        if absent:
            raise data_error(path, None, f"{flag}: column{'s' if len(absent) > 1 else ''} "
                             f"{', '.join(repr(c) for c in absent)} not found (columns: {', '.join(names)})")
    out = []
    for name, t in zip(names, types, strict=True):
        shown, kind = str(t), kind_of(t)
        if name == target:
            if kind != NUMERIC or (t is not None and str(t) == "null"):
                raise data_error(path, None, f"the target must be numeric (type {t})", column=name)
            out.append(Column(name, TARGET, shown))
        elif name == weight:
            out.append(Column(name, WEIGHT, shown))
        elif name in exclude:
            out.append(Column(name, EXCLUDED, shown, "--exclude"))
        elif features is not None and name not in features:
            out.append(Column(name, EXCLUDED, shown, "not in --features"))
        elif name in index_columns and features is None:
            out.append(Column(name, EXCLUDED, shown, "pandas index"))
        elif kind is None:
            raise data_error(path, None, f"type {t} cannot be a feature (numbers, text, bools, dates "
                             f"and timestamps can): leave it out with --exclude {name}", column=name)
        else:
            out.append(Column(name, kind, shown))
    if not any(c.is_feature for c in out):
        raise data_error(path, None, "no feature columns besides the target")
    return out


def looks_like_identifier(column: Column) -> bool:
    """An integer feature named ``id``, ``ID`` or ``*_id`` (whether all its values differ is counted later)."""
    return column.role == NUMERIC and bool(IDENTIFIER.match(column.name)) and "int" in column.type
