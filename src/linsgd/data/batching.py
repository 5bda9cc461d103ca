"""The order in which examples are visited: one function owns "the permutation of epoch e for seed s".

Every engine visits examples in this order, so engines are comparable step for step. Batch ``k`` of an
epoch is ``order[k·B : min((k+1)·B, n)]``: consecutive slices, the last one possibly shorter.

The permutation is a two-level (bucket) shuffle, uniform and cache-aware (Sanders 1998, "Random
permutations on distributed, external and hierarchical memory"):

1. every example i draws a bucket label L_i, iid uniform on {0, …, K−1}, K = ⌈n / BUCKET_ROWS⌉;
   bucket k takes the positions ``[c_0 + … + c_{k−1}, c_0 + … + c_k)``, c_k = #{i : L_i = k};
2. the examples of each bucket are put in a uniformly random order by Fisher–Yates.

Why it is uniform: fix any arrangement π of range(n). Whatever the bucket sizes c, there is exactly one
labelling that puts π's elements into the buckets π needs, with probability K⁻ⁿ, and then the
Fisher–Yates shuffles produce π's within-bucket orders with probability ∏_k 1/c_k!. So
P(π) = Σ_c K⁻ⁿ ∏_k 1/c_k! over the size vectors c, the same for every π. (Equivalently: sort by iid keys
(L_i, U_i).) The random integers are exact (Lemire's rejection method on splitmix64 output), each step
touches only one bucket (BUCKET_ROWS indices fit in a core's L2 cache), and no step is approximate.

The streams are keyed by numpy's SeedSequence of ``(seed, 2, epoch)``, so orders depend on
``(seed, epoch, n)`` only: not on the engine, the dtype or the thread that computes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

INIT_STREAM = 1  # seed-sequence branch of the initial parameters (linsgd.train)
_ORDER_STREAM = 2
# 32,768 int64 indices = 256 KB per bucket: the Fisher–Yates swaps stay in L2 (measured fastest of
# 2¹³…2¹⁷ for n = 10⁷). Changing it changes every order: it is part of the definition.
BUCKET_ROWS = 32_768


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """A uniformly random permutation of ``range(n)`` (int64) for 0-based ``epoch`` under ``seed``.

    Example:
        >>> sorted(epoch_order(0, 0, 5).tolist())
        [0, 1, 2, 3, 4]
        >>> bool((epoch_order(3, 1, 100_000) == epoch_order(3, 1, 100_000)).all())
        True
    """
    keys = np.random.SeedSequence([seed, _ORDER_STREAM, epoch]).generate_state(2, np.uint64)
    return bucket_permutation(keys, n, max(1, -(-n // BUCKET_ROWS)))


def bucket_permutation(keys: np.ndarray, n: int, nbuckets: int) -> np.ndarray:
    """The two-level shuffle of the module docstring with ``nbuckets`` buckets and two uint64 ``keys``.

    Uniform for any ``nbuckets`` >= 1; ``epoch_order`` fixes nbuckets = ⌈n / BUCKET_ROWS⌉.
    """
    from linsgd.data._shuffle_kernels import bucket_counts, bucket_shuffle

    label_key, swap_key = keys
    order = np.empty(n, dtype=np.int64)
    counts = bucket_counts(label_key, n, nbuckets)
    bucket_shuffle(label_key, swap_key, counts, order)
    return order


def iter_epoch_orders(seed: int, n: int, epochs: int, *, start: int = 0) -> Iterator[np.ndarray]:
    """``epoch_order(seed, e, n)`` for e = start, …, epochs − 1, each prepared while the previous trains.

    A background thread computes the next epoch's order (the kernels release the GIL) while the caller
    uses the current one, so on two cores the shuffle costs no wall time after the first epoch, which
    is computed here in parallel with the second.
    """
    if start >= epochs:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linsgd-order") as pool:
        pending = pool.submit(epoch_order, seed, start + 1, n) if start + 1 < epochs else None
        current = epoch_order(seed, start, n)
        for epoch in range(start, epochs):
            yield current
            if pending is None:
                break
            current = pending.result()
            pending = pool.submit(epoch_order, seed, epoch + 2, n) if epoch + 2 < epochs else None


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of every batch of an epoch over n examples."""
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
