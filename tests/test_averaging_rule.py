"""The averaging rule of threads and ranks against its closed form: Σ m_k θ_k / Σ m_k, the packing of
[w, w̄, b̄] and back."""

from __future__ import annotations

import numpy as np
import pytest

from linsgd.engines.averaging import pack, unpack, weighted_mean


def test_weighted_mean_is_the_example_weighted_mean_of_every_state():
    states = [(np.array([1.0, -2.0, 4.0]), 0.5), (np.array([3.0, 6.0, -8.0]), -2.5), (np.array([0.0, 1.0, 2.0]), 2.0)]
    m = [3, 1, 0]
    flat, b = weighted_mean(states, m)
    np.testing.assert_allclose(flat, (3 * states[0][0] + 1 * states[1][0]) / 4, rtol=1e-15)
    assert b == pytest.approx((3 * 0.5 + 1 * -2.5) / 4, rel=1e-15)
    assert weighted_mean(states, [0, 0, 0]) is None  # no worker saw an example: keep the parameters
    with pytest.raises(ValueError):
        weighted_mean(states, [1, 2])  # one count per worker


def test_pack_and_unpack_round_trip_with_and_without_a_running_average():
    w, wa, ba = np.array([1.5, -2.5], dtype=np.float32), np.array([0.25, 1 / 3]), -0.125
    flat = pack(w, (wa, ba))
    np.testing.assert_array_equal(flat, [1.5, -2.5, 0.25, 1 / 3, -0.125])
    w2, (wa2, ba2) = unpack(flat, 2, np.float32)
    assert w2.dtype == np.float32 and np.array_equal(w2, w) and np.array_equal(wa2, wa) and ba2 == ba
    assert wa2.base is None or wa2.base is not flat  # a copy: averaging the flat vector later leaves it alone
    plain = pack(w, None)
    assert plain.dtype == np.float64 and np.array_equal(plain, w)
    w3, avg = unpack(plain, 2, np.float64)
    assert avg is None and np.array_equal(w3, w)
