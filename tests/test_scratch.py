"""The chapter's pieces (linsgd.scratch): the math of each one, and the chapter's loop on them."""

from __future__ import annotations

import pytest
import torch

from linsgd.scratch import data_iter, linreg, sgd, squared_loss, synthetic_data

TRUE_W = torch.tensor([2, -3.4])
TRUE_B = 4.2


def test_synthetic_data_shapes_and_model():
    g = torch.Generator().manual_seed(0)
    features, labels = synthetic_data(TRUE_W, TRUE_B, 1000, generator=g)
    assert features.shape == (1000, 2) and labels.shape == (1000, 1)
    assert features.dtype == labels.dtype == torch.float32
    residual = labels - (features @ TRUE_W.reshape(-1, 1) + TRUE_B)
    # the noise is N(0, 0.01²): its sample std is within 10 % of 0.01 for n = 1000
    assert abs(float(residual.std()) - 0.01) < 1e-3
    assert abs(float(features.std()) - 1.0) < 0.05


def test_squared_loss_gradient_matches_finite_differences():
    g = torch.Generator().manual_seed(1)
    X = torch.normal(0, 1, (7, 3), generator=g, dtype=torch.float64)
    y = torch.normal(0, 1, (7,), generator=g, dtype=torch.float64)
    w = torch.normal(0, 1, (3, 1), generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    squared_loss(linreg(X, w, b), y).sum().backward()
    eps = 1e-6
    for params, grad in ((w, w.grad), (b, b.grad)):
        for i in range(params.numel()):
            with torch.no_grad():
                flat = params.view(-1)
                flat[i] += eps
                up = squared_loss(linreg(X, w, b), y).sum()
                flat[i] -= 2 * eps
                down = squared_loss(linreg(X, w, b), y).sum()
                flat[i] += eps
            assert float(grad.view(-1)[i]) == pytest.approx(float((up - down) / (2 * eps)), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("rows", [10, 3])  # a full batch and a short last batch
def test_one_sgd_step_equals_closed_form(rows):
    g = torch.Generator().manual_seed(2)
    X = torch.normal(0, 1, (rows, 2), generator=g, dtype=torch.float64)
    y = torch.normal(0, 1, (rows, 1), generator=g, dtype=torch.float64)
    w0 = torch.normal(0, 1, (2, 1), generator=g, dtype=torch.float64)
    b0 = torch.tensor([0.3], dtype=torch.float64)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    lr = 0.03
    squared_loss(linreg(X, w, b), y).sum().backward()
    sgd([w, b], lr, rows)  # the real batch size
    r = X @ w0 + b0 - y
    torch.testing.assert_close(w.detach(), w0 - lr / rows * X.T @ r, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(b.detach(), b0 - lr / rows * r.sum(0), rtol=1e-12, atol=1e-14)
    assert float(w.grad.abs().sum()) == 0 and float(b.grad.abs().sum()) == 0  # zeroed for the next step


@pytest.mark.parametrize("n,batch", [(100, 10), (103, 10), (5, 10), (1, 1)])
def test_data_iter_visits_every_example_once(n, batch):
    features = torch.arange(n, dtype=torch.float32).reshape(-1, 1).repeat(1, 2)
    labels = torch.arange(n, dtype=torch.float32).reshape(-1, 1)
    batches = list(data_iter(batch, features, labels, generator=torch.Generator().manual_seed(0)))
    sizes = [len(X) for X, _ in batches]
    assert sizes == [batch] * (n // batch) + ([n % batch] if n % batch else [])
    seen = torch.cat([y.reshape(-1) for _, y in batches]).long()
    assert sorted(seen.tolist()) == list(range(n))
    for X, y in batches:  # rows stay paired with their labels
        assert X.shape[1] == 2 and y.shape[1] == 1 and torch.equal(X[:, 0], y[:, 0])


def test_data_iter_seeded_order():
    features, labels = torch.zeros(50, 2), torch.arange(50.0).reshape(-1, 1)

    def order(seed):
        g = torch.Generator().manual_seed(seed)
        return torch.cat([y for _, y in data_iter(10, features, labels, generator=g)]).reshape(-1).tolist()

    assert order(0) == order(0)
    assert order(0) != order(1)
    assert order(0) != sorted(order(0))  # shuffled


@pytest.mark.parametrize("seed", range(3))
def test_the_chapters_own_loop_converges(seed):
    """The chapter's training code, line for line, on linsgd.scratch."""
    g = torch.Generator().manual_seed(seed)
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000, generator=g)
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True, generator=g)
    b = torch.zeros(1, requires_grad=True)
    lr, num_epochs, batch_size = 0.03, 3, 10
    net, loss = linreg, squared_loss
    losses = []
    for epoch in range(num_epochs):  # noqa: B007 (the chapter's loop, verbatim)
        for X, y in data_iter(batch_size, features, labels, generator=g):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            losses.append(float(train_l.mean()))
    assert 4.5e-5 <= losses[-1] <= 5.6e-5
    assert losses[0] > losses[1] > 0  # the chapter's ~0.03, then ~1e-4
    assert float((true_w - w.detach().reshape(true_w.shape)).abs().max()) < 5e-3
    assert abs(true_b - float(b.detach())) < 5e-3
