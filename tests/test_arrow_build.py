"""The Arrow arrays built from buffers (data/formats/arrow.py) equal what ``pa.array`` makes of the same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from linsgd.data.formats.arrow import bool_array, bools, numeric_array, string_array


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 64, 1001])
def test_bool_array_equals_pa_array_for_every_length(n):
    mask = np.random.default_rng(n).random(n) < 0.4
    built = bool_array(mask)
    assert built.type == pa.bool_() and built.null_count == 0
    assert built.equals(pa.array(mask)) and built.to_pylist() == mask.tolist()


@pytest.mark.parametrize("texts", [[], ["a"], ["", "b", ""], ["1. Never Married", "Zürich", "東京", "a,b"]])
def test_string_array_equals_pa_array(texts):
    built = string_array(texts)
    assert built.type == pa.string() and built.null_count == 0
    assert built.equals(pa.array(texts, pa.string())) and built.to_pylist() == texts


def test_bools_reads_back_a_boolean_column_with_nulls_as_false():
    col = pa.chunked_array([pa.array([True, None, False]), pa.array([], pa.bool_()), pa.array([None, True])])
    assert bools(col).tolist() == [True, False, False, False, True]
    assert bools(col.combine_chunks().slice(1)).tolist() == [False, False, False, True]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32])
def test_numeric_array_keeps_values_and_dtype_also_of_a_strided_column(dtype):
    block = np.arange(12, dtype=dtype).reshape(4, 3) * 3 - 7
    built = numeric_array(block[:, 1])  # a column: not contiguous
    assert built.equals(pa.array(block[:, 1])) and built.type == pa.from_numpy_dtype(np.dtype(dtype))
    ids = pa.array(["a", "b"])
    assert numeric_array(ids) is ids
