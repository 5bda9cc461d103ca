"""Numba kernel of the sparse engine: an epoch of minibatch SGD on a CSR matrix in O(nnz) per step.

The rule is the dense kernels' (:mod:`linsgd.engines.rule`, :mod:`linsgd.engines._fused_kernels`), restricted
to an L2 penalty (a scalar l2), so that a step touches only the non-zero coordinates of its batch:

* **w = c·u.** The proximal L2 step ``w ← w'/(1 + η_t l2)`` multiplies every coordinate by the same
  factor: it is kept in the scalar c (``c ← c/(1 + η_t l2)``) instead of written into w, as scikit-learn's
  ``SGDRegressor`` does. The gradient step ``w ← w − s·g`` (g non-zero only where the batch's rows are)
  becomes ``u_j ← u_j − (s/c)·g_j`` on those coordinates. When c falls below :data:`_RESCALE` it is
  folded into u (one O(d) pass, rare: after ~ln(10⁹)/(η l2) steps).
* **Averaging without touching every coordinate.** The sum of the averaged iterates S_t = Σ_{τ≤t} c_τ u_τ
  is held as ``S = P·u − A`` with a scalar P and a vector A: a step that changes u by δu (on the batch's
  coordinates) and then sets c makes ``A ← A + P·δu`` (with P before the step) and ``P ← P + c``;
  then w̄ = S/m (m iterates averaged). Proof: S_t = S_{t−1} + c_t u_t = P_{t−1}(u_t − δu) − A_{t−1} + c_t u_t.
  Folding c into u (u ← c·u) re-bases S as P = 0, A = −S. Entering a call with an average w̄ of m₀
  iterates: P = 0, A = −m₀w̄; leaving: w̄ = (P·u − A)/m — O(d) once per call, not per step.

u, A, P and c are float64 whatever the data's dtype (a float32 u would lose the digits that c moves, and gains
no speed: float32 data, one epoch of the benchmarks/bench_sparse.py rows, five alternating runs at load ~5,
best 0.507 s with a float32 u against 0.511 s with float64; a step's cost is its cache misses, one line per
non-zero either way). With
averaging, u and A are kept side by side in one (d, 2) array, so that a step's scattered access to column j
brings u_j and A_j in one cache line (two separate d-long arrays cost a miss each). Measured on the data of
benchmarks/bench_sparse.py (10⁶ hashed rows × 2²⁰ columns, batch 1, one epoch, five alternating runs at load
6–7 on 2 cores): averaging from step 1 took 0.96–1.89 s with A apart, 0.33–1.33 s side by side (median 1.6 s
against 1.06 s); without averaging 0.81–1.39 s before, 0.73–1.34 s after (the same arithmetic, bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from linsgd._jit_cache import listen
from linsgd._prefetch import prefetch
from linsgd.engines._fused_kernels import _lr_at

listen()

_LINE = 64  # bytes per cache line
_RESCALE = 1e-9  # fold c into u below this (scikit-learn's SGD does the same at 1e-9)
# With averaging, S = P·u − A subtracts numbers ~1/c times larger than S: fold at 1e-3, losing at most ~3 digits
# (a fold costs one O(d) pass every ln(10³)/(η·l2) steps: every ~7·10⁶ steps at η = 0.01, l2 = 10⁻⁴).
_RESCALE_AVERAGED = 1e-3


@njit(inline="always")
def _prefetch_row(data, indices, indptr, y, u, i):
    """Request the weights (rows of ``u``, 1-D or (d, 2)) that row i will read; its column indices must be in
    cache already."""
    for p in range(indptr[i], indptr[i + 1]):
        prefetch(u, indices[p], 0)


@njit(inline="always")
def _prefetch_lines(data, indices, indptr, y, i):
    """Request every cache line of row i's stored values and column indices, and its target."""
    a, b = indptr[i], indptr[i + 1]
    for p in range(a, b, _LINE // data.itemsize):
        prefetch(data, p, 0)
    for p in range(a, b, _LINE // indices.itemsize):
        prefetch(indices, p, 0)
    prefetch(data, b - 1, 0)
    prefetch(indices, b - 1, 0)
    prefetch(y, i, 0)


@njit(inline="always")
def _prefetch_ahead(data, indices, indptr, y, u, order, k, n, ahead, sq):
    """Three stages ahead of row ``order[k]``: its row pointers (3·ahead rows on), its lines (2·ahead), the
    weights it reads (ahead): each stage reads only what the stage before brought into cache. ``sq`` not empty:
    the slot of its squared residual too (2·ahead)."""
    if k + 3 * ahead < n:
        prefetch(indptr, order[k + 3 * ahead], 0)
    if k + 2 * ahead < n:
        _prefetch_lines(data, indices, indptr, y, order[k + 2 * ahead])
        if len(sq):
            prefetch(sq, order[k + 2 * ahead], 0)
    if k + ahead < n:
        _prefetch_row(data, indices, indptr, y, u, order[k + ahead])


@njit(nogil=True, cache=True)
def _widest_row(indptr, order):
    """The most stored values of a row in ``order``: over the rows of the order when it is short, else over
    every row in storage order (a bound; sequential reads instead of one cache miss per visited row)."""
    widest = 0
    if 8 * len(order) < len(indptr) - 1:
        for k in range(len(order)):
            widest = max(widest, indptr[order[k] + 1] - indptr[order[k]])
    else:
        for i in range(len(indptr) - 1):
            widest = max(widest, indptr[i + 1] - indptr[i])
    return widest


@njit(nogil=True, cache=True)
def sgd_epoch_csr(data, indices, indptr, y, u, b, order, batch, rule, l2, average_from, t0, wa, ba, v, ahead,
                  wl, bl, sq):
    """One epoch over CSR rows ``order[k]`` in consecutive batches of ``batch``.

    A batch is two passes over its rows: the residuals r_i with the parameters before the step, then
    ``u_j −= (s/c)·v_i r_i x_ij`` entry by entry (the gradient step written as a sum of its terms: no
    d-long scratch, one random access to u per non-zero). The reads of u are scattered over all d columns and
    miss the cache: they are requested ``ahead`` rows early.

    Args:
        data, indices, indptr: the CSR arrays of X (n, d) (data float32 or float64; indices within a row
            may repeat, they add up as in ``X.toarray()``). y: (n,) targets. u: (d,) float64 weights,
            updated in place (w on return). b: bias (float64).
        order: (n,) int32 or int64 visiting order. batch: B >= 1. rule: (η₀, schedule code, power_t, T).
        l2: the L2 penalty (0: none). average_from: 1-based step from which to average (0: off).
        t0: steps run before this call. wa: (d,) float64 running average, updated in place. ba: its bias.
        v: (n,) sample weights of mean 1, or empty. ahead: row ``order[k + ahead]``'s weights are requested
            while row ``order[k]`` is computed (0: none).
        wl, bl, sq: (d,) float64 weights and a bias whose loss is measured on the way (wl empty: none): every
            visited row i gets ``sq[i] = v_i (x_i·wl + bl − y_i)²`` (v_i = 1 without weights), the term
            :func:`sum_squared_residual_csr` adds for that row, computed the same way (the same number). wl
            sits beside u (one cache line per column), so the row's reads serve both.

    Returns:
        ``(b, diverged_at, b_before, ba)``: the new bias, the 1-based step whose batch loss ½Σr² or updated
        parameters were first non-finite (0: none; u then holds the weights before that step and
        ``b_before`` the bias), and the averaged bias.
    """
    n, d = len(order), len(u)
    widest = _widest_row(indptr, order)
    r = np.empty(batch)
    old = np.empty(batch * widest)  # the values a step overwrote, to restore on divergence
    where = np.empty(batch * widest, dtype=np.int64)
    averaging = average_from > 0
    m0 = max(0, t0 - average_from + 1) if averaging else 0
    c = 1.0
    P = 0.0
    measuring = len(wl) > 0
    L = 1 + averaging  # the column of wl
    # st[j, 0] = u_j, averaging st[j, 1] = A_j, measuring st[j, L] = wl_j (one cache line); else a view of u
    st = np.empty((d, L + 1)) if measuring else np.empty((d, 2)) if averaging else u.reshape((d, 1))
    if averaging or measuring:
        for j in range(d):  # S = m0·w̄ = P·u − A with P = 0
            st[j, 0] = u[j]
            if averaging:
                st[j, 1] = -m0 * wa[j] if m0 > 0 else 0.0
            if measuring:
                st[j, L] = wl[j]
    rescale = _RESCALE_AVERAGED if averaging else _RESCALE
    weighted = len(v) > 0
    step = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        step += 1
        t = t0 + step
        # 1. residuals with the parameters before the step
        gb, loss = 0.0, 0.0
        for k in range(start, stop):
            if ahead:
                _prefetch_ahead(data, indices, indptr, y, st, order, k, n, ahead, sq)
            i = order[k]
            dot = 0.0
            if measuring:
                rl = bl - y[i]  # sum_squared_residual_csr's row term, in its order
                for p in range(indptr[i], indptr[i + 1]):
                    dot += data[p] * st[indices[p], 0]
                    rl += data[p] * st[indices[p], L]
                sq[i] = (v[i] * rl * rl) if weighted else rl * rl
            else:
                for p in range(indptr[i], indptr[i + 1]):
                    dot += data[p] * st[indices[p], 0]
            rk = c * dot + b - y[i]
            loss += 0.5 * rk * rk
            if weighted:
                rk *= v[i]
            gb += rk
            r[k - start] = rk
        # 2. the gradient step on the coordinates the batch touches, term by term
        eta = _lr_at(rule, t - 1)
        s = eta / (stop - start)
        sc = s / c
        check = loss
        q = 0
        for k in range(start, stop):
            i = order[k]
            f = -sc * r[k - start]
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                old[q] = st[j, 0]
                where[q] = j
                q += 1
                du = f * data[p]
                st[j, 0] += du
                check += st[j, 0] - st[j, 0]
                if averaging:
                    st[j, 1] += P * du
        b_before = b
        b -= s * gb
        if not np.isfinite(check + (b - b)):
            for e in range(q - 1, -1, -1):  # in reverse: a column written twice gets its first old value
                st[where[e], 0] = old[e]
            for j in range(d):
                u[j] = st[j, 0] * c
            return b, step, b_before, ba
        # 3. the L2 step as the scale c, folded into u when tiny; the running average
        if l2 > 0.0:
            c /= 1.0 + eta * l2
            if c < rescale:  # fold c into u; S = P·u − A becomes P = 0, A = −S (no digits lost to P·u ≈ A)
                for j in range(d):
                    if averaging:
                        st[j, 1] -= P * st[j, 0]
                    st[j, 0] *= c
                P = 0.0
                c = 1.0
        if averaging and t >= average_from:
            P += c
            ba += (b - ba) / (t - average_from + 1)
    m = max(0, t0 + step - average_from + 1) if averaging else 0
    if m > 0:
        for j in range(d):
            wa[j] = (P * st[j, 0] - st[j, 1]) / m
    for j in range(d):
        u[j] = st[j, 0] * c
    return b, 0, b, ba


@njit(nogil=True, cache=True)
def sum_squared_residual_csr(data, indices, indptr, y, w, b, v, i0, i1, ahead):
    """Σ v_i (x_i·w + b − y_i)² over CSR rows i0 ≤ i < i1, in float64 (v empty: all 1); two threads can each
    sum half the rows."""
    total = 0.0
    weighted = len(v) > 0
    for i in range(i0, i1):
        if ahead and i + ahead < i1:
            _prefetch_row(data, indices, indptr, y, w, i + ahead)
        r = b - y[i]
        for p in range(indptr[i], indptr[i + 1]):
            r += data[p] * w[indices[p]]
        total += (v[i] * r * r) if weighted else r * r
    return total


@njit(nogil=True, cache=True)
def sum_in_order(sq, i0, i1):
    """Σ sq[i] for i0 ≤ i < i1, added one after the other (the order :func:`sum_squared_residual_csr` adds its
    row terms in; numpy's pairwise sum would round differently)."""
    total = 0.0
    for i in range(i0, i1):
        total += sq[i]
    return total


@njit(nogil=True, cache=True)
def weighted_mean_of(ws, ms, total, out):
    """``out[j] = (0 + Σ_k ms[k]·ws[k][j]) / total`` in one pass over a tuple of (d,) float64 arrays: the sum
    :func:`linsgd.engines.averaging.weighted_mean` forms with whole-array temporaries, term by term in the same
    order (so the same numbers), without them."""
    for j in range(len(out)):
        acc = 0.0
        for k in range(len(ws)):
            acc += ms[k] * ws[k][j]
        out[j] = acc / total
