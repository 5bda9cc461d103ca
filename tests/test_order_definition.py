"""The epoch order is part of the definition of a run: a seed recorded in a run folder or checkpoint must
repeat the run with a later linsgd. These digests were recorded when the order was defined as documented in
``linsgd.data.batching`` (Fisher–Yates up to SHUFFLE_ROWS = 32,768 rows, the four-round Feistel permutation
above, splitmix64 streams keyed by (seed, 2, epoch)); a change of any constant or stream shows here, and must
come with a note that old seeds no longer repeat their runs. (Orders above 32,768 rows changed once, from a
two-level bucket shuffle to the Feistel permutation: runs of more rows saved before that do not repeat.)"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from linsgd.data.batching import epoch_order

RECORDED = {  # n: (the first five indices of epoch 2 for seed 7, sha256 of the whole order as int64)
    1000: ([204, 644, 376, 988, 484], "8a852f54ad2e20c1799e0bc965e9f885df0fbb54c59011525000f01a17ee82b1"),
    10_000: ([4507, 5097, 6794, 8410, 2207],  # Fisher–Yates in numba, past the NumPy path's SMALL_ROWS
             "c5c1c49b6f83cc66bd879d27b51ae44352531f80c2bf1f8b6b959179a3efdd3f"),
    32_768: ([15383, 4619, 24332, 7937, 27229],  # the largest Fisher–Yates order
             "06bd901ca62d9949e9fcfa61a9fac5a9afb39087858d5e5340500c0ba6df99a4"),
    32_769: ([293, 9961, 16909, 32274, 20187],  # the smallest Feistel order: a domain of 2¹⁶, half kept
             "a9c41bb38c17093563e47b462f4b163d5232c825d3b2007bdc604bbe3dd653e5"),
    65_536: ([53935, 41751, 52991, 293, 34948],  # the whole domain of 2¹⁶
             "1562e2fee1b656e4b6772873e1afc67fa114b26abe296dee89fd420801d4488f"),
    100_000: ([44671, 93585, 40666, 36530, 72971],
              "00e97cce085e27b1d3c7120b31622ca9dd785eda078fff4c5c8473a5d35cf8af"),
    (1 << 20) + 1: ([287787, 218660, 878252, 439111, 993679],  # a domain of 2²¹, parts of 10 and 11 bits
                    "e8b53feac59b0df4611b2def1bdbfd94c0c8cb91e66d3231067fac3951ea4517"),
}

@pytest.mark.parametrize("n", sorted(RECORDED))
def test_a_seeds_order_is_the_one_recorded(n):
    order = epoch_order(7, 2, n)
    head, digest = RECORDED[n]
    assert sorted(order.tolist()) == list(range(n))
    assert order[:5].tolist() == head
    assert hashlib.sha256(np.ascontiguousarray(order, dtype=np.int64).tobytes()).hexdigest() == digest


def test_a_seeds_initial_weights_are_the_ones_recorded():
    from linsgd.sgd.loop import init_params

    w, b = init_params(7, 3, 0.01, "float64")  # w ~ N(0, 0.01²) from the seed's own stream (INIT_STREAM)
    assert w.tolist() == [0.0034736176866043108, -0.023378561559560834, -0.0033885783296512045] and b == 0.0
