"""Which reader opens a path: ``open_source`` picks CSV, Parquet (file, folder, glob), ``.npy``, Arrow
IPC/Feather or JSON lines."""

from __future__ import annotations

import glob as globlib
from pathlib import Path

from linsgd.data.arrow_files import IPC, JSON, ArrowFileSource
from linsgd.data.checks import data_error, not_a_file
from linsgd.data.csv_file import CsvSource
from linsgd.data.numpy_file import NpySource
from linsgd.data.parquet_file import ParquetSource
from linsgd.data.source import DEFAULT_CHUNK_BYTES, Source


def open_source(path, *, target: str | None = None, features: list[str] | None = None,
                dtype: str = "float32", on_bad_rows: str = "error",
                chunk_bytes: int = DEFAULT_CHUNK_BYTES, weight: str | None = None) -> Source:
    """The source of ``path``: CSV, Parquet (file, folder of ``*.parquet``, or glob), ``.npy``, Arrow
    IPC/Feather or JSON lines.

    The format comes from the suffix (``.csv``/``.txt``/``.tsv``, ``.parquet``/``.pq``, ``.npy``,
    ``.feather``/``.arrow``/``.ipc``, ``.jsonl``/``.ndjson``/``.json``), a folder or a glob pattern means
    Parquet, and any other file is recognised by its first bytes: text is CSV, a binary file of another
    format is refused naming the formats that are read.

    Every column is read in its own type (:meth:`Source.batches`); :func:`linsgd.data.tabular.open_table`
    decides what each one is for.

    Returns:
        A :class:`Source` (see its Args).

    Raises:
        DataError: the file does not exist, cannot be opened, or its columns do not fit.
    """
    kw = dict(target=target, features=features, dtype=dtype, on_bad_rows=on_bad_rows,
              chunk_bytes=chunk_bytes, weight=weight)
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
