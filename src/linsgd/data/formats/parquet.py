"""Parquet files (one, a folder, or a glob), streamed as record batches with ``pyarrow.parquet``.

Rows are numbered from 1 within each file (Parquet has no lines); an error names the part file.
"""

from __future__ import annotations

import glob as globlib
from pathlib import Path

import numpy as np

from linsgd.data.checks import check_names, data_error, io_error
from linsgd.data.formats.base import Source, pandas_index_columns
from linsgd.errors import first_line


class ParquetSource(Source):
    """Parquet part files read in order; ``path`` is how the user named them (file, folder or glob)."""

    def __init__(self, files: list[str], path, **kw) -> None:
        import pyarrow as pa

        self.files, self._kw = files, kw
        meta = [self._open(f) for f in files]
        schema = meta[0].schema_arrow
        self.types, self.index_columns = list(schema.types), pandas_index_columns(schema.metadata)
        super().__init__(path, list(schema.names), **kw)
        decimal = [c for c in self.selected if pa.types.is_decimal(schema.field(c).type)]
        if decimal:
            _note(f"{path}: decimal column{'s' if len(decimal) > 1 else ''} {', '.join(decimal)} read as "
                  f"float64 (about 16 significant digits)")
        for f, m in zip(files, meta, strict=True):
            self._check_schema(f, m.schema_arrow)
        self.num_rows = sum(m.metadata.num_rows for m in meta)

    @classmethod
    def open(cls, path, **kw) -> ParquetSource:
        """The Parquet source of ``path``: one file, a folder of ``*.parquet`` files (recursively) or a glob
        pattern, their files in sorted order; see :class:`~linsgd.data.formats.base.Source` for ``kw``.

        Raises:
            DataError: no file matches, or the folder holds none.
        """
        text = str(path)
        if any(ch in text for ch in "*?["):
            files = sorted(globlib.glob(text, recursive=True))
            if not files:
                raise data_error(path, None, "no files match this pattern")
        elif Path(path).is_dir():
            files = sorted(str(f) for f in Path(path).rglob("*.parquet"))
            if not files:
                raise data_error(path, None, "folder holds no *.parquet files")
        else:
            files = [text]
        return cls(files, path, **kw)

    def subset(self, files: list[str]) -> ParquetSource:
        """The same reading settings over some of the files (a rank's shard)."""
        return ParquetSource(files, self.path, **self._kw)

    @staticmethod
    def _open(file: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            # pre_buffer=False: pyarrow's default pre-buffering keeps about the whole file resident
            # (RSS grew with the file in tests: 750 MB for a 600 MB file) and was slower on local disk
            return pq.ParquetFile(file, pre_buffer=False)
        except (PermissionError, IsADirectoryError) as e:  # the OS refuses: an I/O failure (exit 4)
            raise io_error(file, e) from e
        except (pa.ArrowInvalid, OSError) as e:
            raise data_error(file, None, f"not a Parquet file, or truncated ({first_line(e)})") from e

    def _check_schema(self, file: str, schema) -> None:
        names = list(schema.names)
        check_names(file, [n for n in names if n not in self.index_columns])
        for c in self.selected:
            if c not in names:
                raise data_error(file, None, f"not found in this part (columns: {', '.join(names)})",
                                 column=c)

    def batches(self, types=None):
        """Typed reading (see :meth:`Source.batches`): the stored types, converted by the caller."""
        import pyarrow as pa

        rows = max(1024, self.chunk_bytes // (8 * len(self.selected)))
        for file in self.files:
            first = 0
            try:
                for batch in self._open(file).iter_batches(batch_size=rows, columns=self.selected):
                    yield batch, None, np.arange(first + 1, first + 1 + batch.num_rows), file
                    first += batch.num_rows
            except (pa.ArrowInvalid, OSError) as e:
                raise data_error(file, None, f"cannot read (truncated or corrupt: {first_line(e)})") from e


def _note(message: str) -> None:
    import warnings

    from linsgd.errors import DataNote

    warnings.warn(message, DataNote, stacklevel=4)

