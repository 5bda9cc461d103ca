"""A model formula (formulaic's grammar) as the preprocessing of a table: ``price ~ area * rooms + C(city)``.

The formula's left side names the target column; its right side, compiled by formulaic, maps the input
columns to the model's features. The first pass fits the inputs as for any table (the levels of each
categorical column, from every training row: :mod:`linsgd.data.encoding`); formulaic then builds its model
spec once from those levels (:class:`FormulaPreprocessor`), and the same spec turns every block of rows into
the design matrix, so a streamed file gets the same columns as the table held in memory. The model file keeps
the formula text and the levels (JSON), never a pickle: loading rebuilds the same spec from them.

Rules, and why:

* **The intercept** is the model's bias b: formulaic's ``Intercept`` column is dropped, and a formula without
  one (``- 1``, ``0 +``) is refused, since linsgd always fits b.
* **Categories** are formulaic's treatment coding with the first level (sorted; numerically when every level is
  a number) as reference. A column inside ``C(…)`` has its levels collected whatever its type (a column of
  numbers stays numbers for the formula's other terms: ``x + C(x)``). An unknown level
  at predict time gets all-zero indicators (the reference level's prediction) and is counted.
* **Stateful transforms** (``center``, ``scale``, ``poly``, splines) need statistics of every row, which a
  block does not have: they are refused, naming the term. ``np.log(x)``, ``I(x ** 2)``, products and
  interactions are evaluated row by row and need none.
* **Gaps**: ``--missing impute`` is refused with a formula (the indicator columns would sit outside it);
  ``error`` and ``drop`` work as without one. A term that is not finite on a row (``np.log(0)``) is an error
  naming the file, line, term and column.
"""

from __future__ import annotations

import re

import numpy as np

from linsgd.data.encoding import MISSING_LEVEL, Preprocessor
from linsgd.data.formula_text import categorical_column, factor_variables, one_line, parse
from linsgd.errors import ConfigError, DataError

INTERCEPT = "Intercept"
_NUMERIC_TYPES = ("int", "uint", "float", "double", "halffloat", "decimal")  # pyarrow types as text
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


class TermNotFinite(DataError):
    """A formula term is NaN or infinite on one row: ``row`` (index in the block), ``term``, ``column``."""

    def __init__(self, row: int, term: str, column: str | None, value: float) -> None:
        super().__init__(f"term '{term}' is {value}")
        self.row, self.term, self.column, self.value = row, term, column, value


