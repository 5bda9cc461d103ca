"""Which reader opens the data: the one registry of input formats, by suffix, by first bytes, by name.

Each input format is one module of this folder holding its :class:`~linsgd.data.formats.base.Source`
subclass, and one line of :data:`FORMATS` here: its name (``open_source(..., format=NAME)``), its file
suffixes, the first bytes that mark its files, and what opens it. A table in memory (a pandas or polars
DataFrame, a pyarrow Table) is recognised by its type instead of a suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from linsgd.data.checks import data_error, not_a_file
from linsgd.data.formats.arrow_ipc import IpcSource, JsonLinesSource
from linsgd.data.formats.base import DEFAULT_CHUNK_BYTES, Source
from linsgd.data.formats.csv import CsvSource
from linsgd.data.formats.frame import FrameSource, is_frame
from linsgd.data.formats.npy import NpySource
from linsgd.data.formats.parquet import ParquetSource
from linsgd.errors import ConfigError


@dataclass(frozen=True)
class Format:
    """One input format.

    Attributes:
        name: how ``format=`` names it. label: how messages name it. suffixes: file suffixes (lower case).
        magic: the first bytes of its files (b"": none; text files are CSV by default).
        open: ``open(data, **kw)`` → a :class:`Source` (the keywords of :func:`open_source`).
        accepts: for data in memory, whether this format takes it (None: files only).
    """

    name: str
    label: str
    suffixes: tuple[str, ...]
    magic: bytes
    open: Callable[..., Source]
    accepts: Callable[[object], bool] | None = None


FORMATS = (
    Format("csv", "CSV", (".csv", ".txt", ".tsv"), b"", CsvSource),
    Format("parquet", "Parquet", (".parquet", ".pq"), b"PAR1", ParquetSource.open),
    Format("npy", "NumPy", (".npy",), b"\x93NUMPY", NpySource),
    Format("arrow", "Arrow IPC/Feather v2", (".feather", ".arrow", ".ipc"), b"ARROW1", IpcSource),
    Format("jsonl", "JSON lines", (".jsonl", ".ndjson", ".json"), b"", JsonLinesSource),
    Format("frame", "DataFrame or Table", (), b"", FrameSource, accepts=is_frame),
)
TEXT, MANY = "csv", "parquet"  # the format of a text file of no known suffix; of a folder or a glob pattern


def read_formats() -> str:
    """The formats read from files, with their suffixes (for messages)."""
    return ", ".join(f"{f.label} ({', '.join(f.suffixes)}{', a folder or glob' if f.name == MANY else ''})"
                     for f in FORMATS if f.suffixes)


def open_source(data, *, target: str | None = None, features: list[str] | None = None, dtype: str = "float32",
                on_bad_rows: str = "error", chunk_bytes: int = DEFAULT_CHUNK_BYTES, weight: str | None = None,
                format: str | None = None) -> Source:  # noqa: A002 (the flag's name)
    """The typed source of ``data``: a file (CSV, Parquet, ``.npy``, Arrow IPC/Feather, JSON lines), a folder
    or glob of Parquet files, or a table in memory (pandas or polars DataFrame, pyarrow Table).

    The format is ``format`` when given (a name of :data:`FORMATS`), else the table's type, the suffix, a
    folder or glob pattern (Parquet), or, for any other file, its first bytes: text is CSV, a binary file of
    another format is refused naming the formats that are read. Every column is read in its own type
    (:meth:`Source.batches`); :func:`linsgd.data.first_pass.open_table` decides what each one is for.

    Returns:
        A :class:`Source` (see its Args).

    Raises:
        ConfigError: an unknown ``format``. DataError: the file does not exist, cannot be opened, or its
        columns do not fit.
    """
    kw = dict(target=target, features=features, dtype=dtype, on_bad_rows=on_bad_rows,
              chunk_bytes=chunk_bytes, weight=weight)
    return format_of(data, format).open(data, **kw)


def format_of(data, name: str | None = None) -> Format:
    """The :class:`Format` that reads ``data`` (see :func:`open_source`)."""
    files = {f.name: f for f in FORMATS if f.accepts is None}
    if name is not None:
        if name not in files:
            raise ConfigError("format", name, f"one of {', '.join(files)}")
        return files[name]
    for f in FORMATS:
        if f.accepts is not None and f.accepts(data):
            return f
    p = Path(data)
    if any(ch in str(data) for ch in "*?[") or p.is_dir():  # a glob pattern or a folder: several files
        return files[MANY]
    if not p.is_file():
        raise not_a_file(data)
    suffix = p.suffix.lower()
    for f in FORMATS:
        if suffix in f.suffixes:
            return f
    with open(p, "rb") as file:
        head = file.read(4096)
    for f in FORMATS:
        if f.magic and head.startswith(f.magic):
            return f
    if b"\0" in head:  # binary, and none of the formats above: never parsed as CSV
        raise data_error(p, None, f"not a format linsgd reads ({read_formats()}); convert it to one of them")
    return files[TEXT]
