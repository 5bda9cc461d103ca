"""Tables in memory as a source: a pandas or polars DataFrame, or a pyarrow Table.

Everything becomes a pyarrow Table (pandas through ``pa.Table.from_pandas``, which records the index in
the ``pandas`` schema metadata: it is never a feature; polars through ``to_arrow``), read
with the same roles and checks as a file. Row numbers in messages are 0-based positions (``DataFrame:3``
is the fourth row), as ``df.iloc`` counts them.
"""

from __future__ import annotations

import numpy as np

from linsgd.data.checks import check_names, data_error, too_large
from linsgd.data.formats.arrow import TooBig, floats
from linsgd.data.formats.base import Source, pandas_index_columns
from linsgd.data.roles import CATEGORICAL, DATE, NUMERIC, kind_of
from linsgd.errors import DataError, first_line


def is_frame(data) -> bool:
    """Whether ``data`` is a table in memory (pandas/polars DataFrame, pyarrow Table or RecordBatch)."""
    module = type(data).__module__.split(".")[0]
    return module in ("pandas", "polars", "pyarrow") and hasattr(data, "columns")


def to_arrow(data, label: str = "DataFrame"):
    """``data`` as a pyarrow Table; DataError naming the column pyarrow cannot convert."""
    import pyarrow as pa

    module = type(data).__module__.split(".")[0]
    if module == "pandas":  # before pyarrow, whose own message for them is a bare ValueError
        check_names(label, [str(c) for c in data.columns])
    try:
        if module == "pandas":
            table = pa.Table.from_pandas(data)
        elif module == "polars":
            table = data.to_arrow()
        else:
            table = pa.table(data) if not isinstance(data, pa.Table) else data
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
        raise data_error(label, None, f"cannot be read as a table ({first_line(e)})") from e
    index = set(pandas_index_columns(table.schema.metadata))
    check_names(label, [str(n) for n in table.schema.names if n not in index])
    return table


class FrameSource(Source):
    """A table in memory; see :class:`~linsgd.data.formats.base.Source` for the keyword arguments."""

    def __init__(self, data, **kw) -> None:
        label = {"pandas": "DataFrame", "polars": "DataFrame"}.get(type(data).__module__.split(".")[0], "Table")
        self.table = to_arrow(data, label)
        schema = self.table.schema
        self.types, self.index_columns = list(schema.types), pandas_index_columns(schema.metadata)
        self.num_rows = self.table.num_rows
        names = [str(n) for n in schema.names]
        if names != list(schema.names):
            self.table = self.table.rename_columns(names)
        super().__init__(label, names, **kw)

    def batches(self, types=None):
        """Typed reading (see :meth:`Source.batches`): slices of the table."""
        rows = max(1024, self.chunk_bytes // (8 * len(self.selected)))
        table, first = self.table.select(self.selected), 0
        for batch in table.to_batches(max_chunksize=rows):
            yield batch, None, np.arange(first, first + batch.num_rows), self.path
            first += batch.num_rows


def numeric_frame(X, what: str = "X") -> tuple[np.ndarray, list[str]] | None:
    """A DataFrame or Table of numeric columns as ``(float64 array (n, d), column names)``; None for arrays.

    For ``linsgd.fit`` and ``LinearRegressor``, which take numbers only: a column of another kind is a
    DataError naming it (``column 'city' is text: encode it or use linsgd.fit_file``), so is a column with
    empty cells. A pandas index is not a column.

    Raises:
        DataError: a non-numeric column, or a column with missing values.
    """
    import pyarrow as pa

    if not is_frame(X):
        return None
    table = to_arrow(X, what)
    index = pandas_index_columns(table.schema.metadata)
    names, columns = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name in index:
            continue
        kind, t = kind_of(col.type), col.type
        if kind != NUMERIC or pa.types.is_null(t):
            what_it_is = ("boolean" if pa.types.is_boolean(t) else "text") if kind == CATEGORICAL else \
                "a date" if kind == DATE else f"of type {t}"
            how = ("linsgd.fit_file (one-hot categories, dates as days, imputation)" if kind is not None
                   else "drop it")
            raise DataError(f"{what}: column '{name}' is {what_it_is}: encode it as numbers or use {how}")
        if col.null_count:
            first = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataError(f"{what}: column '{name}' has {col.null_count} missing values (the first in row "
                            f"{first}): impute or drop them, or use linsgd.fit_file with "
                            f"DataConfig(missing='impute')")
        names.append(str(name))
        try:
            columns.append(floats(col))
        except TooBig as e:
            raise too_large(what, e.row, str(name), e.value) from None
    if not columns:
        raise DataError(f"{what}: no columns")
    return np.column_stack(columns), names
