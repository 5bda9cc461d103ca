"""The reference engine: the chapter's own code path, used as the oracle for every faster engine.

Each minibatch runs exactly the chapter's lines on ``linsgd.scratch``::

    l = squared_loss(linreg(X, w, b), y)
    l.sum().backward()
    sgd([w, b], lr, batch_size)

with two differences that make it an oracle: the order of examples is given (the shared epoch order),
and ``sgd`` is told the real size of a short last batch. The rest of :mod:`linsgd.engines.rule` is written
with torch too: the step size η_t of the schedule goes to ``sgd``, sample weights multiply each example's
loss before ``backward``, the penalty is the soft threshold after ``sgd``, and the average is a float64
running mean of the parameters. Another loss (huber, epsilon_insensitive, quantile) replaces
``squared_loss`` by its torch formula (:func:`loss_of`), and autograd gives its (sub)gradient.
"""

from __future__ import annotations

import numpy as np
import torch

from linsgd.engines.base import EpochOutcome
from linsgd.engines.rule import as_rule
from linsgd.scratch import linreg, sgd, squared_loss


class ReferenceEngine:
    """Torch autograd, one Python iteration per minibatch; runs on ``device`` (cpu or cuda)."""

    name = "reference"

    def __init__(self, device: str = "cpu", loss: tuple[str, float, float] = ("squared", 0.1, 0.5)) -> None:
        self.device = torch.device(device)
        self.loss_spec = loss  # (loss, ε, q) of the full-data loss (the steps take the rule's)

    def run_epoch(self, X, y, w, b, order, lr, batch_size, *, t0=0, avg=None, weight=None) -> EpochOutcome:
        rule = as_rule(lr)
        features, labels = self._tensor(X), self._tensor(y).reshape(-1, 1)
        weights = self._tensor(weight).reshape(-1, 1) if weight is not None else None
        indices = self._tensor(np.asarray(order, dtype=np.int64))
        w_t = self._tensor(w).clone().reshape(-1, 1).requires_grad_(True)
        b_t = torch.tensor([b], dtype=w_t.dtype, device=self.device, requires_grad=True)
        wa, ba = self._average(w_t, b_t, avg)
        n = len(order)
        l1, l2 = rule.penalty_vectors(len(w)).reshape(2, -1, 1) if rule.penalized else (None, None)
        for step, i in enumerate(range(0, n, batch_size), start=1):
            batch = indices[i:min(i + batch_size, n)]
            last_w, last_b = w_t.detach().clone(), b_t.detach().clone()
            y_hat = linreg(features[batch], w_t, b_t)
            l = squared_loss(y_hat, labels[batch]) if rule.loss == "squared" else \
                loss_of(y_hat, labels[batch], rule.loss, rule.epsilon, rule.quantile)
            total = l.sum()
            # sample weights scale each example's loss, hence its gradient (the divergence check stays on Σl)
            (total if weights is None else (l * weights[batch]).sum()).backward()
            eta = rule.lr_at(t0 + step - 1)
            sgd([w_t, b_t], eta, len(batch))  # the real batch size, also for a short last batch
            if rule.penalized:
                _prox_(w_t, eta * l1, 1.0 / (1.0 + eta * l2))
            if not (torch.isfinite(total) and torch.isfinite(w_t).all() and torch.isfinite(b_t).all()):
                return EpochOutcome(_numpy(last_w), float(last_b), diverged_at=step)
            m = rule.averaging(t0 + step)
            if m:  # Polyak–Ruppert: w̄ ← w̄ + (w − w̄)/m, in float64
                with torch.no_grad():
                    wa += (w_t.detach().double() - wa) / m
                    ba += (b_t.detach().double() - ba) / m
        avg_out = (_numpy(wa), float(ba)) if rule.average_from else None
        return EpochOutcome(_numpy(w_t), float(b_t.detach()), avg=avg_out)

    def loss(self, X, y, w, b, weight=None) -> float:
        with torch.no_grad():
            w_t = self._tensor(w).reshape(-1, 1)
            y_hat = linreg(self._tensor(X), w_t, torch.tensor(b, dtype=w_t.dtype, device=self.device))
            if self.loss_spec[0] != "squared":
                l = loss_of(y_hat.double(), self._tensor(y).double().reshape(y_hat.shape), *self.loss_spec)
                return float(l.mean() if weight is None else (l * self._tensor(weight).double().reshape(-1, 1)).mean())
            if weight is None:
                return float(squared_loss(y_hat, self._tensor(y)).mean())
            l = squared_loss(y_hat.double(), self._tensor(y).double())
            return float((l * self._tensor(weight).double().reshape(-1, 1)).mean())

    def _average(self, w_t, b_t, avg):
        """The running average (float64 tensors) to continue: ``avg``, or the current parameters."""
        if avg is None:
            return w_t.detach().double().clone(), b_t.detach().double().clone()
        return (self._tensor(np.asarray(avg[0], dtype=np.float64)).reshape(-1, 1).clone(),
                torch.tensor([float(avg[1])], dtype=torch.float64, device=self.device))

    def prepare(self, X, y) -> None:
        """Nothing to lay out: the chapter's code indexes the arrays as they are."""

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)


def loss_of(y_hat: torch.Tensor, y: torch.Tensor, loss: str, epsilon: float, quantile: float) -> torch.Tensor:
    """Each example's loss L(y − ŷ) (:mod:`linsgd.lstsq.losses`), written so that autograd's subgradient at
    the kinks is the one the fused kernels take (:mod:`linsgd.engines._loss_kernels`)."""
    r = y_hat - y.reshape(y_hat.shape)  # ŷ − y
    if loss == "huber":
        a = r.abs()
        return torch.where(a <= epsilon, 0.5 * r * r, epsilon * a - 0.5 * epsilon * epsilon)
    if loss == "epsilon_insensitive":
        return torch.clamp(r.abs() - epsilon, min=0.0)
    return torch.where(r >= 0, (1.0 - quantile) * r, -quantile * r)


def _prox_(w: torch.Tensor, threshold: np.ndarray, shrink: np.ndarray) -> None:
    """w ← S(w, threshold)·shrink in place, per coefficient (thresholds and shrinks shaped like w): the
    proximal step of the ElasticNet penalty (linsgd.engines.rule)."""
    with torch.no_grad():
        t = torch.from_numpy(np.asarray(threshold)).to(dtype=w.dtype, device=w.device)
        s = torch.from_numpy(np.asarray(shrink)).to(dtype=w.dtype, device=w.device)
        w.copy_(torch.where(w > t, w - t, torch.where(w < -t, w + t, 0 * w)) * s)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().reshape(-1).copy()
