"""High-cardinality categoricals: ``--hash-bits N`` hashes a column above ``--max-levels`` into 2^N signed
columns (checked against hashlib computed here), the listing counts the collisions, the model reproduces
the hashing at predict time, the refusal names the flag, and ONNX refuses in one line."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from linsgd.data.encoding import Census, Preprocessor
from linsgd.data.hashing import bucket_and_sign, collisions, hashed_block
from linsgd.model import load_model


def _oracle(level: str, bits: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(level.encode(), digest_size=8).digest(), "little")
    return h % (1 << bits), (-1.0 if h >= 1 << 63 else 1.0)


def test_the_hash_is_blake2b_low_bits_and_sign_bit():
    for level in ("Paris", "75001", "", "Zürich", "a" * 100):
        for bits in (1, 4, 12, 20):
            assert bucket_and_sign(level, bits) == _oracle(level, bits)
    signs = {bucket_and_sign(str(k), 8)[1] for k in range(200)}
    assert signs == {1.0, -1.0}


def test_collisions_count_the_levels_that_share_a_column():
    levels = [str(k) for k in range(500)]
    cols = [_oracle(lv, 6)[0] for lv in levels]
    expect = sum(1 for c in cols if cols.count(c) > 1)
    assert collisions(levels, 6) == expect > 0
    assert collisions(["only"], 6) == 0


def test_a_block_has_the_signed_one_in_each_rows_column_and_nothing_for_a_gap():
    text = pa.array(["b", "a", None, "b", "zz"])
    block = hashed_block(text, 5)
    assert block.shape == (5, 32)
    for i, level in enumerate(["b", "a", None, "b", "zz"]):
        if level is None:
            assert not block[i].any()
            continue
        col, sign = _oracle(level, 5)
        assert block[i, col] == sign and np.count_nonzero(block[i]) == 1


def _table(path, n=6000, levels=3000, seed=0):
    rng = np.random.default_rng(seed)
    zips = rng.integers(0, levels, n)
    effect = rng.normal(0, 3, levels)
    x = rng.standard_normal(n)
    y = 2 * x + effect[zips] + 0.1 * rng.standard_normal(n)
    pacsv.write_csv(pa.table({"zip": [f"Z{z:05d}" for z in zips], "x": x, "y": y}), path)
    return {f"Z{z:05d}" for z in zips}


def test_train_hashes_a_high_cardinality_column_lists_the_collisions_and_predict_reproduces_it(cli, tmp_path):
    seen = _table(tmp_path / "t.csv", n=3000, levels=300)
    code, _, err = cli("train", tmp_path / "t.csv", "--target", "y", "--out", tmp_path / "refused")
    assert code == 2 and "--hash-bits N" in err and f"column 'zip': {len(seen)} distinct values" in err
    code, out, err = cli("train", tmp_path / "t.csv", "--target", "y", "--hash-bits", 10, "--out",
                         tmp_path / "run", "--seed", 0, "--solver", "sgd")
    assert code == 0, err
    expect = collisions(sorted(seen), 10)
    assert f"2^10 = 1024 signed columns (--hash-bits 10); {expect} training levels share a column" in out + err
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert model.feature_names[:2] == ["zip#0", "zip#1"] and len(model.w) == 1024 + 1
    # the level's effect is learned through its hashed column: x alone explains R² = 4/(4 + 9) ≈ 0.3
    assert model.metrics["train"]["r2"] > 0.9
    code, _, err = cli("predict", tmp_path / "run" / "model.safetensors", tmp_path / "t.csv", "--out",
                       tmp_path / "p.csv")
    assert code == 0, err
    got = pacsv.read_csv(tmp_path / "p.csv").column("prediction").to_numpy()
    t = pacsv.read_csv(tmp_path / "t.csv")
    names = model.feature_names
    by_hand = model.b + model.w[names.index("x")] * t.column("x").to_numpy()
    for i, z in enumerate(t.column("zip").to_pylist()):
        col, sign = _oracle(z, 10)
        by_hand[i] += sign * model.w[names.index(f"zip#{col}")]
    np.testing.assert_allclose(got, by_hand, rtol=1e-6, atol=1e-6)  # x read as the float32 it trained on


def test_onnx_refuses_a_hashed_column_in_one_line(cli, tmp_path):
    pytest.importorskip("onnx")
    _table(tmp_path / "t.csv", n=400, levels=150)
    code, _, err = cli("train", tmp_path / "t.csv", "--target", "y", "--hash-bits", 6, "--out", tmp_path / "run",
                       "--solver", "exact")
    assert code in (0, 2), err
    if code == 2:  # 64 columns, some empty: the exact solve has no unique solution; SGD then
        code, _, err = cli("train", tmp_path / "t.csv", "--target", "y", "--hash-bits", 6, "--out",
                           tmp_path / "run", "--solver", "sgd")
    assert code == 0, err
    code, _, err = cli("export", tmp_path / "run" / "model.safetensors", "--onnx", tmp_path / "m.onnx")
    assert code == 2 and err.strip().count("\n") == 0 and "column 'zip' is hashed (--hash-bits 6)" in err
    assert not (tmp_path / "m.onnx").exists()


def test_the_preprocessor_keeps_the_hashing_through_the_model_file():
    census = Census.empty([], ["c"], max_levels=2, hash_bits=3)
    census.levels[0].update({"a": 1, "b": 1, "c": 1})
    pre = census.fit({"c": "categorical"}, "error", ["c"])
    again = Preprocessor.from_dict(pre.to_dict())
    assert again == pre and again.inputs[0].bits == 3 and again.names == [f"c#{k}" for k in range(8)]
    assert again.inputs[0].collisions == collisions(["a", "b", "c"], 3)
    assert Census.from_dict(census.to_dict()).hash_bits == 3
