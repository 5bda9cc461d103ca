"""Never silently far, never crying wolf: whether a finished SGD run is near its optimum, and the warning.

Rules, documented here and in docs/reference.md, applied by ``linsgd.fit``, ``LinearRegressor`` and
``linsgd train`` (their thresholds are these constants; the tests sit just above and below each):

* **The optimality gap**, when the exact optimum is known (no penalty, no sample weights: the exact
  least-squares solution of the same rows): not converged when the excess loss L − L* exceeds
  :data:`GAP_THRESHOLD` = 5 % of max(L*, :data:`PERFECT_FIT` · L₀), where L₀ = ½Var(y) is the loss of
  predicting the mean. The floor keeps a perfect fit (L* ≈ 0: y an exact linear function of X) from being
  judged by a ratio of rounding errors: an answer whose excess is below 5e-7 of ½Var(y) (it costs R² less
  than 5e-7) is converged whatever L* is. (The chapter's 3 epochs on y = Xw + 4.2 exactly end 1.3e-7 of
  ½Var(y) above the optimum of ~1e-30.) Measured: the chapter's own run (lr 0.03, 3 epochs, batch 10) ends 0.1–2.4 %
  above the optimum over 40 seeds (median 0.7 %) — a learner must not be told it failed; constant-step SGD
  at its noise floor on raw diabetes sits at 0.9–1.2 %, averaged SGD below 0.1 %; what has not converged is
  far above (the chapter at lr 0.001: ×5·10⁴, 1 epoch on Longley: ~10⁵).
* **The distance in standard errors** (``LinearRegressor`` and ``linsgd train``, the practitioner's faces;
  not ``linsgd.fit``, the chapter's, whose 3 constant-step epochs end about 2–3 standard errors away): not
  converged when a coefficient (or the intercept) is more than :data:`SE_THRESHOLD` = 1 standard error from
  the exact one — a practitioner reads coefficients, and one standard error is the size of the
  uncertainty they already carry. Not applied to a perfect fit (L* ≤ PERFECT_FIT · L₀), whose standard
  errors measure rounding, not sampling.
* **The loss still falling**, otherwise (a penalised or weighted run, or data too large to solve in
  passing): the run ran out of epochs (it did not stop by itself) while its last epoch still improved the
  monitored loss by more than :data:`FALLING_THRESHOLD` = 0.1 % relative, or it ran a single epoch.

A run with ``epochs="auto"`` that stops at ``max_epochs`` says so (:func:`capped`), converged or not.
``linsgd.fit`` and ``LinearRegressor`` solve least squares in passing (normal equations, :func:`distance`) only
for arrays of at most :data:`GAP_WORK` = n·(d+1)²; beyond, only the falling-loss rule applies. File runs
already solve it exactly (QR) in their metrics pass.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from linsgd.data.sparse_input import is_sparse
from linsgd.errors import ConvergenceWarning
from linsgd.sgd.solver import NO_UNIQUE_SOLUTION

GAP_THRESHOLD = 0.05
SE_THRESHOLD = 1.0
PERFECT_FIT = 1e-5
FALLING_THRESHOLD = 1e-3
GAP_WORK = 20_000_000


@dataclass(frozen=True)
class Distance:
    """How far an answer is from the exact least-squares one of the same rows.

    Attributes:
        loss: its mean ½ squared loss L; optimum: L*; null: L₀ = ½Var(y) (weighted when the objective is).
        max_se: the largest |θ − θ*| / se over the coefficients and the intercept (None: not known).
        worst: the name of that coefficient (None: not known).
    """

    loss: float
    optimum: float
    null: float
    max_se: float | None = None
    worst: str | None = None

    @property
    def perfect(self) -> bool:
        """The optimum explains all but :data:`PERFECT_FIT` of the target's variance."""
        return self.optimum <= PERFECT_FIT * self.null

    @property
    def relative(self) -> float:
        """(L − L*) / max(L*, PERFECT_FIT·L₀): the gap against a floor the user cares about (inf when both are 0
        and L > L*)."""
        excess, floor = max(self.loss - self.optimum, 0.0), max(self.optimum, PERFECT_FIT * self.null)
        return excess / floor if floor > 0 else (0.0 if excess == 0 else math.inf)

    @classmethod
    def from_gap(cls, gap: dict, null: float) -> Distance | None:
        """From a file run's ``optimality_gap`` dict (``linsgd.runs.run``), with L₀; None when it has no loss."""
        if gap.get("loss") is None or gap.get("optimum") is None:
            return None
        units = [abs(u) for u in gap.get("se_units") or [] if u is not None]
        names = gap.get("names")
        worst = None
        if units and names:
            worst = names[int(np.argmax([abs(u) if u is not None else -1 for u in gap["se_units"]]))]
        return cls(gap["loss"], gap["optimum"], null, gap.get("max_se_units"), worst)


