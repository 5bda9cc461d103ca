"""The d2l chapter end to end, as a reader types it in: the peer "chapter" and the whole-process baseline.

Run as a script it is the baseline of the whole-process comparison (``python chapter_script.py [--plot]``:
``--plot`` adds the chapter's step 2, its scatter plot, saved headless). Imported, it gives the chapter's
functions to ``peers/chapter.py``. The only change to the book's code: ``data_iter`` takes the random
source (the book's global ``random`` by default), so the benchmark can seed it.
"""

import random
import sys

import torch


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels, rng=random):
    """The chapter's minibatch reader: shuffle a list of indices, yield consecutive slices."""
    num_examples = len(features)
    indices = list(range(num_examples))
    rng.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    """The linear regression model."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Squared loss, one value per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent (divides by the nominal batch size, as the book does)."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def main(plot: bool) -> None:
    """The chapter's steps 1–9 with its numbers."""
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
    print('features:', features[0], '\nlabel:', labels[0])
    if plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.figure(figsize=(3.5, 2.5))
        plt.scatter(features[:, 1].detach().numpy(), labels.detach().numpy(), 1)
        plt.savefig("scatter.png")
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr, num_epochs, batch_size = 0.03, 3, 10
    net, loss = linreg, squared_loss
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
    print(f'error in estimating w: {true_w - w.reshape(true_w.shape)}')
    print(f'error in estimating b: {true_b - b}')


if __name__ == "__main__":
    main("--plot" in sys.argv[1:])
