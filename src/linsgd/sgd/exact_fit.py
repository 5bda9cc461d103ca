"""The exact solver behind ``fit(solver="exact")`` and file runs: one pass, the answer as a FitResult.

The objective is the one SGD optimises (:mod:`linsgd.lstsq.penalized`): least squares, with sample weights
and scikit-learn's ElasticNet penalty when the config asks for them. Arrays are solved in float64 whatever
the training dtype; a data view is read once (its rows, then every rank's state merged).
"""

from __future__ import annotations

import time

import numpy as np

from linsgd.config import default_max_memory
from linsgd.data.rank_views import RankSlice, Sharded
from linsgd.data.sparse_input import is_sparse
from linsgd.data.views import InMemory, Streamed
from linsgd.errors import ConfigError
from linsgd.lstsq.losses import describe_loss, loss_values
from linsgd.lstsq.penalized import describe, penalty, penalty_of
from linsgd.lstsq.qr import LeastSquares, exact, merge_all
from linsgd.lstsq.robust import trusted_optimum
from linsgd.lstsq.rows import array_chunks
from linsgd.lstsq.sparse import check_size, sparse_state
from linsgd.sgd.result import FitResult

# Why --solver exact refuses checkpoints: the same words for the CLI's early check and the API's.
EXACT_NO_CHECKPOINTS = ("no --checkpoint-every or --resume: the exact solver makes one pass over the data and "
                        "has no epochs to checkpoint (rerun it instead)")


def exact_fit(X: np.ndarray, y: np.ndarray, config, *, alpha: float | None = None, l1_ratio: float | None = None,
              sample_weight=None, names=None):
    """``linsgd.fit(..., solver="exact")``: a FitResult holding the exact solution (history: its objective).

    Args:
        X, y: validated arrays (:func:`~linsgd.data.checks.as_training_arrays`), solved in float64 whatever
            their dtype. config: the resolved TrainConfig; its ``penalty``/``alpha``/``l1_ratio`` (when it
            has them) choose the objective (:func:`~linsgd.lstsq.penalized.penalty_of`).
        alpha, l1_ratio: override the config's penalty (α ≥ 0, ρ ∈ [0, 1]). sample_weight: (n,) ≥ 0 or None.
        names: the columns' names, for the messages about the design (None: x0, x1, …).

    Returns:
        FitResult with float64 ``w``, ``history = [F*]`` (the optimum of the objective) and ``solution``.
    """
    start = time.perf_counter()
    alpha, l1_ratio = penalty_of(config, alpha, l1_ratio)
    if is_sparse(X):  # the normal equations of the sparse matrix, where they fit the memory budget
        check_size(X.shape[1], default_max_memory())
        solution = sparse_state(X, y, sample_weight).solution(names, alpha=alpha, l1_ratio=l1_ratio)
        return _exact_result(solution, config, time.perf_counter() - start)
    if config.loss != "squared":
        X64 = np.asarray(X, np.float64)
        trusted = _trusted(lambda: array_chunks(X64, y, sample_weight, 1 << 16), X64.shape[1], config)
        return _trusted_result(trusted, config, time.perf_counter() - start)
    solution = exact(X, y, alpha=alpha, l1_ratio=l1_ratio, sample_weight=sample_weight, feature_names=names)
    return _exact_result(solution, config, time.perf_counter() - start)


def exact_data(data, config, *, sync=None, names=None, standardizer=None) -> FitResult:
    """The exact solution of a data view in one streamed pass: this process's rows with their sample weights
    (:func:`weighted_rows`), then, under torchrun, every rank's state gathered (``sync.gather``) and merged in
    rank order (tree), so every rank holds the same solution, equal to one process's up to rounding.

    ``names``: the encoded columns' names, for the messages about the design (None: x0, x1, …).

    ``standardizer``: the standardisation of the view's features (None: raw). With a penalty, the rows are
    mapped back to the raw scale and the raw objective solved (``solution`` is raw); ``w``, ``b`` are then
    on the view's scale, like the loop's.

    Raises:
        DataError: no unique solution, or no rows. CollectiveError: another rank failed.
    """
    start = time.perf_counter()
    d = data.sample().shape[1]
    alpha, l1_ratio = penalty_of(config)
    if config.loss != "squared":  # the trusted optimum of the raw objective, on this process's rows
        if sync is not None and sync.every is not None:
            raise ConfigError("loss", config.loss, "'squared' under torchrun (a trusted optimum of another loss "
                                                   "runs on one process)")
        std = standardizer
        trusted = _trusted(lambda: ((X if std is None else np.asarray(X, np.float64) * std.scale + std.mean, y, v)
                                    for X, y, v in weighted_rows(data)), d, config)
        result = _trusted_result(trusted, config, time.perf_counter() - start)
        if std is not None:
            result.w, result.b = std.to_standardized(result.w, result.b)
        return result
    raw = standardizer if alpha > 0 else None  # least squares alone does not depend on the scale
    state = LeastSquares.empty(d)
    for X, y, v in weighted_rows(data):
        state = state.update(X if raw is None else np.asarray(X, np.float64) * raw.scale + raw.mean, y, v)
    if sync is not None and sync.every is not None:  # a distributed Sync: merge the ranks' states
        state = merge_all([LeastSquares.from_floats(v, d) for v in sync.gather(state.to_floats())])
    result = _exact_result(state.solution(names, alpha=alpha, l1_ratio=l1_ratio), config,
                           time.perf_counter() - start)
    if raw is not None:
        w, b = raw.to_standardized(result.w, result.b)
        result.w, result.b = w, b
    return result


