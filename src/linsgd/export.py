"""A model as ONNX, its preprocessing included: ``linsgd export MODEL --onnx model.onnx`` (``linsgd[onnx]``).

The graph has one input per column the model reads, named as the column, each of shape ``(N, 1)``:

* numeric columns: ``double``, NaN for an empty cell;
* date columns: ``double`` days since 1970-01-01 (ONNX has no date type), NaN for an empty cell;
* categorical columns: ``string``, the empty string for an empty cell.

and one output ``prediction`` of shape ``(N,)`` (double). Inside, the stored preprocessing runs as in
linsgd: a gap becomes the training mean (``Where(IsNaN(x), mean, x)``) plus its ``COL_missing`` indicator
where training had gaps; each non-reference level is an ``Equal`` against its text, so an unknown level
gets all-zero indicators; then ``X·w + b`` with w on the raw scale (standardisation is folded in). A model
trained with a formula computes its design columns from its terms instead (:mod:`linsgd.export_formula`:
products, indicators of levels, ``np.log`` and friends; any other term is refused, naming it); an empty
numeric cell then gives a NaN prediction, as the formula's ``--missing`` policy has no imputation.
"""

from __future__ import annotations

import os

import numpy as np

from linsgd.data.encoding import MISSING_LEVEL
from linsgd.data.formula import FormulaPreprocessor
from linsgd.errors import DataError
from linsgd.export_formula import Graph, formula_columns
from linsgd.extras import require

OPSET = 19  # Equal on strings needs opset 19


def to_onnx(model, path: str | os.PathLike) -> list[str]:
    """Write ``model`` (a :class:`~linsgd.model.LinearModel`) as an ONNX file; returns the input names.

    Raises:
        MissingExtraError: the ``onnx`` package is not installed (``pip install 'linsgd[onnx]'``).
        StorageError: the file could not be written.
    """
    onnx = require("onnx", "linsgd export --onnx")
    from onnx import TensorProto, helper, numpy_helper

    from linsgd.storage import atomic_path

    pre = model.preprocessor
    nodes, inits, inputs, columns = [], [], [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    if isinstance(pre, FormulaPreprocessor):  # each input as read; the design columns from the formula's terms
        for inp in pre.inputs:
            text = inp.kind == "categorical" and inp.name not in pre.numbers  # C(x) of numbers: still numbers
            kind = TensorProto.STRING if text else TensorProto.DOUBLE
            inputs.append(helper.make_tensor_value_info(inp.name, kind, ["N", 1]))
        columns = formula_columns(pre, Graph(helper, numpy_helper, nodes, inits), TensorProto.DOUBLE)
    for k, inp in enumerate(() if isinstance(pre, FormulaPreprocessor) else pre.inputs):
        x = inp.name
        if inp.bits:  # the hash (BLAKE2b) has no ONNX operator
            raise DataError(f"column '{inp.name}' is hashed (--hash-bits {inp.bits}): ONNX has no operator for "
                            "its hash, so the export would not reproduce it; predict with linsgd predict instead")
        if inp.kind == "categorical":
            inputs.append(helper.make_tensor_value_info(x, TensorProto.STRING, ["N", 1]))
            for j, level in enumerate(inp.levels[1:]):
                text = "" if level is MISSING_LEVEL else str(level)
                eq, col = f"c{k}_{j}_eq", f"c{k}_{j}"
                nodes += [helper.make_node("Equal", [x, const(f"c{k}_{j}_level", np.array([text], dtype=object))],
                                           [eq]),
                          helper.make_node("Cast", [eq], [col], to=TensorProto.DOUBLE)]
                columns.append(col)
            continue
        inputs.append(helper.make_tensor_value_info(x, TensorProto.DOUBLE, ["N", 1]))
        gap, filled = f"n{k}_gap", f"n{k}"
        nodes += [helper.make_node("IsNaN", [x], [gap]),
                  helper.make_node("Where", [gap, const(f"n{k}_mean", np.array([inp.mean])), x], [filled])]
        columns.append(filled)
        if inp.indicator:
            nodes.append(helper.make_node("Cast", [gap], [f"n{k}_missing"], to=TensorProto.DOUBLE))
            columns.append(f"n{k}_missing")
    w = const("w", np.asarray(model.w, dtype=np.float64).reshape(-1, 1))
    nodes += [helper.make_node("Concat", columns, ["X"], axis=1),
              helper.make_node("MatMul", ["X", w], ["Xw"]),
              helper.make_node("Add", ["Xw", const("b", np.array([model.b], dtype=np.float64))], ["yhat"]),
              helper.make_node("Reshape", ["yhat", const("shape", np.array([-1], dtype=np.int64))], ["prediction"])]
    output = helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, ["N"])
    graph = helper.make_graph(nodes, "linsgd", inputs, [output], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="linsgd")
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto)
    with atomic_path(path) as tmp:
        onnx.save(proto, str(tmp))
    return [i.name for i in pre.inputs]
