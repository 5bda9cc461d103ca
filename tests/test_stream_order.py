"""The streamed order mixes the whole file: every stretch of an epoch draws from every region of the file
(chi-square), strata are dealt independently, and on a file sorted by its target the streamed answer lands
within about a standard error of the least-squares optimum, like the in-memory one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from linsgd.config import DataConfig, TrainConfig
from linsgd.data.batching import default_piece_rows
from linsgd.data.row_store import RowStore
from linsgd.data.views import Streamed
from linsgd.runs.run import fit_file

P_MIN = 1e-4  # a correct order fails a test with this probability (the seeds are fixed: it passes)


def _table(n: int, d: int = 1) -> RowStore:
    t = RowStore(d, "float64", None)
    t.append(np.column_stack([np.zeros((n, d)), np.arange(n, dtype=np.float64)]))
    return t.finish(None)


def _order(data: Streamed, seed: int, epoch: int) -> np.ndarray:
    """The rows in the order the epoch visits them: each window's rows (its ranges in turn), permuted."""
    return np.concatenate([np.concatenate([np.arange(a, b) for a, b in group])[perm]
                           for group, perm in data.windows(seed, epoch)])


def test_every_stretch_of_an_epoch_draws_from_the_whole_file():
    """On a file sorted by anything, a stretch of the epoch drawn from a few regions of the file is what
    biases SGD. Each stretch of 500 consecutive visits must be at least as spread over the file as 500 rows
    drawn uniformly at random: the z-scores of the stretches' mean row index, under that law, sum in
    squares to a chi-square with one degree of freedom per stretch (upper tail)."""
    n, m = 20_000, 500
    data = Streamed(_table(n), window_rows=2_000, piece_rows=64)
    var = (n * n - 1) / 12 / m * (n - m) / (n - 1)  # of the mean of m of range(n) drawn without replacement
    for epoch in range(3):
        order = _order(data, 11, epoch)
        np.testing.assert_array_equal(np.sort(order), np.arange(n))  # every row once
        z = (order.reshape(-1, m).mean(axis=1) - (n - 1) / 2) / np.sqrt(var)
        assert stats.chi2.sf(float(z @ z), len(z)) > P_MIN


def test_strata_are_dealt_to_the_windows_independently():
    """The window that gets the file's first piece gets stratum 1's pieces uniformly at random
    (chi-square over epochs): the windows are not the same stride through the file every epoch."""
    data = Streamed(_table(64 * 64), window_rows=64 * 8, piece_rows=64)  # 64 pieces, 8 strata, 8 windows
    counts = np.zeros(8)
    for epoch in range(400):
        group = next(g for g, _ in data.windows(3, epoch) if g[0][0] == 0)
        counts[group[1][0] // 64 - 8] += 1  # which of stratum 1's pieces 8 … 15 joins piece 0
    assert stats.chisquare(counts).pvalue > P_MIN


def test_a_window_holds_one_piece_of_every_stratum_and_stays_within_its_rows():
    data = Streamed(_table(10_000), window_rows=1_000, piece_rows=64)  # 157 pieces, 15 a window, 11 windows
    K = data.nwindows
    assert data.per_window == 15 and K == 11
    for group, perm in data.windows(0, 0):
        strata = [a // 64 // K for a, _ in group]
        assert strata == list(range(len(group)))  # one piece from each stratum, in stratum order
        assert len(perm) == sum(b - a for a, b in group) <= 1_000


def test_default_pieces_give_up_to_64_strata_of_at_least_8_kib():
    assert default_piece_rows(190_650, 44) == 2_978  # 64 strata: a 32 MB budget's window of 10 float32 features
    assert default_piece_rows(23_831, 44) == 372  # 64 strata in a 4 MB budget's
    assert default_piece_rows(5_000, 44) == 8_192 // 44 + 1  # 26 strata of 8 KiB
    assert default_piece_rows(100, 44) == 100  # a window smaller than 8 KiB is one piece
    assert Streamed(_table(100_000), window_rows=2_048).piece_rows == 512  # 8 KiB of 16-byte rows


@pytest.fixture(scope="module")
def sorted_parquet(tmp_path_factory):
    """100,000 × 5, y = Xw + 1 + N(0, 1), rows sorted by y, written by pandas (row groups of 8,192)."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 5))
    y = X @ np.array([1.5, -2.0, 0.5, 1.0, -0.7]) + 1 + rng.standard_normal(100_000)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(y=y).sort_values("y")
    path = tmp_path_factory.mktemp("sorted") / "sorted.parquet"
    df.to_parquet(path, row_group_size=8_192)
    return path


def test_streamed_answer_on_a_file_sorted_by_its_target_is_within_a_standard_error(sorted_parquet):
    """Streamed in windows of ~10,000 rows (a tenth of the file), the answer is as close to the exact
    optimum as the in-memory one: within about one standard error per coefficient."""
    config = TrainConfig(lr="auto", epochs=4, average="auto", seed=1, solver="sgd")
    gaps = {}
    for name, budget in (("memory", None), ("streamed", 4 * 6 * 8 * 10_000)):
        run = fit_file(sorted_parquet, DataConfig(target="y", max_memory=budget), config)
        gaps[name] = run.model.metrics["train"]["optimality_gap"]
    assert gaps["memory"]["max_se_units"] < 1.0
    assert gaps["streamed"]["max_se_units"] < 1.2, gaps["streamed"]
    assert gaps["streamed"]["relative"] < 1e-5


def test_a_standardised_spilled_window_is_read_ahead_as_the_copying_transform_gives_it(tmp_path):
    """The window read ahead is standardised in place: the same values as Standardizer.transform's copy."""
    from linsgd.standardize import Moments, Standardizer

    rng = np.random.default_rng(5)
    rows = (rng.standard_normal((5_000, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 1.0]).astype(np.float32)
    std = Standardizer.from_moments(Moments.of(rows[:, :3]))
    t = RowStore(3, "float32", str(tmp_path))
    t.spill()
    t.append(rows)
    data = Streamed(t.finish(std), window_rows=700, piece_rows=64)
    by_y, seen = np.argsort(rows[:, 3]), 0
    for X, y, idx, _ in data.epoch_runs((1, 0), 10):
        raw = rows[by_y[np.searchsorted(rows[by_y, 3], y)]]  # each row found back by its (distinct) target
        np.testing.assert_array_equal(raw[:, 3], y)
        np.testing.assert_array_equal(X, std.transform(raw[:, :3]))
        seen += len(idx)
    assert seen == 5_000
