"""The preprocessing of a table: one-hot categories, imputed gaps, dates as days — fitted in the first pass.

:class:`Census` is the first pass's accumulator (``update`` per chunk of training rows, an exact ``merge``
for chunks, files and ranks, like :class:`linsgd.standardize.Moments`): per numeric or date input the count,
mean and gaps of the training rows, per categorical input the count of each level. :meth:`Census.fit` turns
it into a :class:`Preprocessor`, the fitted map from a table's columns to the float matrix the model sees,
saved in the model file and applied by name by ``predict``, ``evaluate`` and ``summary``.

Defaults, and why:

* **Reference level**: the first level in sorted order (Unicode code points, as Python's ``sorted`` and
  scikit-learn's ``OneHotEncoder``) gets no column: with a bias, one-hot columns of every level would be
  collinear. A column ``city`` with levels Lyon, Nice, Paris becomes ``city=Nice``, ``city=Paris``.
* **Unknown levels** at predict time (seen in no training row) get all-zero indicators, i.e. the reference
  level's prediction; they are counted and reported.
* **Imputation** (``missing="impute"``): a numeric or date gap gets the training rows' mean, plus an
  indicator column ``COL_missing`` for every column that had gaps in training (the mean alone would bias the
  coefficient; the indicator lets the model learn what a gap means). A categorical gap is a level of its
  own, ``(missing)``, ordered after every observed level (never the reference). Statistics come from the
  training rows only, never the validation rows. A gap at predict time in a column that had none in
  training gets the mean (or, categorical, all-zero indicators), without an indicator column.
* **Too many levels**: more than ``max_levels`` (default 100) distinct values of one column is refused: a
  text column with that many values is usually an identifier or free text, and each level costs a column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from linsgd.data.cells import Rows
from linsgd.data.formats.arrow import bool_array, floats, string_array, valid_mask
from linsgd.data.hashing import collisions, hashed_block, hashed_names
from linsgd.errors import DataError

MAX_LEVELS = 100
MISSING_LEVEL = None  # the level of a categorical gap, shown as "(missing)"
_HARD_CAP = 100  # the census stops collecting levels at this many times max_levels


@dataclass(frozen=True)
class Input:
    """One input column: ``kind`` numeric, date or categorical; ``mean`` the imputation value;
    ``indicator``: add ``NAME_missing``; ``levels``: sorted levels, the first is the reference."""

    name: str
    kind: str
    mean: float = 0.0
    indicator: bool = False
    levels: tuple = ()
    bits: int = 0  # > 0: a categorical column hashed into 2^bits signed columns (linsgd.data.hashing)
    collisions: int = 0  # training levels that share their hashed column with another

    def names(self) -> list[str]:
        if self.bits:
            return hashed_names(self.name, self.bits)
        if self.kind == "categorical":
            return [f"{self.name}={'(missing)' if lv is MISSING_LEVEL else lv}" for lv in self.levels[1:]]
        return [self.name] + ([f"{self.name}_missing"] if self.indicator else [])


@dataclass
class Census:
    """First-pass statistics of the training rows (see the module docstring); ``update`` and ``merge``
    return new objects, never modify."""

    numeric: list[str]
    categorical: list[str]
    count: np.ndarray
    mean: np.ndarray
    gaps: np.ndarray
    levels: list[dict] = field(default_factory=list)
    rows: int = 0
    max_levels: int = MAX_LEVELS
    hash_bits: int | None = None  # columns above max_levels are hashed into 2^hash_bits columns

    @classmethod
    def empty(cls, numeric: list[str], categorical: list[str], max_levels: int = MAX_LEVELS,
              hash_bits: int | None = None) -> Census:
        k = len(numeric)
        return cls(list(numeric), list(categorical), np.zeros(k, np.int64), np.zeros(k), np.zeros(k, np.int64),
                   [{} for _ in categorical], 0, max_levels, hash_bits)

    def update(self, rows: Rows, train: np.ndarray | None = None) -> Census:
        """The census after adding the rows where ``train`` is True (None: all rows)."""
        import pyarrow.compute as pc

        train = np.ones(len(rows), dtype=bool) if train is None else train
        present = ~rows.missing[train]
        count = present.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, (rows.values[train] * present).sum(axis=0) / np.maximum(count, 1), 0.0)
        levels = []
        mask = bool_array(train) if rows.text else None
        for text in rows.text:
            counts = pc.value_counts(pc.filter(text, mask))
            levels.append({v: int(n) for v, n in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(),
                                                      strict=True)})
        chunk = Census(self.numeric, self.categorical, count.astype(np.int64), mean,
                       (~present).sum(axis=0).astype(np.int64), levels, int(train.sum()), self.max_levels,
                       self.hash_bits)
        return self.merge(chunk)

    def merge(self, other: Census) -> Census:
        """The census of both row sets: counts add, means combine by count (exact up to rounding)."""
        n = self.count + other.count
        with np.errstate(invalid="ignore"):
            mean = np.where(n > 0, self.mean + (other.mean - self.mean) * (other.count / np.maximum(n, 1)), 0.0)
        levels = []
        for name, a, b in zip(self.categorical, self.levels, other.levels, strict=True):
            merged = dict(a)
            for v, k in b.items():
                merged[v] = merged.get(v, 0) + k
            if len(merged) > _HARD_CAP * self.max_levels and not self.hash_bits:  # free text: stop before memory
                raise too_many_levels(name, f"more than {_HARD_CAP * self.max_levels}", self.max_levels)
            levels.append(merged)
        return Census(self.numeric, self.categorical, n, mean, self.gaps + other.gaps, levels,
                      self.rows + other.rows, self.max_levels, self.hash_bits)

    def to_dict(self) -> dict:
        """JSON values (to gather over ranks); :meth:`from_dict` is the inverse (mean exactly, as floats)."""
        return {"numeric": self.numeric, "categorical": self.categorical, "count": self.count.tolist(),
                "mean": self.mean.tolist(), "gaps": self.gaps.tolist(), "rows": self.rows,
                "levels": [[[k, v] for k, v in lv.items()] for lv in self.levels], "max_levels": self.max_levels,
                "hash_bits": self.hash_bits}

    @classmethod
    def from_dict(cls, d: dict) -> Census:
        return cls(d["numeric"], d["categorical"], np.array(d["count"], np.int64), np.array(d["mean"], float),
                   np.array(d["gaps"], np.int64), [{k: v for k, v in lv} for lv in d["levels"]], d["rows"],
                   d["max_levels"], d.get("hash_bits"))

    def fit(self, kinds: dict[str, str], missing: str, order: list[str]) -> Preprocessor:
        """The Preprocessor of these statistics; ``kinds`` maps an input to its kind, ``order`` is the
        inputs' file order.

        Raises:
            DataError: a column with more than ``max_levels`` levels, or with no value in the training rows.
        """
        impute = missing == "impute"
        by_name = {}
        for j, name in enumerate(self.numeric):
            if self.count[j] == 0:
                raise DataError(f"column '{name}': no value in the {self.rows} training rows: "
                                f"leave it out with --exclude {name}")
            by_name[name] = Input(name, kinds[name], float(self.mean[j]), bool(impute and self.gaps[j] > 0))
        for name, counts in zip(self.categorical, self.levels, strict=True):
            seen = sorted(v for v in counts if v is not MISSING_LEVEL)
            if len(seen) > self.max_levels and self.hash_bits:  # hashed: every level kept, none listed
                by_name[name] = Input(name, "categorical", bits=self.hash_bits,
                                      collisions=collisions(seen, self.hash_bits))
                continue
            if len(seen) > self.max_levels:
                raise too_many_levels(name, str(len(seen)), self.max_levels)
            gap = [MISSING_LEVEL] if MISSING_LEVEL in counts and impute else []
            if not seen and not gap:
                raise DataError(f"column '{name}': no value in the {self.rows} training rows: "
                                f"leave it out with --exclude {name}")
            by_name[name] = Input(name, "categorical", levels=tuple(seen + gap))
        return Preprocessor(tuple(by_name[c] for c in order), missing)


def too_many_levels(name: str, count: str, max_levels: int) -> DataError:
    return DataError(f"column '{name}': {count} distinct values, more than --max-levels={max_levels} for a "
                     f"categorical column: hash it into 2^N columns with --hash-bits N, leave it out with "
                     f"--exclude {name}, or raise --max-levels")


@dataclass(frozen=True)
class Preprocessor:
    """The fitted map from a table's input columns to the model's features (see the module docstring).

    ``missing`` is the policy it was trained with: ``impute`` fills gaps when applied; otherwise a gap is an
    error when applied, as in training.
    """

    inputs: tuple[Input, ...]
    missing: str = "error"

    @classmethod
    def numeric(cls, names: list[str]) -> Preprocessor:
        """Numeric columns passed through unchanged (a model file of format version 1)."""
        return cls(tuple(Input(n, "numeric") for n in names), "error")

    @property
    def names(self) -> list[str]:
        """The model's feature names, in column order."""
        return [n for inp in self.inputs for n in inp.names()]

    @property
    def numeric_inputs(self) -> list[Input]:
        return [i for i in self.inputs if i.kind != "categorical"]

    @property
    def categorical_inputs(self) -> list[Input]:
        return [i for i in self.inputs if i.kind == "categorical"]

    def transform(self, rows: Rows) -> tuple[np.ndarray, dict[str, int]]:
        """X (m, p) float64 of checked rows, and per categorical column the count of unknown levels."""
        import pyarrow.compute as pc

        blocks, unseen = {}, {}
        for j, inp in enumerate(self.numeric_inputs):
            v, gap = rows.values[:, j], rows.missing[:, j]
            v = np.where(gap, inp.mean, v) if gap.any() else v
            blocks[inp.name] = np.column_stack([v, gap]) if inp.indicator else v[:, None]
        for inp, text in zip(self.categorical_inputs, rows.text, strict=True):
            if inp.bits:
                blocks[inp.name] = hashed_block(text, inp.bits)
                continue
            known = [lv for lv in inp.levels if lv is not MISSING_LEVEL]
            found = pc.index_in(text, value_set=string_array(known))  # null where unknown or empty
            code = np.where(valid_mask(found), floats(found), -1).astype(np.int64)
            gap = ~valid_mask(text)
            if MISSING_LEVEL in inp.levels:
                code[gap] = len(known)
            unknown = int((code < 0).sum())
            if unknown:
                unseen[inp.name] = unknown
            onehot = np.zeros((len(code), len(inp.levels)))
            hit = code >= 0
            onehot[np.flatnonzero(hit), code[hit]] = 1.0
            blocks[inp.name] = onehot[:, 1:]
        if not self.inputs:
            return np.zeros((len(rows), 0)), unseen
        return np.concatenate([blocks[i.name] for i in self.inputs], axis=1), unseen

    def describe(self) -> dict[str, str]:
        """Per input, what it became, e.g. ``categorical: 5 levels, reference 'Lyon'``."""
        out = {}
        for i in self.inputs:
            if i.bits:
                out[i.name] = (f"categorical, hashed: 2^{i.bits} = {1 << i.bits} signed columns (--hash-bits "
                               f"{i.bits}); {i.collisions} training level{'s' * (i.collisions != 1)} share a column "
                               "with another")
            elif i.kind == "categorical":
                gap = ", gaps as level '(missing)'" if MISSING_LEVEL in i.levels else ""
                n = len([lv for lv in i.levels if lv is not MISSING_LEVEL])
                out[i.name] = f"categorical: {n} level{'s' * (n != 1)}, reference '{i.levels[0]}'{gap}"
                if len(i.levels) == 1:  # the reference alone: no indicator column
                    out[i.name] += " (the same in every training row: no column, it cannot explain y)"
            else:
                what = "date: days since 1970-01-01" if i.kind == "date" else "numeric feature"
                gap = f", gaps imputed with the mean {i.mean:.6g} (+ {i.name}_missing)" if i.indicator else ""
                out[i.name] = what + gap
        return out

    def to_dict(self) -> dict:
        """JSON values for the model file (:meth:`from_dict` is the inverse)."""
        return {"missing": self.missing, "inputs": [
            {"name": i.name, "kind": i.kind, "mean": i.mean, "indicator": i.indicator, "levels": list(i.levels),
             "bits": i.bits, "collisions": i.collisions}
            for i in self.inputs]}

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        inputs = tuple(Input(i["name"], i["kind"], float(i["mean"]), bool(i["indicator"]), tuple(i["levels"]),
                             int(i.get("bits", 0)), int(i.get("collisions", 0)))
                       for i in d["inputs"])
        return cls(inputs, d["missing"])
