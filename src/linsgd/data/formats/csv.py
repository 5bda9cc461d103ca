"""CSV files, streamed with ``pyarrow.csv.open_csv`` (one block at a time, single-threaded, in order).

Line numbers: the header is line 1 and data row i (0-based) is line i + 2; empty lines are kept as rows
(their cells are empty) so the count never drifts. A quoted field holding a newline would shift it.
pyarrow reports a ragged row with its line (``Row #N``) and a conversion error with its column and value
but not always its row: that block is then re-read with the column as raw bytes to find the exact line.
"""

from __future__ import annotations

import re

import numpy as np

from linsgd.data.checks import data_error, first_unparsable, io_error, is_utf8, show_value, too_large
from linsgd.data.formats.arrow import EXACT, TEXT_DATE_UNIT, bool_array, bools
from linsgd.data.formats.base import DEFAULT_CHUNK_BYTES, Source
from linsgd.data.roles import mostly_dates, mostly_numbers

_RAGGED = re.compile(r"(?:Row #(\d+): )?Expected (\d+) columns, got (\d+): ?(.*)", re.S)
_CONVERSION = re.compile(r"In CSV column #(\d+):(?: Row #(\d+):)? CSV conversion error to [\w\[\], /]+: "
                         r"invalid value '(.*)'$", re.S)


