"""The checks a model file's fields go through before anything uses them (:func:`linsgd.model.load_model`):
each metadata field's JSON type, each tensor's dtype, shape and finite values, the preprocessing's inputs and
the saved training settings. The first problem raises :class:`Invalid`, which ``load_model`` turns into one
DataError naming the file."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np

from linsgd.config import MAX_HASH_BITS, MISSING, TrainConfig
from linsgd.data.roles import CATEGORICAL, DATE, NUMERIC
from linsgd.errors import ConfigError, first_line

KINDS = (NUMERIC, DATE, CATEGORICAL)  # of a preprocessing input (linsgd.data.encoding.Input)


class Invalid(Exception):
    """What is wrong in a model file (becomes the DataError of :func:`load_model`)."""


_INPUT_FIELDS = {"name": str, "kind": str, "mean": (int, float), "indicator": bool, "levels": list}
_HASH_FIELDS = ("bits", "collisions")  # a hashed categorical input (--hash-bits): both, integers >= 0


def check_preprocessing(pre: dict) -> None:
    """Every field of the metadata 'preprocessing' (:meth:`Preprocessor.to_dict`), one by one."""
    if pre.get("missing") not in MISSING:
        raise Invalid(f"preprocessing field 'missing' is {pre.get('missing')!r}, not one of {', '.join(MISSING)}")
    inputs = pre.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise Invalid("preprocessing field 'inputs' is not a non-empty list")
    for k, i in enumerate(inputs):
        if not isinstance(i, dict) or set(i) - set(_HASH_FIELDS) != set(_INPUT_FIELDS):
            raise Invalid(f"preprocessing input {k} does not have exactly the fields {', '.join(_INPUT_FIELDS)} "
                           f"(and {', '.join(_HASH_FIELDS)} when hashed)")
        for key in _HASH_FIELDS:
            value, most = i.get(key, 0), MAX_HASH_BITS if key == "bits" else 1 << 62
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
                raise Invalid(f"preprocessing input {k}: field '{key}' is {value!r}, not an integer in range")
        where = f"preprocessing input {i['name']!r}" if isinstance(i["name"], str) else f"preprocessing input {k}"
        for key, kind in _INPUT_FIELDS.items():
            if not isinstance(i[key], kind) or (key == "mean" and isinstance(i[key], bool)):
                raise Invalid(f"{where}: field '{key}' is {i[key]!r}, not a JSON {_kind_name(kind)}")
        if not i["name"]:
            raise Invalid(f"{where}: field 'name' is empty")
        if i["kind"] not in KINDS:
            raise Invalid(f"{where}: field 'kind' is {i['kind']!r}, not one of {', '.join(KINDS)}")
        if not math.isfinite(i["mean"]):
            raise Invalid(f"{where}: field 'mean' is {i['mean']!r}, not a finite number")
        levels = i["levels"]
        if (i["kind"] == "categorical" and not i.get("bits")) != bool(levels):
            raise Invalid(f"{where}: field 'levels' is {_shown(json.dumps(levels))[1:-1]} for a {i['kind']} input "
                           f"(levels belong to categorical inputs, which have at least one)")
        if len({json.dumps(v) for v in levels}) != len(levels):
            raise Invalid(f"{where}: field 'levels' repeats a level")


def check_config(config: dict) -> None:
    """The training settings saved with the model: known fields, each in its range (TrainConfig.validate)."""
    if not config:  # a model made in Python without them
        return
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise Invalid(f"config field {unknown[0]!r} is unknown")
    try:
        TrainConfig(**config).validate()
    except ConfigError as e:
        raise Invalid(f"config field {e.param!r} is {e.value!r}: {e.allowed}") from None
    except TypeError as e:  # a value of a type validate cannot compare
        raise Invalid(f"config is malformed ({first_line(e)})") from None


def _kind_name(kind) -> str:
    return {str: "string", bool: "boolean", list: "list"}.get(kind, "number")


def json_field(meta: dict, key: str, kind: type):
    if key not in meta:
        raise Invalid(f"metadata {key!r} is missing")
    try:
        value = json.loads(meta[key])
    except ValueError:
        raise Invalid(f"metadata {key!r} is not JSON ({_shown(meta[key])})") from None
    if not isinstance(value, kind):
        raise Invalid(f"metadata {key!r} is not a JSON {kind.__name__} ({_shown(meta[key])})")
    return value


def tensor_field(tensors: dict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    if key not in tensors:
        raise Invalid(f"tensor {key!r} is missing")
    a = tensors[key]
    if a.dtype not in (np.float32, np.float64):
        raise Invalid(f"tensor {key!r} has dtype {a.dtype} (float32 or float64 expected)")
    if a.shape != shape:
        raise Invalid(f"tensor {key!r} has shape {a.shape}, expected {shape}")
    if not np.isfinite(a).all():
        raise Invalid(f"tensor {key!r} holds non-finite values (nan or inf)")
    return a.astype(np.float64)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")

