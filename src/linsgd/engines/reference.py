"""The reference engine: the chapter's own code path, used as the oracle for every faster engine.

Each minibatch runs exactly the chapter's lines on ``linsgd.scratch``::

    l = squared_loss(linreg(X, w, b), y)
    l.sum().backward()
    sgd([w, b], lr, batch_size)

with two differences that make it an oracle: the order of examples is given (the shared epoch order),
and ``sgd`` is told the real size of a short last batch.
"""

from __future__ import annotations

import numpy as np
import torch

from linsgd.engines.base import EpochOutcome
from linsgd.scratch import linreg, sgd, squared_loss


class ReferenceEngine:
    """Torch autograd, one Python iteration per minibatch; runs on ``device`` (cpu or cuda)."""

    name = "reference"

    def __init__(self, device: str = "cpu") -> None:
        self.device = torch.device(device)

    def run_epoch(self, X, y, w, b, order, lr, batch_size) -> EpochOutcome:
        features, labels = self._tensor(X), self._tensor(y).reshape(-1, 1)
        indices = self._tensor(np.asarray(order, dtype=np.int64))
        w_t = self._tensor(w).clone().reshape(-1, 1).requires_grad_(True)
        b_t = torch.tensor([b], dtype=w_t.dtype, device=self.device, requires_grad=True)
        n = len(order)
        for step, i in enumerate(range(0, n, batch_size), start=1):
            batch = indices[i:min(i + batch_size, n)]
            last_w, last_b = w_t.detach().clone(), b_t.detach().clone()
            l = squared_loss(linreg(features[batch], w_t, b_t), labels[batch])
            total = l.sum()
            total.backward()
            sgd([w_t, b_t], lr, len(batch))  # the real batch size, also for a short last batch
            if not (torch.isfinite(total) and torch.isfinite(w_t).all() and torch.isfinite(b_t).all()):
                return EpochOutcome(_numpy(last_w), float(last_b), diverged_at=step)
        return EpochOutcome(_numpy(w_t), float(b_t.detach()))

    def loss(self, X, y, w, b) -> float:
        with torch.no_grad():
            w_t = self._tensor(w).reshape(-1, 1)
            y_hat = linreg(self._tensor(X), w_t, torch.tensor(b, dtype=w_t.dtype, device=self.device))
            return float(squared_loss(y_hat, self._tensor(y)).mean())

    def prepare(self, X, y) -> None:
        """Nothing to lay out: the chapter's code indexes the arrays as they are."""

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().reshape(-1).copy()
