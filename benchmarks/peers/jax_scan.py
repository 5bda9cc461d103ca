"""Peer "jax": one jitted epoch — a per-epoch permutation, then ``lax.scan`` over the minibatches.

float32 on the CPU. Each epoch draws ``jax.random.permutation`` of the rows, gathers X and y in that
order, reshapes the full batches to (n // B, B, d) and scans the SGD step over them (``jax.grad`` of the
batch mean of ½(ŷ − y)²); a short last batch, when B does not divide n, gets one more step normalised by
its real size, as in linsgd. The epoch function is compiled ahead of time, off the clock.
"""

from __future__ import annotations

import time

import numpy as np

from peers import PeerRun, timed_epochs


def make_epoch(n: int, d: int, batch: int, lr: float):
    """A jitted ``epoch(params, X, y, key) -> params`` for fixed shapes; params is (w (d,), b ())."""
    import jax
    import jax.numpy as jnp

    n_full, tail = divmod(n, batch)

    def loss(params, Xb, yb):
        w, b = params
        r = Xb @ w + b - yb
        return 0.5 * jnp.mean(r * r)

    grad = jax.grad(loss)

    def step(params, batch_xy):
        g = grad(params, *batch_xy)
        return jax.tree_util.tree_map(lambda p, gp: p - lr * gp, params, g), None

    def epoch(params, X, y, key):
        perm = jax.random.permutation(key, n)
        Xp, yp = X[perm], y[perm]
        m = n_full * batch
        params, _ = jax.lax.scan(step, params, (Xp[:m].reshape(n_full, batch, d), yp[:m].reshape(n_full, batch)))
        if tail:  # static: the shapes are known when tracing
            params, _ = step(params, (Xp[m:], yp[m:]))
        return params

    return jax.jit(epoch)


def run(X, y, wl, rows: int, w0: np.ndarray, seed: int) -> PeerRun:
    """Train on ``X[:rows]``; the device copy and the compile are done before the clock starts."""
    import jax
    import jax.numpy as jnp

    Xj, yj = jnp.asarray(X[:rows]), jnp.asarray(y[:rows])
    keys = [jax.random.fold_in(jax.random.key(seed), e) for e in range(wl.epochs)]
    state = {"params": (jnp.asarray(w0), jnp.zeros((), jnp.float32))}
    t0 = time.perf_counter()
    compiled = make_epoch(rows, wl.d, wl.batch, wl.lr).lower(state["params"], Xj, yj, keys[0]).compile()
    compile_seconds = time.perf_counter() - t0

    def train_epoch(epoch: int) -> None:
        state["params"] = jax.block_until_ready(compiled(state["params"], Xj, yj, keys[epoch]))

    def snapshot():
        w, b = state["params"]
        return np.asarray(w, dtype=np.float64), float(b)

    seconds, params = timed_epochs(wl.epochs, train_epoch, snapshot)
    tail = "short last batch: 1 extra step" if rows % wl.batch else "no short batch"
    return PeerRun(rows, wl.epochs, seconds, *params[-1], epoch_params=params,
                   compile_seconds=compile_seconds, notes=[f"compile {compile_seconds:.2f} s (excluded)", tail])
