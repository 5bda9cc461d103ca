"""Where a problem counts as small: up to ``SMALL_ROWS`` rows, linsgd trains without importing numba.

numba's fixed cost in a fresh process is ~0.35 s (measured: importing the kernels 0.12–0.18 s, the
first call, which loads the cached machine code and initialises LLVM, 0.20–0.25 s), more than the whole
job on the chapter's data (1,000 rows × 3 epochs = 300 steps). NumPy does one minibatch step in ~6 µs
(d = 2 to 100) and the pure-Python shuffle one row in ~0.25 µs, so below this limit the fused engine
(``linsgd.engines._numpy_kernels``) and the epoch order (``linsgd.data._shuffle_python``) use NumPy.

At 4,096 rows an epoch costs NumPy ~3 ms at batch size 10 (~31 ms at batch size 1): numba's start-up
would pay off only after ~110 such epochs (~11 at batch size 1), which small problems rarely run; a
larger limit would make long runs with tiny batches noticeably slower. The choice depends on the row
count alone (the dataset's ``len(X)``, or ``n`` of an order), never on process state, so the same inputs
always take the same path. The results agree with the numba kernels' within float rounding (the order
exactly): ``tests/test_small_path.py``.
"""

from __future__ import annotations

SMALL_ROWS = 4096
