"""Peer "torch-idiomatic": what a PyTorch user writes — DataLoader, nn.Linear, nn.MSELoss, optim.SGD.

``nn.MSELoss`` is the batch mean of (ŷ − y)²; the chapter's loss is the batch mean of ½(ŷ − y)², so the
loss is ``0.5 * MSELoss`` and ``lr`` means the same step as in every other peer.
"""

from __future__ import annotations

import numpy as np

from peers import PeerRun, timed_epochs


def run(X, y, wl, rows: int, w0: np.ndarray, seed: int) -> PeerRun:
    """Train nn.Linear with optim.SGD over a shuffling DataLoader on ``X[:rows]``."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    dataset = TensorDataset(torch.from_numpy(X[:rows]), torch.from_numpy(y[:rows]).reshape(-1, 1))
    loader = DataLoader(dataset, batch_size=wl.batch, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    net = nn.Linear(wl.d, 1)
    with torch.no_grad():  # the chapter's initialisation, shared with the other peers
        net.weight.copy_(torch.from_numpy(w0).reshape(1, -1))
        net.bias.zero_()
    mse = nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=wl.lr)

    def train_epoch(_epoch: int) -> None:
        for X_b, y_b in loader:
            loss = 0.5 * mse(net(X_b), y_b)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def snapshot():
        return (net.weight.detach().numpy().reshape(-1).astype(np.float64),
                float(net.bias.detach()[0]))

    seconds, params = timed_epochs(wl.epochs, train_epoch, snapshot)
    return PeerRun(rows, wl.epochs, seconds, *params[-1], epoch_params=params,
                   notes=["DataLoader(shuffle=True), 0.5·MSELoss"])
