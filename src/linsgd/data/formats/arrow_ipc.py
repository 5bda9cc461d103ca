"""Arrow IPC (Feather v2: ``.feather``, ``.arrow``, ``.ipc``) and newline-delimited JSON (``.jsonl``,
``.ndjson``, ``.json``) files, streamed as record batches by pyarrow (``pyarrow.ipc``, ``pyarrow.json``).

Rows are numbered from 1 (a JSON lines file without blank lines: its line numbers). JSON column types are
inferred from the first block (``--chunk-bytes``); a later line that does not fit them is an error naming
the file. The stored types are read as they are, like Parquet's (:mod:`linsgd.data.formats.parquet`).
"""

from __future__ import annotations

import numpy as np

from linsgd.data.checks import check_names, data_error, io_error
from linsgd.data.formats.base import DEFAULT_CHUNK_BYTES, Source, pandas_index_columns
from linsgd.errors import first_line

IPC, JSON = "Arrow IPC/Feather", "JSON lines"


class ArrowFileSource(Source):
    """A file of Arrow record batches (:class:`IpcSource`, :class:`JsonLinesSource`); see
    :class:`~linsgd.data.formats.base.Source` for the keyword arguments."""

    kind = ""  # IPC or JSON: how pyarrow reads the file

    def __init__(self, path, **kw) -> None:
        kind = self.kind
        self.path, self.chunk_bytes = path, kw.get("chunk_bytes", DEFAULT_CHUNK_BYTES)  # read before Source sets them
        if kind == JSON:
            first = next(self._batches(), None)
            if first is None:
                raise data_error(path, None, "empty file (no JSON lines)")
            schema = first.schema
        else:
            ipc = self._ipc()
            schema, self.num_rows = ipc.schema, sum(ipc.get_batch(i).num_rows for i in range(ipc.num_record_batches))
        self.types, self.index_columns = list(schema.types), pandas_index_columns(schema.metadata)
        names = list(schema.names)
        check_names(path, [n for n in names if n not in self.index_columns])
        super().__init__(path, names, **kw)

    def _ipc(self):
        import pyarrow as pa

        try:
            return pa.ipc.open_file(pa.memory_map(str(self.path)))
        except PermissionError as e:
            raise io_error(self.path, e) from e
        except (pa.ArrowInvalid, OSError) as e:
            raise data_error(self.path, None, f"not an Arrow IPC/Feather v2 file ({first_line(e)})") from e

    def _batches(self):
        """Every record batch of the file, in order; DataError naming the file when pyarrow cannot read it."""
        import pyarrow as pa
        import pyarrow.json as pj

        try:
            if self.kind == IPC:
                reader = self._ipc()
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
                return
            options = pj.ReadOptions(block_size=max(self.chunk_bytes, 1 << 16), use_threads=False)
            yield from pj.open_json(str(self.path), read_options=options)
        except PermissionError as e:
            raise io_error(self.path, e) from e
        except (pa.ArrowInvalid, OSError) as e:
            raise data_error(self.path, None, f"cannot read as {self.kind} ({first_line(e)}): one JSON object "
                             f"per line, every line with the same columns and types"
                             if self.kind == JSON else f"cannot read ({first_line(e)})") from e

    def batches(self, types=None):
        """Typed reading (see :meth:`Source.batches`): the stored types, converted by the caller."""
        first = 0
        for batch in self._batches():
            yield batch.select(self.selected), None, np.arange(first + 1, first + 1 + batch.num_rows), self.path
            first += batch.num_rows


class IpcSource(ArrowFileSource):
    """An Arrow IPC/Feather v2 file (``.feather``, ``.arrow``, ``.ipc``)."""

    kind = IPC


class JsonLinesSource(ArrowFileSource):
    """A newline-delimited JSON file (``.jsonl``, ``.ndjson``, ``.json``)."""

    kind = JSON
