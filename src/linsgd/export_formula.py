"""A formula's design columns as ONNX nodes, for :func:`linsgd.export.to_onnx`.

Each design column of a :class:`~linsgd.data.formula.FormulaPreprocessor` is a product of its term's factors
(formulaic names it ``f1:f2…``, a categorical factor followed by its level: ``C(city)[T.Nice]``). A
categorical factor becomes ``Cast(Equal(column, level))`` on the column's text (on its number, for a column of
numbers inside ``C()``), so an unknown level gets 0 as in linsgd; a numeric factor is its Python expression
translated operator by operator: column names, numbers, ``+ - * / **``, unary minus, ``I(…)`` and
``np.log``, ``np.log2``, ``np.log10``, ``np.exp``, ``np.sqrt``, ``np.abs``. A term outside these has no ONNX
translation here and is refused in one line naming it; ``linsgd predict`` applies every formula.
"""

from __future__ import annotations

import ast

import numpy as np

from linsgd.data.formula import INTERCEPT
from linsgd.data.formula_text import categorical_column
from linsgd.errors import DataError

_UNARY = {"log": "Log", "exp": "Exp", "sqrt": "Sqrt", "abs": "Abs"}
_LOG_BASE = {"log2": 2.0, "log10": 10.0}
_BINARY = {ast.Add: "Add", ast.Sub: "Sub", ast.Mult: "Mul", ast.Div: "Div", ast.Pow: "Pow"}
_MODULES = ("np", "numpy")


class _Unsupported(Exception):
    """What a term holds that this export cannot translate."""


class Graph:
    """The nodes and constants built so far; ``const`` and ``node`` return the name of their output."""

    def __init__(self, helper, numpy_helper, nodes: list, inits: list) -> None:
        self.helper, self.numpy_helper, self.nodes, self.inits, self.count = helper, numpy_helper, nodes, inits, 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"f{self.count}_{stem}"

    def const(self, value) -> str:
        name = self.name("const")
        self.inits.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(self.helper.make_node(op, inputs, [out], **attrs))
        return out


def formula_columns(pre, graph: Graph, double: int) -> list[str]:
    """The output names of the design columns of ``pre``, in the model's order (``double``: ONNX's DOUBLE).

    Raises:
        DataError: a term has no ONNX translation here (naming the term).
    """
    kinds = {i.name: "numbers" if i.name in pre.numbers else i.kind for i in pre.inputs}
    cache: dict[str, str] = {}
    columns = []
    for term, names in pre.terms().items():
        factors = next(t for t in pre.spec.terms if str(t) == term).factors
        for name in names:
            try:
                parts = _split(name, [f.expr for f in factors])
                values = [_factor(f, level, kinds, graph, cache, double) for f, level in zip(factors, parts,
                                                                                             strict=True)]
            except _Unsupported as e:
                raise DataError(f"formula term '{term}' has no ONNX translation ({e}): export a model without "
                                f"it, or predict with linsgd predict, which applies every formula") from None
            out = values[0]
            for v in values[1:]:
                out = graph.node("Mul", [out, v])
            columns.append(out)
    assert len(columns) == len([c for c in pre.spec.column_names if c != INTERCEPT])
    return columns


def _split(name: str, exprs: list[str]) -> list[str | None]:
    """The level of each factor in the column ``name`` (None: a numeric factor)."""
    levels, at = [], 0
    for k, expr in enumerate(exprs):
        if not name.startswith(expr, at):
            raise _Unsupported(f"cannot read its column '{name}'")
        at += len(expr)
        if at < len(name) and name[at] == "[":
            ends = [i for i in range(at, len(name)) if name[i] == "]" and (
                i + 1 == len(name) if k == len(exprs) - 1 else name.startswith(":" + exprs[k + 1], i + 1))]
            if not ends:
                raise _Unsupported(f"cannot read its column '{name}'")
            level = name[at + 1:ends[0]]
            levels.append(level[2:] if level.startswith("T.") else level)
            at = ends[0] + 1
        else:
            levels.append(None)
        if k < len(exprs) - 1:
            if not name.startswith(":", at):
                raise _Unsupported(f"cannot read its column '{name}'")
            at += 1
    return levels


def _factor(factor, level, kinds, graph: Graph, cache: dict, double: int) -> str:
    """One factor of one column: an indicator of ``level`` on a categorical input, or a numeric expression."""
    if level is not None:
        variables = _categorical_input(factor.expr, kinds)
        key = f"{variables}={level}"
        if key not in cache:
            value = np.array([float(level)]) if kinds[variables] == "numbers" else np.array([level], dtype=object)
            eq = graph.node("Equal", [variables, graph.const(value)])
            cache[key] = graph.node("Cast", [eq], to=double)
        return cache[key]
    if factor.expr not in cache:
        cache[factor.expr] = _expression(ast.parse(factor.expr, mode="eval").body, kinds, graph)
    return cache[factor.expr]


def _categorical_input(expr: str, kinds: dict) -> str:
    """The input column of a categorical factor: ``col`` or ``C(col, …)``."""
    column = categorical_column(expr, {n for n, k in kinds.items() if k in ("categorical", "numbers")})
    if column is None:
        raise _Unsupported(f"the categorical factor '{expr}' is not a column or C(column)")
    return column


def _expression(node, kinds: dict, graph: Graph) -> str:
    """ONNX nodes computing a numeric Python expression of the numeric inputs, (N, 1) double."""
    if isinstance(node, ast.Name) and kinds.get(node.id) in ("numeric", "date", "numbers"):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return graph.const(np.array([float(node.value)]))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _expression(node.left, kinds, graph), _expression(node.right, kinds, graph)
        return graph.node(_BINARY[type(node.op)], [left, right])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _expression(node.operand, kinds, graph)
        return graph.node("Neg", [inner]) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "I":
            return _expression(node.args[0], kinds, graph)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _MODULES:
            inner = _expression(node.args[0], kinds, graph)
            if func.attr in _UNARY:
                return graph.node(_UNARY[func.attr], [inner])
            if func.attr in _LOG_BASE:
                return graph.node("Div", [graph.node("Log", [inner]),
                                          graph.const(np.array([np.log(_LOG_BASE[func.attr])]))])
    raise _Unsupported(f"'{ast.unparse(node)}' is not a column, a number, + - * / **, I() or "
                       f"np.{', np.'.join([*_UNARY, *_LOG_BASE])}")
