"""The collision count of hashed levels against a hand-computed hash (blake2b, 8 bytes, little-endian, the low
bits the column): what mutation testing of data/hashing.py found unpinned."""

from __future__ import annotations

import hashlib
from collections import Counter

from linsgd.data.hashing import collisions


def _column(level: str, bits: int) -> int:
    h = int.from_bytes(hashlib.blake2b(level.encode("utf-8"), digest_size=8).digest(), "little")
    return h & ((1 << bits) - 1)


def _by_hand(levels, bits: int) -> int:
    counts = Counter(_column(lv, bits) for lv in levels)
    return sum(k for k in counts.values() if k > 1)


def test_collisions_count_every_level_that_shares_its_column():
    bits = 3
    levels = [f"level{i}" for i in range(8)]
    by_column = Counter(_column(lv, bits) for lv in levels)
    assert sorted(by_column.values()) == [1, 1, 1, 2, 3]  # the premise: three levels in one column, two in another
    assert collisions(levels, bits) == _by_hand(levels, bits) == 5
    pair = [lv for lv in levels if by_column[_column(lv, bits)] == 2]
    assert collisions(pair, bits) == 2  # exactly two levels in one column: both count
    assert collisions(["only"], bits) == 0
