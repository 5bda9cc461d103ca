"""Write columns block by block to a CSV or Parquet file (by suffix), atomically, in bounded memory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linsgd.data.formats.arrow import numeric_array
from linsgd.errors import ConfigError
from linsgd.storage import atomic_path

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def file_format(path: str | os.PathLike, flag: str = "out") -> str:
    """"csv" or "parquet" from the suffix of ``path``; ConfigError naming ``flag`` otherwise."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError(flag, str(path), "a file name ending in .csv or .parquet")
    return fmt


def write_columns(path: str | os.PathLike, names: list[str], blocks: Iterable[np.ndarray], *,
                  metadata: dict[str, str] | None = None, row_group_rows: int = 65_536) -> int:
    """Write blocks (m, k) of the k columns ``names`` to ``path``; returns the number of rows.

    Args:
        path: ``.csv`` or ``.parquet``/``.pq``. names: column names. blocks: arrays, any float dtype, or
            dicts ``{name: column}`` (numpy or pyarrow arrays, any type: e.g. an id column beside predictions).
        metadata: key/values stored in the Parquet schema (ignored for CSV).
        row_group_rows: rows per Parquet row group.

    Raises:
        ConfigError: unknown suffix. StorageError: the file could not be written.
    """
    import pyarrow as pa

    fmt = file_format(path)
    n = 0
    with atomic_path(path) as tmp:
        writer = None
        try:
            for block in blocks:
                table = pa.table({c: numeric_array(block[c] if isinstance(block, dict) else block[:, j])
                                  for j, c in enumerate(names)})
                if writer is None:
                    schema = table.schema.with_metadata(metadata or {})
                    writer = _open(fmt, tmp, schema, row_group_rows)
                writer.write_table(table.replace_schema_metadata(schema.metadata),
                                   **({"row_group_size": row_group_rows} if fmt == "parquet" else {}))
                n += table.num_rows
        finally:
            if writer is not None:
                writer.close()
    return n


def _open(fmt: str, tmp, schema, row_group_rows: int):
    if fmt == "csv":
        import pyarrow.csv as pcsv

        return pcsv.CSVWriter(str(tmp), schema)
    import pyarrow.parquet as pq

    return pq.ParquetWriter(str(tmp), schema)
