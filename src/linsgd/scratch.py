"""The chapter's pieces, with the chapter's names, argument order, shapes and dtypes (float32, torch).

This is "linear regression implementation from scratch" (Dive into Deep Learning), kept faithful so a
learner can read it next to the book, with the chapter's weak points fixed where they bite:

* ``sgd`` divides by the real size of the batch it is given (``batch_size`` may be the nominal size);
* every random draw takes an optional ``torch.Generator`` so runs repeat;
* ``data_iter`` slices one shuffled index tensor instead of building a Python list per batch.

The chapter's training loop runs unchanged on these functions::

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> true_w, true_b = torch.tensor([2, -3.4]), 4.2
    >>> features, labels = synthetic_data(true_w, true_b, 1000, generator=g)
    >>> w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True, generator=g)
    >>> b = torch.zeros(1, requires_grad=True)
    >>> lr, num_epochs, batch_size, net, loss = 0.03, 3, 10, linreg, squared_loss
    >>> for epoch in range(num_epochs):
    ...     for X, y in data_iter(batch_size, features, labels, generator=g):
    ...         l = loss(net(X, w, b), y)  # minibatch loss of X and y
    ...         l.sum().backward()         # sum, because sgd divides by the batch size
    ...         sgd([w, b], lr, batch_size)
    ...     with torch.no_grad():
    ...         train_l = loss(net(features, w, b), labels)
    >>> float(train_l.mean()) < 1e-4
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from linsgd.extras import require

torch = require("torch", "linsgd.scratch (the chapter's code is PyTorch)")


def synthetic_data(w: torch.Tensor, b: float, num_examples: int, *, noise: float = 0.01,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate y = Xw + b + noise.

    Args:
        w: true weights, shape (d,).
        b: true bias.
        num_examples: n, the number of rows.
        noise: standard deviation σ of the Gaussian noise ε (the chapter: 0.01).
        generator: torch random generator, for repeatable data.

    Returns:
        ``features`` of shape (n, d) and ``labels`` of shape (n, 1), float32.
    """
    w = torch.as_tensor(w, dtype=torch.float32)
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator)  # X ~ N(0, 1)
    y = torch.matmul(X, w) + b                                           # y = Xw + b
    y += torch.normal(0, noise, y.shape, generator=generator)            # + ε, ε ~ N(0, σ²)
    return X, y.reshape((-1, 1))                                         # labels as a column


def data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor, *,
              generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield minibatches ``(features[idx], labels[idx])`` of ``batch_size`` examples in random order.

    Every example is visited exactly once; the last batch holds ``n mod batch_size`` examples when the
    batch size does not divide n.
    """
    num_examples = len(features)
    indices = torch.randperm(num_examples, generator=generator)  # the examples are read at random
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]  # a slice, no Python list
        yield features[batch_indices], labels[batch_indices]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear regression model ŷ = Xw + b (b broadcast over the rows); shape (n, 1) for w (d, 1)."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared loss ½(ŷ − y)² per example, with y reshaped to ŷ's shape (labels may be (n,) or (n, 1))."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Sequence[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent: ``param ← param − lr · param.grad / batch_size``.

    ``param.grad`` holds the gradient of the *summed* minibatch loss, so dividing by the number of
    examples gives the mean. Call it with the real number of examples in the batch when the last batch
    is short (the chapter always passes the nominal size; ``linsgd.fit`` passes the real one). Gradients
    are zeroed afterwards because PyTorch accumulates them.
    """
    with torch.no_grad():  # the update itself is not part of the graph
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