def _exact_result(solution, config, seconds: float) -> FitResult:
    return FitResult(w=solution.w, b=solution.b, history=[solution.optimum], seed=config.seed, config=config,
                     seconds=seconds, epoch_seconds=[seconds], solution=solution)


def _trusted(passes, d: int, config):
    alpha, l1_ratio = penalty_of(config)
    return trusted_optimum(passes, d, loss=config.loss, epsilon=config.epsilon, quantile=config.quantile,
                           alpha=alpha, l1_ratio=l1_ratio)


def _trusted_result(trusted, config, seconds: float) -> FitResult:
    return FitResult(w=trusted.w, b=trusted.b, history=[trusted.optimum], seed=config.seed, config=config,
                     seconds=seconds, epoch_seconds=[seconds], trusted=trusted)


def trusted_gap(result: FitResult, table, std=None) -> dict:
    """The optimality gap of a run with a loss other than squared, as JSON values: its objective at (w, b)
    over the rows of ``table`` (a loaded table: ``read``, ``read_weight``; X standardised by ``std`` when
    given, mapped back to the raw scale of the objective) against the trusted optimum — the run's own, or for
    an SGD run one solved on the same rows (``{"unavailable": why}`` where there is none) — and how it was
    found."""
    c = result.config
    cut = [(a, min(a + (1 << 16), table.n)) for a in range(0, table.n, 1 << 16)]

    def rows():
        for a, z in cut:
            X, y = table.read(a, z)
            X = np.asarray(X, np.float64) if std is None else np.asarray(X, np.float64) * std.scale + std.mean
            yield X, y, table.read_weight(a, z)

    t = result.trusted
    if t is None:  # an SGD run: its raw coefficients against the optimum of the same rows
        w, b = std.to_raw(result.w, result.b) if std is not None else (np.asarray(result.w, np.float64), result.b)
        try:
            t = _trusted(rows, len(w), c)
        except ConfigError as e:
            return {"unavailable": f"no trusted optimum: {e.allowed}"}
    else:
        w, b = t.w, t.b
    alpha, l1_ratio = penalty_of(c)
    total = weight = 0.0
    weighted = False
    for X, y, v in rows():
        weighted = weighted or v is not None
        values = loss_values(np.asarray(y, np.float64) - (X @ w + b), c.loss, c.epsilon, c.quantile)
        total += float(values.sum() if v is None else v @ values)
        weight += float(len(values) if v is None else np.sum(v))
    value = total / weight + penalty(w, alpha, l1_ratio)
    text = f"{'weighted ' if weighted else ''}mean {describe_loss(c.loss, c.epsilon, c.quantile)} loss"
    if alpha > 0:
        text += " + " + describe(alpha, l1_ratio, False).split(" + ", 1)[1]
    return {"objective": text, "loss": value, "optimum": t.optimum,
            "relative": (value - t.optimum) / max(abs(t.optimum), 1e-300), "method": t.method,
            "converged": t.converged}


def weighted_rows(data):
    """This process's rows of a data view as ``(X, y, v)`` chunks, v the view's normalised sample weights
    (None: unweighted); over all ranks, every row exactly once (the rows of ``data.rows()``).

    The weights are the ones SGD steps with (mean 1 over the table), so the solution is that of the weighted
    objective Σ s_i r_i² / (2 Σ s_i) the run optimises: a constant factor on every weight changes neither.
    """
    if isinstance(data, RankSlice):  # this rank's block of the rows every rank holds
        n, N = data.data.n, data.world_size
        yield from _view_rows(data.data, data.rank * n // N, (data.rank + 1) * n // N)
    elif isinstance(data, Sharded):  # this rank's shard (its weights normalised over every rank's rows)
        yield from weighted_rows(data.data)
    else:
        yield from _view_rows(data, 0, data.n)


def _view_rows(data, start: int, stop: int):
    """Rows [start, stop) of an in-memory or streamed view with the weights of the same rows."""
    if not isinstance(data, InMemory | Streamed):  # a view that holds no weights
        yield from ((X, y, None) for X, y in data.rows())
        return
    a = start
    for X, y in data.rows(start, stop):
        if isinstance(data, InMemory):
            v = None if data.weight is None else data.weight[a:a + len(y)]
        else:
            v = data.table.read_weight(a, a + len(y))
        yield X, y, v
        a += len(y)
