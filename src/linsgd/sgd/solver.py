"""``solver="auto"``: the exact least-squares solve where it is exact and cheaper, SGD where it is not.

The rule (documented in docs/reference.md, applied before any pass over the rows by :func:`choose`):

* **SGD** when the run is online — ``partial_fit``, checkpoints or ``--resume`` (the exact solve is one pass
  and has no epochs to continue or checkpoint) —, when ``lr`` or ``epochs`` is a number or early stopping's
  ``patience`` is set (the run tunes SGD), or when
  the least-squares statistics do not fit the memory budget: the solver holds the (d+1)×(d+1) R factor of
  the centred design and merges two of them, :data:`STATISTICS_COPIES` float64 matrices of (d+2)² values
  (a wide one-hot or hashed design of 100,000 columns would need 240 GB).
* **exact**, the trusted optimum (:mod:`linsgd.lstsq.robust`), for a loss other than squared, under the same
  conditions (and SGD, on the loss's subgradient, where it has none: quantile or epsilon-insensitive with a
  ridge part).
* **exact** otherwise: the squared loss (with sample weights and the ElasticNet penalty when asked) solved in
  one streamed float64 pass. It is cheaper than SGD wherever it fits: a file run solves the same least
  squares in its metrics pass anyway, to report the optimality gap, so SGD's epochs only come on top.

The resolved config names the solver that ran and why (``solver_reason``): ``linsgd train`` prints it, and it
is saved in ``config.json`` and the model file.
"""

from __future__ import annotations

import dataclasses

from linsgd.config import TrainConfig

# solver_reason of an auto run whose exact solve found no unique solution (SGD then returns one minimiser)
NO_UNIQUE_SOLUTION = "sgd: the exact solve has no unique solution"

# one reason for both: a resumed run's settings must match its checkpoint's
RESUMABLE = "a resumable run (checkpoints, --resume) continues step by step, and the exact solve has no steps"
TRUSTED = {"huber": "iteratively reweighted least squares, one pass per step",
           "quantile": "a linear program, HiGHS, rows in memory",
           "epsilon_insensitive": "a linear program, HiGHS, rows in memory"}
STATISTICS_COPIES = 3  # the R factor, the block being merged into it, and the solve's copy
_UNITS = ((1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB"))


def statistics_bytes(d: int) -> int:
    """Bytes the exact solver's statistics take for d features (with the intercept and the target column)."""
    return STATISTICS_COPIES * 8 * (d + 2) ** 2


def choose(config: TrainConfig, d: int, budget: int, *, sgd_because: str | None = None) -> TrainConfig:
    """The config with ``solver="auto"`` resolved to "exact" or "sgd" and ``solver_reason`` filled.

    Args:
        config: any config; one whose solver is not "auto" is returned unchanged. d: encoded feature columns.
        budget: bytes the run may hold in memory (``--max-memory``). sgd_because: why this run must take SGD
            steps (``partial_fit``, :data:`RESUMABLE`), or None.

    >>> choose(TrainConfig(), 12, 1 << 30).solver_reason
    'exact: least squares in one pass (the statistics of 12 features take 4.6 KB of the 1.0 GB memory budget)'
    >>> choose(TrainConfig(lr=0.1), 12, 1 << 30).solver
    'sgd'
    """
    if config.solver != "auto":
        return config
    need = statistics_bytes(d)
    if sgd_because is not None:
        why = f"sgd: {sgd_because}"
    elif config.lr != "auto" or config.epochs != "auto" or config.patience is not None:
        asked = ", ".join(f"{k}={v}" for k, v in (("lr", config.lr), ("epochs", config.epochs),
                                                  ("patience", config.patience)) if v not in ("auto", None))
        why = f"sgd: {asked} asks for SGD steps"
    elif config.loss in ("quantile", "epsilon_insensitive") and config.penalty in ("l2", "elasticnet"):
        why = f"sgd: the {config.loss} loss with a ridge part has no linear program (its trusted optimum)"
    elif config.loss != "squared":
        why = f"exact: the trusted optimum of the {config.loss} loss ({TRUSTED[config.loss]})"
    elif need > budget:
        why = (f"sgd: the exact statistics of {d} features would take {_size(need)}, more than the "
               f"{_size(budget)} memory budget")
    else:
        why = (f"exact: least squares in one pass (the statistics of {d} features take {_size(need)} of the "
               f"{_size(budget)} memory budget)")
    return dataclasses.replace(config, solver=why.split(":")[0], solver_reason=why)


def _size(n: int) -> str:
    for unit, name in _UNITS:
        if n >= unit:
            return f"{n / unit:.1f} {name}"
    return f"{n} bytes"
