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
