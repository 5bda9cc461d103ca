"""Scores a peer's run on the FULL data, in float64, the same way for every peer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WITHIN = 0.05  # "time to 5 %": full-data loss ≤ (1 + WITHIN) × the least-squares optimum


@dataclass
class Row:
    """One line of the results table (None: not measured; ``error`` set: the peer was unavailable)."""

    peer: str
    rate: float | None = None
    final_loss: float | None = None
    w_err: float | None = None
    b_err: float | None = None
    time_to_target: float | None = None
    target_epoch: int | None = None
    prefix: bool = False
    notes: list[str] = field(default_factory=list)
    error: str | None = None


class Evaluator:
    """Full-data loss, the least-squares optimum and the errors against the true parameters.

    Args:
        X, y: the workload's float32 data. w_true, b_true: the parameters the data was made with.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, w_true: np.ndarray, b_true: float) -> None:
        # One float64 copy with a column of ones serves both lstsq and every loss evaluation.
        self.A = np.empty((X.shape[0], X.shape[1] + 1))
        self.A[:, :-1] = X
        self.A[:, -1] = 1.0
        self.y = y.astype(np.float64)
        self.w_true, self.b_true = w_true, b_true
        self.opt_theta = np.linalg.lstsq(self.A, self.y, rcond=None)[0]
        self.opt_loss = self.loss(self.opt_theta[:-1], float(self.opt_theta[-1]))

    def loss(self, w: np.ndarray, b: float, rows: int | None = None) -> float:
        """Mean of ½(Xw + b − y)² over the first ``rows`` rows (all by default), in float64."""
        A, y = (self.A, self.y) if rows is None else (self.A[:rows], self.y[:rows])
        r = A @ np.append(np.asarray(w, dtype=np.float64), b) - y
        return 0.5 * float(r @ r) / len(r)

    def prefix_opt_loss(self, rows: int) -> float:
        """The least-squares optimum loss of the first ``rows`` rows."""
        theta = np.linalg.lstsq(self.A[:rows], self.y[:rows], rcond=None)[0]
        return self.loss(theta[:-1], float(theta[-1]), rows)

    def score(self, name: str, run, n: int) -> Row:
        """The table row of a peer's ``run`` (a ``peers.PeerRun``) on a workload of ``n`` rows."""
        row = Row(name, rate=run.rows * run.epochs / run.seconds, final_loss=self.loss(run.w, run.b),
                  w_err=float(np.max(np.abs(run.w - self.w_true))), b_err=abs(run.b - self.b_true),
                  prefix=run.rows < n, notes=list(run.notes))
        if row.prefix:
            row.notes.insert(0, f"prefix {run.rows:,} rows, {run.epochs} epochs")
        losses, goal = self._epoch_losses(run, n)
        if run.epoch_params is None and row.prefix:
            row.notes.append("time to 5 % judged on the prefix's own loss and optimum")
        for epoch, value in enumerate(losses):
            if value <= (1 + WITHIN) * goal:
                row.time_to_target, row.target_epoch = run.epoch_seconds[epoch], epoch + 1
                break
        return row

    def _epoch_losses(self, run, n: int) -> tuple[list[float], float]:
        """Per-epoch losses and the optimum they are judged against.

        Full-data losses when the peer exposes its parameters per epoch; otherwise its own history,
        which is a loss on the rows it trained on, so the optimum of those rows is the yardstick.
        """
        if run.epoch_params is not None:
            return [self.loss(w, b) for w, b in run.epoch_params], self.opt_loss
        if run.epoch_losses is None:
            return [], self.opt_loss
        if run.rows < n:
            return run.epoch_losses, self.prefix_opt_loss(run.rows)
        return run.epoch_losses, self.opt_loss
