"""The exceptions a user of linsgd can see, and the CLI exit code each one maps to."""

from __future__ import annotations


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for one-line errors."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class LinsgdError(Exception):
    """Base class of every error linsgd raises on purpose."""

    exit_code = 1


class ConfigError(LinsgdError, ValueError):
    """A setting is out of range: the message names the parameter, the value and what is allowed."""

    exit_code = 2

    def __init__(self, param: str, value: object, allowed: str) -> None:
        self.param, self.value, self.allowed = param, value, allowed
        super().__init__(f"{param}={value!r} is not allowed: {allowed}")


class DataError(LinsgdError, ValueError):
    """The input data is unusable: the message names the file, line and column, and the fix."""

    exit_code = 2


class DivergenceError(LinsgdError, ArithmeticError):
    """Training produced a non-finite loss or parameter; no model is returned or written.

    Attributes:
        epoch: 1-based epoch in which it happened.
        step: 1-based minibatch step within that epoch (0 when found by the end-of-epoch loss).
        lr: the learning rate that diverged.
        suggested_lr: a safe learning rate for this data and batch size (``linsgd.sgd.lr.stable_lr``; the demo:
            half the mean-square stability limit, ``linsgd.sgd.stability.safe_lr``).
        auto: the step was lr="auto"'s (on standardised features): the advice is then the exact solver.
    """

    exit_code = 3

    def __init__(self, epoch: int, step: int, lr: float, suggested_lr: float,
                 reason: str = "loss or parameters became inf/nan", auto: bool = False) -> None:
        if not suggested_lr < lr:  # never advise the step that just diverged (nor a larger one)
            suggested_lr = lr / 4
        self.epoch, self.step, self.lr, self.suggested_lr, self.reason = epoch, step, lr, suggested_lr, reason
        self.auto = auto
        super().__init__(self.describe("lr"))

    def describe(self, flag: str) -> str:
        """The message, naming the learning rate as ``flag`` (``lr`` in Python, ``--lr`` on the CLI)."""
        where = f"epoch {self.epoch}, step {self.step}" if self.step else f"the end of epoch {self.epoch}"
        if self.auto:
            solver = "--solver exact" if flag.startswith("--") else "solver='exact'"
            return (f"training diverged at {where} with {flag}=auto (step {self.lr:.3g} on the standardised "
                    f"features; {self.reason}); try {solver} (the least-squares answer in one pass)")
        return (f"training diverged at {where} with {flag}={self.lr:g} ({self.reason}); "
                f"try {flag}=auto first (standardises the features and picks the step from their curvature), "
                f"or {flag}={self.suggested_lr:.3g} (a safe step for this batch size on the raw scale)")


class StorageError(LinsgdError, OSError):
    """A file could not be written or read (disk full, read-only folder, corrupt checkpoint)."""

    exit_code = 4


class LinsgdWarning(UserWarning):
    """A result that exists but should not be trusted blindly (collinear design, constant target, …)."""


class ConvergenceWarning(LinsgdWarning):
    """Training ended far from its optimum (relative optimality gap above 5 %) or while its loss was still
    falling; the message says how far and what to change (``linsgd.sgd.convergence``).

    ``LinearRegressor`` emits a subclass that is also scikit-learn's ``ConvergenceWarning``.
    """


class DataNote(LinsgdWarning):
    """How the data was read, when it is worth knowing: a column left out or converted (one line)."""


class CollectiveError(LinsgdError):
    """A collective between ranks failed: another rank died, or hung longer than ``--dist-timeout``."""

    exit_code = 4


class MissingExtraError(LinsgdError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra to install."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (the CLI turns it into this): stop like Ctrl-C, cleanup runs, exit code 143."""

    exit_code = 143
