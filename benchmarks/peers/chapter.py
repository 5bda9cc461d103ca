"""Peer "chapter": the d2l chapter's own training code in torch, as the book writes it.

This is the peer, written here on purpose (not linsgd's ``scratch`` copy): a Python list of indices
shuffled per epoch, a new index tensor per minibatch, autograd through ``l.sum().backward()``, and
``sgd`` dividing by the nominal ``batch_size`` under ``torch.no_grad()``. The only changes: the shuffle
uses a seeded ``random.Random`` instead of the global one, and the initial w is the shared ``w0``.
"""

from __future__ import annotations

import random

import numpy as np

from peers import PeerRun, timed_epochs


def data_iter(batch_size, features, labels, rng: random.Random):
    """The chapter's minibatch reader: shuffle a list of indices, yield consecutive slices."""
    import torch

    num_examples = len(features)
    indices = list(range(num_examples))
    rng.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    """The linear regression model."""
    import torch

    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Squared loss, one value per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent (divides by the nominal batch size, as the book does)."""
    import torch

    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def run(X, y, wl, rows: int, w0: np.ndarray, seed: int) -> PeerRun:
    """Train the chapter's loop on ``X[:rows]`` for ``wl.epochs`` epochs."""
    import torch

    features = torch.from_numpy(X[:rows])
    labels = torch.from_numpy(y[:rows]).reshape(-1, 1)
    w = torch.tensor(w0.reshape(-1, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    rng = random.Random(seed)

    def train_epoch(_epoch: int) -> None:
        for X_b, y_b in data_iter(wl.batch, features, labels, rng):
            l = squared_loss(linreg(X_b, w, b), y_b)
            l.sum().backward()
            sgd([w, b], wl.lr, wl.batch)

    def snapshot():
        return w.detach().numpy().reshape(-1).astype(np.float64), float(b.detach()[0])

    seconds, params = timed_epochs(wl.epochs, train_epoch, snapshot)
    notes = [] if rows % wl.batch == 0 else ["short last batch divided by the nominal batch size"]
    return PeerRun(rows, wl.epochs, seconds, *params[-1], epoch_params=params, notes=notes)
