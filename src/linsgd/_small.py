"""Where a job counts as small: then linsgd trains without importing numba.

numba's fixed cost in a fresh process is ~0.35 s (measured: importing the kernels 0.12–0.18 s, the
first call, which loads the cached machine code and initialises LLVM, 0.20–0.25 s), more than the whole
job on the chapter's data (1,000 rows × 3 epochs = 300 steps). NumPy does one minibatch step in ~6 µs
(d = 2 to 100) and the pure-Python shuffle one row in ~0.25 µs, so small jobs use NumPy
(``linsgd.engines._numpy_kernels``, ``linsgd.data._shuffle_python``).

What counts is the work of the whole run, not the row count alone: a run is small when its data has at
most ``SMALL_ROWS`` rows and it takes at most ``SMALL_STEPS`` minibatch steps in all (epochs × ⌈n/B⌉;
``epochs="auto"`` counts its maximum). 10,000 NumPy steps cost ~60 ms, a sixth of numba's start-up, and
that is ``linsgd train``'s default run on the chapter's 1,000 rows (``epochs="auto"``: at most 100 epochs of
100 steps; it usually stops after about ten), which so answers in well under a second; a longer run pays
numba's start-up once per process and then runs each step ~30× faster, which is what cross-validation and
grid searches (many fits of tens of epochs on a few thousand rows) need: 5-fold ``cross_val_score`` of 50
epochs on 3,000 rows is 12,000 steps per fit (``benchmarks/bench_cv.py``).
The epoch order switches by the same measure (rows × epochs ≤ ``SMALL_SHUFFLE_ROWS``). The choice
depends on these numbers only, never on process state (whether numba happens to be loaded), so the same
inputs always take the same path; the results agree with the numba kernels' within float rounding (the
order exactly): ``tests/test_small_path.py``.
"""

from __future__ import annotations

SMALL_ROWS = 4096
SMALL_STEPS = 10_000
SMALL_SHUFFLE_ROWS = 100_000  # rows shuffled over all epochs: ~25 ms of pure-Python Fisher–Yates


def small(rows: int, steps: int) -> bool:
    """Whether a run over ``rows`` rows of ``steps`` minibatch steps in all runs in NumPy."""
    return rows <= SMALL_ROWS and steps <= SMALL_STEPS


def small_shuffle(rows: int, epochs: int) -> bool:
    """Whether ``epochs`` epoch orders of ``rows`` rows are drawn without numba."""
    return rows <= SMALL_ROWS and rows * max(epochs, 1) <= SMALL_SHUFFLE_ROWS