class FormulaPreprocessor:
    """The fitted inputs (``base``: a :class:`~linsgd.data.encoding.Preprocessor` with every level) and the
    right side of a formula, compiled once by formulaic into its model spec. Same interface as the
    Preprocessor: ``inputs``, ``names``, ``transform``, ``describe``, ``to_dict``."""

    def __init__(self, rhs: str, base: Preprocessor, numbers: tuple[str, ...] = ()) -> None:
        self.rhs, self.base, self.numbers = rhs, base, tuple(numbers)
        self.inputs, self.missing = base.inputs, base.missing
        self.numeric_inputs, self.categorical_inputs = base.numeric_inputs, base.categorical_inputs
        self.spec = _spec(rhs, base, self.numbers)
        self.names = [c for c in self.spec.column_names if c != INTERCEPT]
        self._keep = [j for j, c in enumerate(self.spec.column_names) if c != INTERCEPT]

    def frame(self, rows):
        """The rows as the DataFrame formulaic reads (categorical inputs with their training levels, unknown
        levels as gaps) and per categorical input the count of unknown levels."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.compute as pc

        cols, unseen = {}, {}
        for j, inp in enumerate(self.numeric_inputs):
            cols[inp.name] = rows.values[:, j]
        for inp, text in zip(self.categorical_inputs, rows.text, strict=True):
            levels = _categories(inp)
            code = pc.fill_null(pc.index_in(text, value_set=pa.array(levels, pa.string())), -1)
            code = code.to_numpy(zero_copy_only=False).astype(np.int64)
            unknown = int(((code < 0) & ~text.is_null().to_numpy(zero_copy_only=False)).sum())
            if unknown:
                unseen[inp.name] = unknown
            cols[inp.name] = (_numbers(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False))
                              if inp.name in self.numbers else pd.Categorical.from_codes(code, categories=levels))
        return pd.DataFrame(cols), unseen

    def transform(self, rows) -> tuple[np.ndarray, dict[str, int]]:
        """X (m, p) float64 of checked rows (formulaic's design matrix without the intercept), and per
        categorical column the count of unknown levels. TermNotFinite: a term is not finite on a row."""
        import warnings

        frame, unseen = self.frame(rows)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # formulaic's note on unknown levels: counted in ``unseen`` instead
            X = np.asarray(self.spec.get_model_matrix(frame, output="numpy"), dtype=np.float64)[:, self._keep]
        bad = ~np.isfinite(X)
        if bad.any():
            i, j = (int(a[0]) for a in np.nonzero(bad))
            term = self.term_of(self.names[j])
            column = next((v for v in sorted(self.variables_of(term))), None)
            raise TermNotFinite(i, term, column, float(X[i, j]))
        return X, unseen

    def term_of(self, name: str) -> str:
        """The formula term that yields the design column ``name``."""
        j = self.spec.column_names.index(name)
        return next(str(t) for t, cols in self.spec.term_indices.items() if j in cols)

    def variables_of(self, term: str) -> set[str]:
        """The input columns a term reads."""
        inputs = {i.name for i in self.inputs}
        t = next(t for t in self.spec.terms if str(t) == term)
        return {v for f in t.factors for v in factor_variables(f) if v in inputs}

    def terms(self) -> dict[str, list[str]]:
        """Each term (the intercept left out) and the design columns it yields."""
        cols = self.spec.column_names
        return {str(t): [cols[j] for j in idx] for t, idx in self.spec.term_indices.items() if str(t) != "1"}

    def describe(self) -> dict[str, str]:
        """Per input, what it is and which formula terms read it."""
        out = self.base.describe()
        reads = {i.name: [t for t in self.terms() if i.name in self.variables_of(t)] for i in self.inputs}
        for name, text in out.items():
            out[name] = f"{text}; formula terms: {', '.join(reads[name]) or 'none'}"
        return out

    def describe_terms(self) -> list[str]:
        """One line per formula term: the design columns it yields (every column the model fits)."""
        return [f"  term {t}: {', '.join(c)}" for t, c in self.terms().items()]

    def to_dict(self) -> dict:
        """JSON values for the model file: the inputs (levels, means), the formula's right side and the
        design columns it yields (checked on loading)."""
        return self.base.to_dict() | {"formula": self.rhs, "columns": list(self.names), "numbers": list(self.numbers)}


def _categories(inp) -> list[str]:
    """The levels of a categorical input in formulaic's order: numerically when each is a number, else sorted
    as text (the stored order); a gap is never a level here (impute is refused)."""
    levels = [lv for lv in inp.levels if lv is not MISSING_LEVEL]
    if all(_NUMBER.match(lv) for lv in levels):
        return sorted(levels, key=float)
    return levels


def _numbers(values: np.ndarray) -> np.ndarray:
    """A column of numbers read as levels, as numbers again: integers when every value is one (so ``C(rooms)``
    names ``C(rooms)[T.3]``, as statsmodels; a level unseen in training gets zeros from ``C()``)."""
    values = np.asarray(values, dtype=np.float64)
    return values.astype(np.int64) if np.isfinite(values).all() and (values == np.round(values)).all() else values


def _spec(rhs: str, base: Preprocessor, numbers: tuple[str, ...] = ()):
    """formulaic's model spec of ``rhs`` for these inputs, built on a few prototype rows that hold every level
    (no statistic is taken from them: stateful transforms are refused)."""
    import pandas as pd
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    n = max([2] + [len(_categories(i)) for i in base.categorical_inputs])
    cols = {i.name: np.full(n, i.mean if i.mean > 0 else 1.0) for i in base.numeric_inputs}
    for i in base.categorical_inputs:
        levels = _categories(i)
        code = np.arange(n) % len(levels)
        cols[i.name] = (_numbers(np.array([float(lv) for lv in levels])[code]) if i.name in numbers
                        else pd.Categorical.from_codes(code, categories=levels))
    try:
        with np.errstate(all="ignore"):
            spec = model_matrix(rhs, pd.DataFrame(cols), na_action="ignore", output="numpy").model_spec
    except (FormulaicError, ValueError, TypeError, NameError) as e:
        raise ConfigError("formula", rhs, f"formulaic cannot evaluate it: {one_line(e)}") from None
    kinds = {name: state[0].value for name, state in spec.encoder_state.items()}
    levelled = {i.name for i in base.categorical_inputs}
    odd = sorted(f for f, kind in kinds.items() if kind == "categorical" and categorical_column(f, levelled) is None)
    if odd:
        raise ConfigError("formula", rhs, f"categories of columns: '{odd[0]}' takes its levels from an expression of "
                          f"the rows, which the first pass does not collect; make it a column of the file, or "
                          f"use I(…) for a 0/1 number")
    if spec.transform_state:
        term = sorted(spec.transform_state)[0]
        raise ConfigError("formula", rhs, f"terms evaluated row by row: term '{term}' needs statistics of every row "
                          f"(a stateful transform) and the formula is applied block by block; write it out (e.g. "
                          f"I(x - 3.2)) or use --standardize")
    if not [c for c in spec.column_names if c != INTERCEPT]:
        raise ConfigError("formula", rhs, "a term besides the intercept")
    return spec


def load_preprocessor(d: dict):
    """The Preprocessor (or FormulaPreprocessor, when ``d`` holds a formula) of a model file's JSON values.

    Raises:
        DataError: the formula is not text with its list of columns, or does not yield those columns (the
            file was changed, or written with another formulaic). ConfigError: formulaic cannot compile it.
    """
    base = Preprocessor.from_dict({k: v for k, v in d.items() if k in ("missing", "inputs")})
    if "formula" not in d:
        return base
    if not isinstance(d["formula"], str) or not isinstance(d.get("columns"), list):
        raise DataError("field 'formula' is not text with its list of 'columns'")
    numbers = d.get("numbers", [])
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise DataError("field 'numbers' is not a list of column names")
    built = FormulaPreprocessor(d["formula"], base, tuple(numbers))
    if built.names != d["columns"]:
        raise DataError(f"formula {d['formula']!r} yields the columns {built.names}, not the stored "
                        f"{d['columns']} (another formulaic version?)")
    return built


def with_formula(pre: Preprocessor, cfg, roles=()):
    """The fitted preprocessing of a run: ``pre``, compiled with ``cfg.formula``'s right side when it has one;
    the columns of numbers used inside ``C(…)`` (``roles``' types) stay numbers for the formula's other terms."""
    if not cfg.formula:
        return pre
    parsed = parse(cfg.formula)
    numbers = tuple(c.name for c in roles if c.name in parsed.categorical and c.type.startswith(_NUMERIC_TYPES))
    return FormulaPreprocessor(parsed.rhs, pre, numbers)




def frame_design(formula: str, frame, spec=None):
    """The design matrix (n, p) float64 of a DataFrame under a right-hand-side formula (``"a * b + C(c)"``;
    formulaic's intercept column left out), its column names and formulaic's model spec: fitted on ``frame``
    when ``spec`` is None (every statistic from these rows, as in memory), else ``spec`` applied to it.

    Raises:
        ConfigError: a formula formulaic cannot read or evaluate, with a left side, or without the intercept.
        DataError: a gap, an unknown level or a non-finite term in ``frame`` (naming the term).
    """
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    if not hasattr(frame, "columns"):
        raise DataError(f"formula {formula!r} reads the columns of a pandas DataFrame by name: pass X as a "
                        f"DataFrame")
    if spec is None:
        if not isinstance(formula, str) or "~" in formula:
            raise ConfigError("formula", formula, "the right side of a formula, e.g. 'area * rooms + C(city)' (y "
                              "is fit's second argument)")
        parse(f"y ~ {formula}")  # the intercept kept, the grammar read
    try:
        with np.errstate(all="ignore"):
            mm = (model_matrix(formula, frame, na_action="raise", output="numpy") if spec is None
                  else spec.get_model_matrix(frame, output="numpy", na_action="raise"))
    except FormulaicError as e:
        if spec is not None:  # the formula was fitted: these rows lack what it reads
            raise DataError(f"formula {formula!r}: {one_line(e)}") from None
        raise ConfigError("formula", formula, f"formulaic cannot evaluate it: {one_line(e)}") from None
    except ValueError as e:  # a gap or an unknown level (na_action="raise")
        raise DataError(f"formula {formula!r}: {one_line(e)}") from None
    spec = mm.model_spec
    keep = [j for j, c in enumerate(spec.column_names) if c != INTERCEPT]
    X = np.asarray(mm, dtype=np.float64)[:, keep]
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        raise DataError(f"formula {formula!r}: column '{spec.column_names[keep[j]]}' is {X[i, j]} on row {i}: a "
                        f"term must be finite")
    return X, [spec.column_names[j] for j in keep], spec