class CsvSource(Source):
    """A CSV file with a header line, comma-separated (``.tsv``: tab-separated); see
    :class:`~linsgd.data.formats.base.Source` for the arguments."""

    header_line = 1

    def __init__(self, path, **kw) -> None:
        self.delimiter = "\t" if str(path).lower().endswith(".tsv") else ","
        super().__init__(path, self._header(path, kw.get("chunk_bytes", DEFAULT_CHUNK_BYTES)), **kw)

    def _header(self, path, block: int) -> list[str]:
        """Column names (and ``self.types``, the types typed reading uses: :func:`csv_types`,
        decided from the first block)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        parse = pcsv.ParseOptions(delimiter=self.delimiter, ignore_empty_lines=False,
                                  invalid_row_handler=lambda row: "skip")
        try:  # ragged rows are reported by the reading pass, with their line
            reader = pcsv.open_csv(path, read_options=self._read_options(block), parse_options=parse)
            schema = reader.schema
            names = list(schema.names)
            first = next(iter(reader), None)  # the first block, as pyarrow inferred it
        except UnicodeDecodeError as e:
            raise data_error(path, 1, f"header is not valid UTF-8 text ({e.reason} at byte {e.start})") from e
        except pa.ArrowInvalid as e:
            if "Empty CSV file" in str(e):
                raise data_error(path, None, "empty file (no header line)") from e
            raise self._translate(path, e, 0, None, block) from e
        except OSError as e:  # pyarrow's ArrowInvalid is a ValueError: this is the OS refusing to read
            raise io_error(path, e) from e
        reader.close()
        other = [c for c in ";\t|" if len(names) == 1 and c in names[0] and c != self.delimiter]
        if other:  # one column whose name holds another separator: the file is not comma-separated
            shown = {"\t": "tabs"}.get(other[0], repr(other[0]))
            raise data_error(path, 1, f"the header is one column ({names[0]!r}): the file looks separated by "
                             f"{shown}, but a CSV file is read comma-separated (a .tsv file tab-separated): save "
                             "it with commas")
        self.types = csv_types(schema, first)
        self.index_columns = tuple(names[:1]) if names[:1] == [""] else ()  # pandas' to_csv of an index
        for i, name in enumerate(names, start=1):
            if not name.strip() and not (i == 1 and self.index_columns):
                raise data_error(path, 1, f"column {i} has an empty name in the header: name every column")
        return names

    @staticmethod
    def _read_options(block: int, skip: int = 0):
        import pyarrow.csv as pcsv

        # single-threaded: blocks arrive in order and pyarrow knows the row numbers of ragged rows
        return pcsv.ReadOptions(use_threads=False, block_size=max(block, 1 << 16), skip_rows_after_names=skip)

    def _reader(self, types, skip: int = 0, columns=None):
        import pyarrow.csv as pcsv

        columns = columns or self.selected
        handler = self._count_skipped if self.skip else None
        types = types if isinstance(types, dict) else {c: types for c in columns}
        convert = pcsv.ConvertOptions(include_columns=columns, column_types=types,
                                      null_values=[""], strings_can_be_null=True, check_utf8=False)
        parse = pcsv.ParseOptions(delimiter=self.delimiter, ignore_empty_lines=False, invalid_row_handler=handler)
        return pcsv.open_csv(self.path, read_options=self._read_options(self.chunk_bytes, skip),
                             parse_options=parse, convert_options=convert)

    def _count_skipped(self, row) -> str:
        self.skipped += 1
        return "skip"

    def _blocks(self, types):
        """Yield ``(lines, batch)``: each block read as ``types`` and the file lines of its rows."""
        import pyarrow as pa

        first, reader = 0, None
        while True:
            try:  # open_csv already parses the first block, so opening can fail like reading
                reader = reader or self._reader(types)
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as e:
                raise self._translate(self.path, e, first, self, self.chunk_bytes) from e
            self._check_exact(batch, first)
            yield np.arange(first + 2, first + 2 + batch.num_rows), batch
            first += batch.num_rows

    def _check_exact(self, batch, first: int) -> None:
        """Refuse an integer cell above 2**53 in a column read as float64 (it would be rounded: 2**53 + 1
        reads as 2**53), as Parquet's integer columns do. Only a block holding a value of that size is
        read again, as text, to tell such an integer from a float written so (``1e300``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            if not pa.types.is_floating(col.type):
                continue
            lo, hi = pc.min_max(col).values()  # one pass; the common case ends here
            if lo.as_py() is None or -EXACT < lo.as_py() <= hi.as_py() < EXACT:
                continue
            top = pc.max(pc.abs(pc.filter(col, pc.is_finite(col)))).as_py()  # inf: reported as such
            if top is not None and top >= EXACT:
                self._big_integer(first, batch.num_rows, name)

    def _big_integer(self, first: int, rows: int, column: str) -> None:
        import pyarrow as pa

        offset = first
        for batch in self._reader(pa.binary(), skip=first, columns=[column]):
            i = _first_big_integer(batch.column(0))
            if i is not None:
                raise too_large(self.path, offset + i + 2, column, batch.column(0)[i].as_py().decode().strip())
            offset += batch.num_rows
            if offset >= first + rows:
                return

    def batches(self, types: dict):
        """Typed reading (see :meth:`Source.batches`): numbers as float64, text as strings, dates as dates."""
        import pyarrow as pa

        self._dates = {c for c, t in types.items() if pa.types.is_temporal(t)}
        # skipping: numbers and dates are read as bytes and parsed here, a cell that fails flags its row
        read = {c: pa.binary() if self.skip and not pa.types.is_string(t) else t for c, t in types.items()}
        for lines, batch in self._blocks(read):
            bad = None
            if self.skip:
                batch, bad = _parse_typed(batch, types)
            yield batch, bad, lines, self.path

    @staticmethod
    def _translate(path, e: Exception, first: int, source: CsvSource | None, block: int):
        """The DataError of pyarrow's message; the failed block (``block`` bytes) starts at 0-based data
        row ``first``."""
        msg = str(e)
        if "straddl" in msg:  # one row (a field) longer than a block: pyarrow cannot cut it
            size = max(block, 1 << 16)
            return data_error(path, first + 2, f"a row at or after this line is longer than --chunk-bytes "
                                               f"({_size(size)}) allows: raise it, e.g. --chunk-bytes "
                                               f"{_size(max(64 << 20, 4 * size))}")
        m = _RAGGED.search(msg)
        if m:
            line = int(m.group(1)) if m.group(1) else None
            return data_error(path, line, f"expected {m.group(2)} fields, got {m.group(3)}",
                              value=show_value(m.group(4).strip()))
        m = _CONVERSION.search(msg)
        if m and source is not None:
            column = source.columns[int(m.group(1))]
            return source._locate(first, column, m.group(3), m.group(2))
        return data_error(path, None, f"cannot read as CSV ({msg.splitlines()[0]})")

    def _locate(self, first: int, column: str, value: str, row: str | None):
        """Re-read from data row ``first`` with ``column`` as bytes and name the first unparsable cell."""
        import pyarrow as pa

        offset = first
        for batch in self._reader(pa.binary(), skip=first, columns=[column]):
            i = first_unparsable(batch.column(0), value.encode())
            if i is not None:
                raw = batch.column(0)[i].as_py()
                problem = self._not_a(column) if is_utf8(raw) else "not valid UTF-8 text"
                return data_error(self.path, offset + i + 2, problem, column=column, value=show_value(raw))
            offset += batch.num_rows
        line = int(row) if row else None  # not found again: trust pyarrow's own report
        return data_error(self.path, line, self._not_a(column), column=column, value=show_value(value))

    def _not_a(self, column: str) -> str:
        dates = getattr(self, "_dates", ())
        return "not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)" if column in dates else "not a number"


_INTEGER = r"^\s*[-+]?\d{16,}\s*$"  # an integer literal of 16 digits or more (2**53 has 16)


def _first_big_integer(col) -> int | None:
    """The index of the first cell of a raw (bytes) column that is an integer literal above 2**53 in size."""
    import pyarrow.compute as pc

    for i in np.flatnonzero(bools(pc.match_substring_regex(col, _INTEGER))):
        digits = col[int(i)].as_py().strip().lstrip(b"+-").lstrip(b"0")
        if len(digits) <= 309 and int(digits or b"0") > EXACT:  # longer: beyond float64, an infinite value
            return int(i)
    return None


def csv_types(schema, first_batch) -> list:
    """The type of each CSV column for typed reading: numbers (and text columns whose non-empty cells in
    the first block are at least half numbers: their other cells are bad values, reported by line),
    string for text and bools, the inferred date or timestamp type for ISO dates (and timestamp for text
    columns that are at least half ISO dates)."""
    import pyarrow as pa

    out = []
    for j, t in enumerate(schema.types):
        if pa.types.is_string(t) or pa.types.is_binary(t):
            col = first_batch.column(j) if first_batch is not None else pa.array([], t)
            if pa.types.is_binary(t) or mostly_numbers(col):
                out.append(pa.float64())
            elif mostly_dates(col):  # a date column with a bad date: reported by line
                out.append(pa.timestamp(TEXT_DATE_UNIT))
            else:
                out.append(pa.string())
        elif pa.types.is_boolean(t):
            out.append(pa.string())
        elif pa.types.is_date(t) or pa.types.is_timestamp(t) or pa.types.is_integer(t):
            out.append(t)  # integers are read as float64 (linsgd.data.first_pass.read_types), but shown as such
        else:
            out.append(pa.float64())
    return out


def _size(n: int) -> str:
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def _parse_lenient(col):
    """A raw column as float64, cells that are not numbers made null (for ``--on-bad-rows skip``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    while True:
        i = first_unparsable(col, None)
        if i is None:
            i = _first_big_integer(col)  # a number, but not exact as a float: a bad cell too
        if i is None:
            return pc.cast(pc.utf8_trim_whitespace(col.cast(pa.string())), pa.float64())
        mask = np.zeros(len(col), dtype=bool)
        mask[i] = True
        col = pc.if_else(bool_array(mask), pa.nulls(len(col), col.type), col)


# the ISO forms of roles.DATE_TEXT (fractions of a second are cut off first and added back)
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def _parse_dates(col, t):
    """Text cells as ``t`` (a date or timestamp type) by the forms of :data:`linsgd.data.roles.DATE_TEXT`,
    fractions of a second kept; null where no form fits or ``t`` cannot hold the value (as the strict reader)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(col.cast(pa.string()))
    whole = pc.replace_substring_regex(text, r"(:\d{2})\.\d*$", r"\1")
    at = pc.coalesce(*(pc.strptime(whole, format=f, unit="us", error_is_null=True) for f in _DATE_FORMATS))
    fraction = pc.struct_field(pc.extract_regex(text, r"(?P<f>\.\d+)$"), [0]).cast(pa.float64())
    micros = pc.round(pc.multiply(pc.fill_null(fraction, pa.scalar(0.0)), pa.scalar(1e6))).cast(pa.int64())
    value = pc.add(at.cast(pa.int64()), micros).cast(pa.timestamp("us"))
    kept = value.cast(t, safe=False)
    return pc.if_else(pc.equal(kept.cast(pa.timestamp("us")), value), kept, pa.scalar(None, t))


def _parse_typed(batch, types: dict):
    """A batch read as bytes, parsed to ``types`` leniently; returns (batch, rows with an unparsable cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = np.zeros(batch.num_rows, dtype=bool)
    columns = []
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        t = types.get(name)  # none given (the first look at a file's types): the column as pyarrow read it
        if t is None or pa.types.is_string(t):
            parsed = col
        elif pa.types.is_temporal(t):
            parsed = _parse_dates(col, t)
        else:
            parsed = _parse_lenient(col)
        bad |= bools(pc.and_(col.is_valid(), parsed.is_null()))
        columns.append(parsed)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names), bad