def relative_gap(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float | None:
    """:attr:`Distance.relative` of (w, b) on X, y; None when the problem is too large to solve in passing."""
    found = distance(X, y, w, b)
    return None if found is None else found.relative


def distance(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, names=None) -> Distance | None:
    """The :class:`Distance` of (w, b) on X, y; None when n·(d+1)² > GAP_WORK.

    L* comes from the normal equations of the centred, scaled design (a d×d solve after one pass, far
    cheaper than the QR of :func:`linsgd.exact`, which costs more than a short SGD fit at cross-validation
    sizes) and the residuals of that solution computed directly, so an inaccurate solve (a design as
    collinear as Filip's) can only raise L*, never report a gap that is not there. The standard errors are
    OLS's, s²(ÃᵀÃ)⁻¹ with Ã = [Z, 1] and s² = RSS/(n − d − 1) (None when n ≤ d + 1).
    """
    n, d = X.shape
    if n * (d + 1) ** 2 > GAP_WORK or n == 0:
        return None
    X64 = X.toarray().astype(np.float64) if is_sparse(X) else np.asarray(X, dtype=np.float64)  # n·d is small here
    y64 = np.asarray(y, dtype=np.float64)
    mean, ym = X64.mean(axis=0), y64.mean()
    scale = X64.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X64 - mean) / scale
    G = Z.T @ Z
    coef = np.linalg.lstsq(G, Z.T @ (y64 - ym), rcond=None)[0]
    best = _loss(Z, y64 - ym, coef, 0.0)
    w64 = np.asarray(w, dtype=np.float64)
    loss = _loss(X64, y64, w64, float(b))
    null = 0.5 * float(np.mean((y64 - ym) ** 2))
    found = Distance(loss, min(best, loss), null)
    if n <= d + 1 or not best > 0:
        return found
    s2 = 2 * best * n / (n - d - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(s2 * np.append(np.diag(np.linalg.pinv(G)), 1.0 / n))  # centred: the intercept's is s²/n
        units = np.abs(np.append(w64 * scale - coef, (float(b) + w64 @ mean) - ym) / se)
    if not np.all(np.isfinite(units)):
        return found
    k = int(np.argmax(units))
    label = "intercept" if k == d else (list(names)[k] if names is not None else f"x{k}")
    return Distance(loss, min(best, loss), null, float(units[k]), label)


def _loss(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    r = X @ w + b - y
    return 0.5 * float(r @ r) / len(y)


def capped(result) -> bool:
    """The run had ``epochs="auto"`` and ran into ``max_epochs`` without stopping by itself."""
    config = result.config
    return (config is not None and config.epochs == "auto" and not result.stopped_epoch
            and len(result.history) >= config.max_epochs)


def diagnose(result, found: Distance | None, *, cli: bool = False, se_rule: bool = False) -> str | None:
    """Why ``result`` (a FitResult) is not converged, as one sentence with advice; None when it is.

    Args:
        found: its :class:`Distance`, or None when unknown (then the loss-still-falling rule applies).
        cli: name the CLI's flags instead of the Python parameters. se_rule: apply the standard-error rule.
    """
    epochs = len(result.history)
    if epochs == 0:  # nothing was asked for
        return None
    ran = f"after {epochs} epoch{'s' * (epochs != 1)}" + (" (the max-epochs cap)" if capped(result) else "")
    if found is not None:
        why = []
        if not (found.relative <= GAP_THRESHOLD):  # nan counts as far
            why.append(f"relative optimality gap {found.relative:.3g} {ran} (loss {found.loss:.6g} of the model "
                       f"kept, exact optimum {found.optimum:.6g})")
        if se_rule and not found.perfect and found.max_se is not None and not (found.max_se <= SE_THRESHOLD):
            where = f" ({found.worst})" if found.worst else ""
            why.append(f"a coefficient{where} is {found.max_se:.3g} standard errors from the exact least-squares "
                       f"one {ran}")
        return "; ".join(why) + "; " + advice(result, cli) if why else None
    obj = result.objective or result.history
    if result.stopped_epoch or not obj:
        return None
    falling = len(obj) < 2 or (obj[-2] - obj[-1]) > FALLING_THRESHOLD * abs(obj[-1])
    if falling or not math.isfinite(obj[-1]):
        change = (f"fell by {(obj[-2] - obj[-1]) / abs(obj[-1]):.3g} (relative) in the last epoch"
                  if len(obj) > 1 else "was measured after a single epoch")
        return f"the loss {change} when the {epochs} epoch{'s' * (epochs != 1)} ran out; {advice(result, cli)}"
    return None


def advice(result, cli: bool) -> str:
    """What to change, never the setting already in force."""
    c = result.config
    flag = (lambda name: f"--{name.replace('_', '-')}") if cli else (lambda name: name)
    tips = []
    if c is not None and c.lr != "auto":
        tips.append(f"{flag('lr')} auto")
    if c is not None and c.average is False:
        tips.append(f"{flag('average')} auto")
    if c is not None and c.epochs != "auto":
        tips.append(f"more {flag('epochs')} (or {flag('epochs')} auto)")
    elif c is not None and capped(result):
        tips.append(f"a larger {flag('max_epochs')} (now {c.max_epochs})")
    elif c is not None:
        tips.append(f"a smaller {flag('tol')} (now {c.tol:g})")
    exact_failed = c is not None and (c.solver_reason or "").startswith(NO_UNIQUE_SOLUTION)
    if (c is None or c.penalty is None) and not exact_failed:  # never the solver that just found no answer
        tips.append(f"{flag('solver')} exact (the least-squares answer in one pass)")
    return "try " + ", ".join(tips)


def warn_if_not_converged(result, found: Distance | None, category: type[Warning] = ConvergenceWarning, *,
                          se_rule: bool = False) -> None:
    """Emit ``category`` with :func:`diagnose`'s sentence when the run is not converged."""
    why = diagnose(result, found, se_rule=se_rule)
    if why is not None:
        warnings.warn(f"not converged: {why}", category, stacklevel=3)
