"""`linsgd train` says how many threads ran, and why when fewer than --threads asked (nothing silent)."""

from __future__ import annotations

import os

import pytest

from linsgd.engines.threaded import THREAD_MIN_ROWS


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    from linsgd.cli import main

    path = tmp_path_factory.mktemp("words") / "d.csv"
    assert main(["generate", str(path), "--num-examples", "500", "--num-features", "2", "--seed", "1"]) == 0
    return path


def _rows_line(out: str) -> str:
    return next(line for line in out.splitlines() if "train rows" in line)


def test_fewer_rows_than_the_threshold_run_one_thread_and_say_so(small_csv, cli, tmp_path):
    code, out, _ = cli("train", small_csv, "--target", "y", "--solver", "sgd", "--threads", 3, "--out", tmp_path / "r")
    assert code == 0
    assert _rows_line(out).endswith(f"; 1 thread, not the 3 of --threads: with fewer than {THREAD_MIN_ROWS:,} "
                                    "train rows or a small job one thread is faster (its batch stays --batch-size)")


def test_the_exact_solver_says_the_threads_are_not_used(small_csv, cli, tmp_path):
    code, out, _ = cli("train", small_csv, "--target", "y", "--solver", "exact", "--threads", 2,
                       "--out", tmp_path / "r")
    assert code == 0
    assert _rows_line(out).endswith("; --threads 2 not used: the exact solver makes one pass over the rows")


def test_one_thread_asked_adds_no_words(small_csv, cli, tmp_path):
    code, out, _ = cli("train", small_csv, "--target", "y", "--solver", "sgd", "--threads", 1, "--out", tmp_path / "r")
    assert code == 0 and _rows_line(out) == "500 train rows; in memory"


@pytest.mark.parametrize("cores", [1, 4])
def test_threads_that_ran_are_listed_with_more_threads_than_cores_noted(cli, tmp_path, monkeypatch, cores):
    data = tmp_path / "big.csv"
    assert cli("generate", data, "--num-examples", THREAD_MIN_ROWS, "--num-features", 2, "--seed", 2)[0] == 0
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    code, out, _ = cli("train", data, "--target", "y", "--solver", "sgd", "--epochs", 1, "--threads", 2,
                       "--sync-every", 7, "--out", tmp_path / "r")
    assert code == 0
    line = _rows_line(out)
    assert "; 2 threads, their parameters averaged every 7 steps" in line
    assert line.endswith(" (more threads than the machine's 1 core)") == (cores == 1), line


def test_no_threads_flag_on_a_small_run_adds_no_words(small_csv, cli, tmp_path):
    code, out, _ = cli("train", small_csv, "--target", "y", "--solver", "sgd", "--out", tmp_path / "r")
    assert code == 0 and _rows_line(out) == "500 train rows; in memory"
