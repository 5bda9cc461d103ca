"""The streamed epoch's pieces against hand-dealt expectations (what mutation testing of data/batching.py found
unpinned in its own test selection: these functions were checked only through streamed runs)."""

from __future__ import annotations

import numpy as np

from linsgd.data.batching import default_piece_rows, stratified_windows


def test_the_documented_deal_of_seven_pieces_to_three_windows():
    assert [w.tolist() for w in stratified_windows(0, 0, 7, 3)] == [[2, 4], [1, 3], [0, 5, 6]]


def test_each_window_holds_one_piece_of_every_stratum_in_stratum_order():
    for seed, npieces, K in [(1, 20, 4), (2, 23, 5), (3, 9, 9)]:
        windows = stratified_windows(seed, 1, npieces, K)
        assert len(windows) == K
        assert sorted(np.concatenate(windows).tolist()) == list(range(npieces))  # every piece once
        for w in windows:
            assert (w // K).tolist() == list(range(len(w)))  # piece sK + perm_s[k]: stratum s at place s


def test_one_window_holds_every_piece_in_file_order():
    assert [w.tolist() for w in stratified_windows(5, 2, 6, 1)] == [[0, 1, 2, 3, 4, 5]]


def test_the_default_piece_is_a_sixty_fourth_of_the_window_but_at_least_eight_kib():
    assert (default_piece_rows(190_650, 44), default_piece_rows(23_831, 44), default_piece_rows(100, 44)) == \
        (2978, 372, 100)  # the docstring's: 190650 // 64, 23831 // 64, a window below 8 KiB
    assert default_piece_rows(5_000, 44) == 8_192 // 44 + 1  # 8 KiB = 186.2 rows of 44 bytes, rounded up
    assert default_piece_rows(5_000, 1) == 5_000  # 8 KiB of 1-byte rows: more than the window
    assert default_piece_rows(1, 44) == 1  # a window of one row: a piece of one row


def test_the_order_functions_take_their_settings_by_keyword_only():
    import pytest

    from linsgd.data.batching import epoch_order, feistel_order, iter_epoch_orders

    assert sorted(epoch_order(0, 0, 5, pool=None).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError):
        epoch_order(0, 0, 5, None)
    assert len(list(iter_epoch_orders(0, 5, 3, start=1))) == 2
    assert len(list(iter_epoch_orders(0, 5, 3))) == 3  # epochs 0, 1, 2: start defaults to the first epoch
    with pytest.raises(TypeError):
        iter_epoch_orders(0, 5, 3, 1)
    with pytest.raises(TypeError):  # refused before any work: the pool is a keyword, not the 3rd argument
        feistel_order(np.zeros(4, np.uint64), 5, None)


def test_the_deal_is_the_documented_stream_of_seed_three_and_epoch():
    """Window k gets piece sK + perm_s[k], perm = default_rng([seed, 3, epoch]).permuted(tile(range(K), (S, 1)))."""
    seed, epoch, npieces, K = 11, 4, 40, 8
    perm = np.random.default_rng([seed, 3, epoch]).permuted(np.tile(np.arange(K), (npieces // K, 1)), axis=1)
    expected = [[s * K + perm[s, k] for s in range(npieces // K)] for k in range(K)]
    assert [w.tolist() for w in stratified_windows(seed, epoch, npieces, K)] == expected


def test_an_order_needs_int64_indices_only_from_two_to_the_31_rows():
    from linsgd.data.batching import index_dtype

    assert index_dtype(2**31 - 1) is np.int32  # indices up to 2³¹ − 2 (the docstring: int64 when n ≥ 2³¹)
    assert index_dtype(2**31) is np.int64


_MASK64 = (1 << 64) - 1


def _mix(z):
    """splitmix64's finaliser (Steele, Lea & Flood 2014), in Python integers."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _feistel(keys, n):
    """The order by the documented definition: m = max(2, bit length of n − 1); x = (L, R) with ⌊m/2⌋ low
    bits R; four rounds L ^= F(R + k0), R ^= F(L + k1), L ^= F(R + k2), R ^= F(L + k3), F the top bits of the
    finaliser; P(0), P(1), … with the values ≥ n dropped."""
    m = max(2, (n - 1).bit_length())
    low, k = m // 2, [int(v) for v in keys]
    out = []
    for x in range(1 << m):
        h, r = x >> low, x & ((1 << low) - 1)
        h ^= _mix((r + k[0]) & _MASK64) >> (64 - (m - low))
        r ^= _mix((h + k[1]) & _MASK64) >> (64 - low)
        h ^= _mix((r + k[2]) & _MASK64) >> (64 - (m - low))
        r ^= _mix((h + k[3]) & _MASK64) >> (64 - low)
        if (h << low | r) < n:
            out.append(h << low | r)
    return out


def test_the_feistel_order_of_any_size_is_its_definition():
    from linsgd.data.batching import feistel_order

    keys = np.array([1, 2, 3, 4], dtype=np.uint64)
    assert _feistel(keys, 1000)[:4] == [838, 958, 164, 447]  # the docstring's example
    for n in (1, 2, 3, 4, 5, 1000):  # the two smallest domains (m = 2 for n <= 4) included
        other = np.array([2**64 - 1 - n, 7, 2**63, 12345], dtype=np.uint64)
        for k in (keys, other):
            assert feistel_order(k, n).tolist() == _feistel(k, n), n


class _Recorder:
    """An executor that runs each submitted call at once, recording it (the order does not depend on it)."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future

        self.calls.append(args)
        done = Future()
        done.set_result(fn(*args, **kwargs))
        return done


def test_the_two_fills_split_the_domain_at_its_half_front_and_back(monkeypatch):
    """One fill over [0, 2^m) alone; with a pool, this thread forward over [0, 2^(m−1)), the pool's backward
    over [2^(m−1), 2^m): no index outside the domain is computed (the module docstrings' split)."""
    from linsgd.data import _feistel_kernels
    from linsgd.data.batching import feistel_order

    real, fills = _feistel_kernels.feistel_fill, []

    def fill(keys, bits, n, order, i0, i1, forward):
        fills.append((bits, i0, i1, forward))
        return real(keys, bits, n, order, i0, i1, forward)

    monkeypatch.setattr(_feistel_kernels, "feistel_fill", fill)
    keys, n = np.array([5, 6, 7, 8], dtype=np.uint64), 40_000  # m = 16
    alone = feistel_order(keys, n)
    assert fills == [(16, 0, 1 << 16, True)]
    fills.clear()
    shared = feistel_order(keys, n, pool=_Recorder())
    assert sorted(fills) == [(16, 0, 1 << 15, True), (16, 1 << 15, 1 << 16, False)]
    np.testing.assert_array_equal(shared, alone)


def test_the_one_bucket_shuffle_stays_inside_its_bounds(monkeypatch):
    """The numba kernel validates nothing (numba does not check indices): epoch_order must hand it bucket
    indices b0 <= b < b1 with b + 1 inside the bounds array; its order is then the Python Fisher–Yates."""
    from linsgd.data import _shuffle_kernels
    from linsgd.data._shuffle_python import fisher_yates
    from linsgd.data.batching import epoch_order

    real, calls = _shuffle_kernels.shuffle_buckets, []

    def checked(swap_key, bounds, order, b0, b1):
        calls.append((bounds.tolist(), b0, b1))
        assert 0 <= b0 <= b1 <= len(bounds) - 1, (bounds, b0, b1)
        return real(swap_key, bounds, order, b0, b1)

    monkeypatch.setattr(_shuffle_kernels, "shuffle_buckets", checked)
    n = 5000  # above the small path (4,096 rows), below the Feistel order (32,768)
    got = epoch_order(9, 2, n)
    assert calls == [([0, n], 0, 1)]
    key = np.random.SeedSequence([9, 2, 2]).generate_state(2, np.uint64)[1]
    np.testing.assert_array_equal(got, fisher_yates(key, n, None))


def test_each_order_is_drawn_once_and_none_past_the_last_epoch(monkeypatch):
    from linsgd.data import batching

    real, drawn = batching.epoch_order, []

    def spy(seed, epoch, n, **kw):
        drawn.append(epoch)
        return real(seed, epoch, n, **kw)

    monkeypatch.setattr(batching, "epoch_order", spy)
    for n in (100, batching.SMALL_ROWS + 1):  # in this thread, and prepared by the worker thread
        for start, epochs in [(0, 3), (2, 4), (0, 1), (3, 3)]:  # (3, 3): nothing left to draw
            drawn.clear()
            got = list(batching.iter_epoch_orders(3, n, epochs, start=start))
            assert sorted(drawn) == list(range(start, epochs)), (n, start, epochs)
            for e, order in zip(range(start, epochs), got, strict=True):
                np.testing.assert_array_equal(order, real(3, e, n))


def test_up_to_small_rows_no_thread_is_started(monkeypatch):
    from linsgd.data import batching

    started = []

    class Pool(batching.ThreadPoolExecutor):
        def __init__(self, *a, **k):
            started.append(k.get("max_workers"))
            super().__init__(*a, **k)

    monkeypatch.setattr(batching, "ThreadPoolExecutor", Pool)
    list(batching.iter_epoch_orders(0, batching.SMALL_ROWS, 2))
    assert started == []
    list(batching.iter_epoch_orders(0, batching.SMALL_ROWS + 1, 2))
    assert started == [1]  # one worker: one order at a time is prepared ahead


def test_one_rank_takes_the_order_itself_without_a_copy():
    from linsgd.data.batching import rank_slice

    order = np.arange(23)
    for B in (1, 4, 23, 50):
        assert rank_slice(order, B, 0, 1) is order


def test_the_guards_of_an_empty_window_a_zero_row_width_and_no_window():
    assert default_piece_rows(0, 44) == 1  # at least one row a piece
    assert default_piece_rows(500, 0) == 500  # a zero-byte row: the 8 KiB rule asks for every row
    assert [w.tolist() for w in stratified_windows(5, 2, 6, 0)] == [[0, 1, 2, 3, 4, 5]]  # no window: one


def test_an_abandoned_iteration_returns_without_waiting_for_the_order_being_prepared(monkeypatch):
    """Closing the iterator mid-run (the caller's loop raised) must not join the worker, which may still be
    drawing the next order (joining it from the garbage collector can deadlock): close returns at once."""
    import threading

    from linsgd.data import batching

    real, release, drawing = batching.epoch_order, threading.Event(), threading.Event()

    def slow(seed, epoch, n, **kw):
        if epoch == 1:
            drawing.set()
            release.wait(timeout=30)
        return real(seed, epoch, n, **kw)

    monkeypatch.setattr(batching, "epoch_order", slow)
    orders = batching.iter_epoch_orders(0, batching.SMALL_ROWS + 1, 3)
    next(orders)  # epoch 0 here; epoch 1 now drawn by the worker, held until released
    assert drawing.wait(timeout=30)
    closer = threading.Thread(target=orders.close)
    closer.start()
    closer.join(timeout=10)
    closed_at_once = not closer.is_alive()
    release.set()
    closer.join(timeout=30)
    assert closed_at_once
