"""The epoch order is part of the definition of a run: a seed recorded in a run folder or checkpoint must
repeat the run with a later linsgd. These digests were recorded when the order was defined as documented in
``linsgd.data.batching`` (bucket shuffle, BUCKET_ROWS = 32,768, splitmix64 streams keyed by (seed, 2,
epoch)); a change of any constant or stream shows here, and must come with a note that old seeds no longer
repeat their runs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from linsgd.data.batching import epoch_order

RECORDED = {  # n: (the first five indices of epoch 2 for seed 7, sha256 of the whole order as int64)
    1000: ([204, 644, 376, 988, 484], "8a852f54ad2e20c1799e0bc965e9f885df0fbb54c59011525000f01a17ee82b1"),
    10_000: ([4507, 5097, 6794, 8410, 2207],  # one bucket, past the NumPy path's SMALL_ROWS
             "c5c1c49b6f83cc66bd879d27b51ae44352531f80c2bf1f8b6b959179a3efdd3f"),
    65_536: ([59187, 39878, 55195, 33187, 47154],  # exactly 2 buckets of BUCKET_ROWS
             "c0e329993d9a1a94adbf8b177082c3b5b15c581c9f6db36c3b2150b43dc0e87d"),
    100_000: ([62503, 26305, 74094, 53995, 44776],
              "9f82dc6a5e4d28ee308eef67df68569911dbd12d5f3a209c56774ac8410c834c"),
    (1 << 20) + 1: ([372557, 24388, 90006, 180820, 505257],  # two label segments of SEGMENT_ROWS
                    "31dde27a28a74be876c62ffee5edaf8dcc4f052ac67c3e9f5ccc506313643157"),
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
