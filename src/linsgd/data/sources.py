"""Which reader opens a path: ``open_source`` picks CSV, Parquet (file, folder, glob), ``.npy``, Arrow
IPC/Feather or JSON lines."""

from __future__ import annotations

import glob as globlib
import re
from pathlib import Path

from linsgd.data.arrow_files import IPC, JSON, ArrowFileSource
from linsgd.data.checks import data_error, not_a_file
from linsgd.data.csv_file import CsvSource
from linsgd.data.numpy_file import NpySource
from linsgd.data.parquet_file import ParquetSource
from linsgd.data.source import DEFAULT_CHUNK_BYTES, Source
from linsgd.errors import ConfigError


def open_source(path, *, target: str | None = None, features: list[str] | None = None,
                dtype: str = "float32", on_bad_rows: str = "error",
                chunk_bytes: int = DEFAULT_CHUNK_BYTES, weight: str | None = None, typed: bool = False) -> Source:
    """The source of ``path``: CSV, Parquet (file, folder of ``*.parquet``, or glob), ``.npy``, Arrow
    IPC/Feather or JSON lines.

    The format comes from the suffix (``.csv``/``.txt``/``.tsv``, ``.parquet``/``.pq``, ``.npy``,
    ``.feather``/``.arrow``/``.ipc``, ``.jsonl``/``.ndjson``/``.json``), a folder or a glob pattern means
    Parquet, and any other file is recognised by its first bytes: text is CSV, a binary file of another
    format is refused naming the formats that are read.

    ``typed``: read every column in its own type (:meth:`Source.batches`), for :mod:`linsgd.data.tabular`;
    without it, features are numeric columns read as float64 (:meth:`Source.chunks`).

    Returns:
        A :class:`Source` (see its Args).

    Raises:
        DataError: the file does not exist, cannot be opened, or its columns do not fit.
    """
    kw = dict(target=target, features=features, dtype=dtype, on_bad_rows=on_bad_rows,
              chunk_bytes=chunk_bytes, weight=weight, typed=typed)
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(globlib.glob(text, recursive=True))
        if not files:
            raise data_error(path, None, "no files match this pattern")
        return _parquet(files, path, kw)
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet"))
        if not files:
            raise data_error(path, None, "folder holds no *.parquet files")
        return _parquet(files, path, kw)
    if not p.is_file():
        raise not_a_file(path)
    kind = _kind(p)
    if kind == "parquet":
        return _parquet([str(p)], path, kw)
    if kind == "npy":
        return NpySource(p, **kw)
    if kind in (IPC, JSON):
        return ArrowFileSource(p, kind, **kw)
    return CsvSource(p, **kw)


def _parquet(files, path, kw) -> Source:
    return ParquetSource(files, path, **kw)


def _kind(p: Path) -> str:
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".npy":
        return "npy"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".feather", ".arrow", ".ipc"):
        return IPC
    if suffix in (".jsonl", ".ndjson", ".json"):
        return JSON
    with open(p, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if head[:6] == b"ARROW1":
        return IPC
    if b"\0" in head:  # binary, and none of the formats above: never parsed as CSV
        raise data_error(p, None, f"not a format linsgd reads ({READ_FORMATS}); convert it to one of them")
    return "csv"


READ_FORMATS = ("CSV (.csv, .txt, .tsv), Parquet (.parquet, .pq, a folder or glob), NumPy (.npy), "
                "Arrow IPC/Feather v2 (.feather, .arrow, .ipc), JSON lines (.jsonl, .ndjson, .json)")


def parse_features(text: str | None, flag: str = "features") -> list[str] | None:
    """``a,b,c`` → ``["a", "b", "c"]`` (None stays None: every other column); ``flag`` names it in errors."""
    if text is None:
        return None
    names = [n.strip() for n in re.split(r",", text) if n.strip()]
    if not names:
        raise ConfigError(flag, text, "a comma-separated list of column names")
    return names
