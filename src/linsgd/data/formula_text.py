"""A model formula's text: its target, the columns it reads, and what it asks of the run's settings.

:func:`parse` reads ``"price ~ area * rooms + C(city) + np.log(lot)"`` with formulaic's grammar;
:func:`apply_formula` turns it into the target and the feature columns of a
:class:`~linsgd.config.DataConfig` (refusing the settings it cannot go with); :func:`categorical_roles`
reads the columns used inside ``C(…)`` as categories. :mod:`linsgd.data.formula` compiles the right side.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from linsgd.errors import ConfigError, DataError

_CATEGORICAL_CALL = re.compile(r"^C\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*[,)]")


@dataclass(frozen=True)
class Parsed:
    """A formula's parts: ``targets`` (the left side's columns), ``rhs`` (the right side as formulaic writes it),
    ``variables`` (the columns the right side reads, sorted) and ``categorical`` (those used inside ``C(…)``)."""

    text: str
    targets: tuple[str, ...]
    rhs: str
    variables: tuple[str, ...]
    categorical: frozenset = field(default_factory=frozenset)


def parse(text: str) -> Parsed:
    """The parts of ``text``; ConfigError naming ``--formula`` for a formula formulaic cannot read, a left side
    that is not column names, or a right side without the intercept or without a column."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    if not isinstance(text, str) or "~" not in text:
        raise ConfigError("formula", text, "a formula 'TARGET ~ TERMS' (e.g. 'price ~ area * rooms + C(city)')")
    try:
        formula = Formula(text)
        lhs, rhs = formula.lhs, formula.rhs
    except (FormulaicError, ValueError, SyntaxError) as e:
        raise ConfigError("formula", text, f"formulaic cannot read it: {one_line(e)}") from None
    targets = []
    for term in lhs:
        if len(term.factors) != 1 or term.factors[0].eval_method.value != "lookup":
            raise ConfigError("formula", text, f"the left side must name the target column, found '{term}' "
                              f"(transform the target in the file instead)")
        targets.append(term.factors[0].expr)
    if not targets:
        raise ConfigError("formula", text, "a target column on the left of '~'")
    names = [str(t) for t in rhs]
    if "1" not in names:
        raise ConfigError("formula", text, "the intercept kept: linsgd always fits one (the bias b), so drop "
                          "the '- 1' or '0 +'")
    variables = tuple(sorted(set(rhs.required_variables).union(*(factor_variables(f) for t in rhs
                                                                  for f in t.factors))))
    if not variables:
        raise ConfigError("formula", text, "a right side that reads at least one column")
    inside_c = {m.group(1) for t in rhs for f in t.factors if (m := _CATEGORICAL_CALL.match(f.expr))}
    return Parsed(text, tuple(targets), " + ".join(names), variables, frozenset(inside_c & set(variables)))


def factor_variables(factor) -> set[str]:
    """The column names a formula factor reads: a looked-up name, or the names in its Python expression that
    are neither called nor a module (``center(x)`` reads x, ``np.log(lot)`` reads lot)."""
    import ast

    if factor.eval_method.value == "lookup":
        return {factor.expr}
    if factor.eval_method.value != "python":
        return set()
    try:
        tree = ast.parse(factor.expr, mode="eval")
    except SyntaxError:
        return set()
    skip = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    skip |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in skip}


def categorical_column(expr: str, categorical: set[str]) -> str | None:
    """The column a categorical factor encodes — ``col`` or ``C(col, …)`` with col in ``categorical`` — or None
    (a factor such as ``C(x > 3)``, whose levels depend on an expression of the rows)."""
    import ast

    if expr in categorical:
        return expr
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C" and node.args
            and isinstance(node.args[0], ast.Name) and node.args[0].id in categorical):
        return node.args[0].id
    return None


def one_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def apply_formula(cfg):
    """``cfg`` (a :class:`~linsgd.config.DataConfig`) with its target and features taken from ``cfg.formula``
    (unchanged without one). ConfigError: the formula is bad, or ``target``/``features`` say otherwise, or
    ``missing="impute"``."""
    if cfg.formula is None:
        return cfg
    parsed = parse(cfg.formula)
    if len(parsed.targets) > 1:
        raise ConfigError("formula", cfg.formula, f"one target on the left of '~', not {len(parsed.targets)} (a "
                          f"formula fits one target)")
    if cfg.target not in (None, parsed.targets[0]):
        raise ConfigError("target", cfg.target, "the formula's target, or none: the formula names the target")
    if cfg.features is not None and tuple(cfg.features) != parsed.variables:
        raise ConfigError("features", ",".join(cfg.features), "none with a formula: the formula names the "
                          "features")
    if cfg.hash_bits is not None:
        raise ConfigError("hash_bits", cfg.hash_bits, "none with a formula (a formula's categories are its levels; a "
                          "hashed column has none): leave the column out of the formula, or drop --hash-bits")
    dropped = sorted(set(cfg.exclude or ()) & set(parsed.variables))
    if dropped:
        raise ConfigError("exclude", ",".join(cfg.exclude), f"columns the formula does not read ({dropped[0]} is "
                          f"in it)")
    if cfg.missing == "impute":
        raise ConfigError("missing", cfg.missing, "error or drop with a formula (impute's indicator columns would "
                          "sit outside it): use --missing drop, or fill the gaps in the file")
    return dataclasses.replace(cfg, target=parsed.targets[0], features=parsed.variables)


def check_columns(path, parsed: Parsed, columns: list[str]) -> None:
    """DataError naming the first column the formula reads that the file does not have."""
    absent = [v for v in parsed.variables if v not in columns]
    if absent:
        raise DataError(f"{path}: --formula reads column '{absent[0]}', which the data does not have (its "
                        f"columns: {', '.join(columns)})")


def categorical_roles(roles: list, cfg) -> list:
    """``roles`` with every column used inside ``C(…)`` of ``cfg.formula`` read as categorical (and the
    columns it leaves out said to be left out by it)."""
    if not cfg.formula:
        return roles
    inside = parse(cfg.formula).categorical
    out = []
    for c in roles:
        if c.name in inside and c.is_feature:
            c = dataclasses.replace(c, role="categorical")
        elif c.why == "not in --features":
            c = dataclasses.replace(c, why="not in the formula")
        out.append(c)
    return out
