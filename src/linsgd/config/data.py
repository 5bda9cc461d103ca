"""How a data file is read, validated, split and held in memory, as one frozen dataclass (:class:`DataConfig`)."""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass

from linsgd.config.rules import check, is_int

ON_BAD_ROWS = ("error", "skip")
MISSING = ("error", "impute", "drop")
MAX_MEMORY = 1 << 60  # bytes: beyond any machine; larger numbers overflow the sizes computed from it
MAX_CHUNK_BYTES = 1 << 30  # pyarrow's CSV block size is a 32-bit integer
MAX_HASH_BITS = 20  # 2^20 dense columns of float32 per row would already be 4 MiB a row


def default_max_memory() -> int:
    """A quarter of the machine's physical memory (1 GiB when unknown): ``DataConfig.max_memory=None``."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 1 << 30


@dataclass(frozen=True)
class DataConfig:
    """How a data file is read, validated, split and held in memory (``linsgd train``, ``fit_file``).

    Args:
        target: the target column (None only where a model is applied: predict). features: the feature
            columns (None: every other column, each in its role: :mod:`linsgd.data.roles`).
        val_fraction: share of rows held out for validation, in [0, 1), split by the training seed.
        standardize: train on standardised features (coefficients are reported on the raw scale).
        max_memory: bytes the rows may take in memory (None: a quarter of RAM); beyond it, training
            streams them from temporary files in ``tmp_dir`` (None: the system's temporary folder).
        on_bad_rows: "error" (stop at the first bad row) or "skip" (drop and count bad rows).
        chunk_bytes: bytes of values read per chunk.
        weight: the column of sample weights (None: every row weighs 1); read like the target, never a
            feature. The objective weights each squared residual, normalised by Σ weights.
        missing: empty cells: "error" (default: stop at the first, naming its line and column; a gap is
            a question only the user can answer), "impute" (numbers and dates: the training rows' mean plus
            an indicator column ``COL_missing``; categories: a level of their own), or "drop" (skip the row,
            counted per column). See :mod:`linsgd.data.encoding`.
        max_levels: most distinct values a categorical column may have (default 100: more is usually an
            identifier or free text, and every level costs a column).
        exclude: columns never used (e.g. an identifier).
        format: the input format by name (``linsgd.data.formats.registry.FORMATS``: csv, parquet, npy,
            arrow, jsonl, …), whatever the file is called; None: from the suffix, else the first bytes. An
            unknown name is refused when the data is opened, with the names that are read.
        hash_bits: N in [1, MAX_HASH_BITS = 20], or None: a categorical column with more than ``max_levels``
            levels is hashed into 2^N signed columns (:mod:`linsgd.data.hashing`) instead of refused.
        formula: a model formula ``"price ~ area * rooms + C(city) + np.log(lot)"`` (formulaic's grammar,
            :mod:`linsgd.data.formula`): its left side is the target, its right side the features; None: none.
    """

    target: str | None
    features: tuple[str, ...] | None = None
    val_fraction: float = 0.0
    standardize: bool = False
    max_memory: int | None = None
    on_bad_rows: str = "error"
    chunk_bytes: int = 4 << 20
    tmp_dir: str | None = None
    weight: str | None = None
    missing: str = "error"
    max_levels: int = 100
    exclude: tuple[str, ...] = ()
    format: str | None = None  # noqa: A003 (the flag's name)
    hash_bits: int | None = None
    formula: str | None = None

    def validate(self) -> DataConfig:
        """Return self if every field is in range, else raise ConfigError naming the field."""
        check(isinstance(self.target, str) and self.target != "", "target", self.target, "a column name")
        check(self.features is None or (len(self.features) > 0
                                         and all(isinstance(c, str) and c for c in self.features)),
               "features", self.features, "None or a non-empty list of column names")
        if self.features is not None:
            twice = sorted({c for c in self.features if self.features.count(c) > 1})
            check(not twice, "features", ",".join(self.features),
                   f"each column once ({', '.join(repr(c) for c in twice)} listed more than once)")
        check(isinstance(self.val_fraction, numbers.Real) and 0 <= self.val_fraction < 1,
               "val_fraction", self.val_fraction, "a number in [0, 1)")
        check(self.max_memory is None or (is_int(self.max_memory) and 0 < self.max_memory <= MAX_MEMORY),
               "max_memory", self.max_memory, "None or a number of bytes in [1, 2**60] (e.g. 512M, 2G)")
        check(self.on_bad_rows in ON_BAD_ROWS, "on_bad_rows", self.on_bad_rows, f"one of {', '.join(ON_BAD_ROWS)}")
        check(is_int(self.chunk_bytes) and 0 < self.chunk_bytes <= MAX_CHUNK_BYTES, "chunk_bytes",
               self.chunk_bytes, "a number of bytes in [1, 1G] (e.g. 4M, 64M)")
        check(self.weight is None or (isinstance(self.weight, str) and self.weight not in ("", self.target)
                                       and self.weight not in (self.features or ())),
               "weight", self.weight, "a column name that is neither the target nor a feature")
        check(self.missing in MISSING, "missing", self.missing, f"one of {', '.join(MISSING)}")
        check(is_int(self.max_levels) and self.max_levels >= 1, "max_levels", self.max_levels, "an integer >= 1")
        check(isinstance(self.exclude, (tuple, list)) and all(isinstance(c, str) for c in self.exclude),
               "exclude", self.exclude, "a list of column names")
        check(self.format is None or (isinstance(self.format, str) and self.format != ""), "format", self.format,
               "None or a format name such as csv or parquet")
        check(self.hash_bits is None or (is_int(self.hash_bits) and 1 <= self.hash_bits <= MAX_HASH_BITS),
              "hash_bits", self.hash_bits,
              f"None or an integer in [1, {MAX_HASH_BITS}] (2^N columns per hashed column)")
        check(self.formula is None or (isinstance(self.formula, str) and "~" in self.formula), "formula",
               self.formula, "None or a formula 'TARGET ~ TERMS'")
        return self

    def to_dict(self) -> dict:
        """The settings as plain JSON-able values (saved with every run)."""
        d = dataclasses.asdict(self)
        d["features"] = list(self.features) if self.features is not None else None
        d["exclude"] = list(self.exclude)
        return d
