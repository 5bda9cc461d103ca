"""The chapter's pieces, with the chapter's names, argument order, shapes and dtypes (float32, torch).

This is "linear regression implementation from scratch" of Dive into Deep Learning (the PyTorch edition of
the 0.17 era), kept faithful so a learner can read it next to the book, with two of the chapter's weak
points fixed where they bite:

* every random draw takes an optional ``torch.Generator`` so runs repeat;
* ``data_iter`` slices one shuffled index tensor instead of building a Python list per batch.

``sgd`` is the chapter's own: it divides by the ``batch_size`` it is *given*. The chapter's loop passes the
nominal size, which is right only when n is a multiple of it (a short last batch then takes a smaller step);
linsgd's reference engine passes the real size of every batch (see :func:`sgd`).

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
    ...         l = loss(net(X, w, b), y)  # (batch_size, 1): one loss per example
    ...         l.sum().backward()         # one scalar; its gradient lands in w.grad, b.grad
    ...         sgd([w, b], lr, batch_size)  # mean gradient step (sgd divides by batch_size), grads zeroed
    ...     with torch.no_grad():          # only measuring: no graph to build
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
    """Generate y = Xw + b + noise: data whose true parameters we know, so we can check what SGD finds.

    Args:
        w: true weights, shape (d,).
        b: true bias.
        num_examples: n, the number of rows.
        noise: standard deviation σ of the Gaussian noise ε (the chapter: 0.01). No estimate can fit the
            noise: the best mean ½-squared loss on fresh data is σ²/2 (5e-5 for the chapter).
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

    Shuffling once per call (once per epoch in the loop) makes each minibatch a random sample, so its
    gradient is an unbiased estimate of the full-data gradient; slicing the shuffled indices in order
    visits every example exactly once per epoch. The last batch is short when ``batch_size`` does not
    divide n: ``min(i + batch_size, n)`` stops at the end, so it holds ``n mod batch_size`` examples
    (e.g. n = 1003, batch 10: 100 batches of 10, then one of 3).

    Args:
        batch_size: examples per minibatch, >= 1.
        features: (n, d) tensor. labels: (n, 1) (or (n,)) tensor.
        generator: torch random generator for the shuffle (None: torch's global one).

    Yields:
        ``(X, y)`` of shapes (m, d) and (m, 1) with m = batch_size, or fewer for the last batch.
    """
    num_examples = len(features)
    indices = torch.randperm(num_examples, generator=generator)  # the examples are read at random
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]  # a slice, no Python list
        yield features[batch_indices], labels[batch_indices]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear regression model ŷ = Xw + b.

    ``torch.matmul(X, w)`` is (n, d) @ (d, 1) = (n, 1), one prediction per row; ``+ b`` adds the bias of
    shape (1,) to every row (broadcasting), so no column of ones is needed.

    Args:
        X: (n, d) features. w: (d, 1) weights. b: (1,) bias.

    Returns:
        ŷ of shape (n, 1).
    """
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared loss ½(ŷ − y)² per example (not yet summed or averaged).

    ``y.reshape(y_hat.shape)`` guards against broadcasting: ŷ (n, 1) minus y (n,) would silently make an
    (n, n) matrix of every difference. The ½ makes the derivative clean: ∂/∂ŷ ½(ŷ − y)² = ŷ − y, so with
    ŷ = x·w + b the gradient of one example's loss is (ŷ − y)·x for w and (ŷ − y) for b.

    Args:
        y_hat: (n, 1) predictions. y: n labels, shape (n, 1) or (n,).

    Returns:
        (n, 1) tensor of per-example losses.
    """
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: Sequence[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent: ``param ← param − lr · param.grad / batch_size``.

    The loop calls ``l.sum().backward()`` first, so ``param.grad`` holds the gradient of the *summed*
    minibatch loss, Σ_i (ŷ_i − y_i)·x_i for w and Σ_i (ŷ_i − y_i) for b; dividing by the batch size turns
    the sum into the mean, so the step size does not grow with the batch. (``backward`` needs a scalar:
    summing is how the (m, 1) losses become one.) The division is by the ``batch_size`` it is *given*:
    pass the real number of examples of a short last batch to get its mean (the chapter passes the nominal
    size, which takes a smaller step on that batch; linsgd's reference engine passes the real one).

    ``torch.no_grad()``: the update is not part of the model, so autograd must not record it (and
    ``param -= …`` on a leaf tensor that requires grad is only allowed outside recording). ``grad.zero_()``:
    PyTorch *adds* each new gradient to ``.grad``, so without it the next step would use the sum of all
    the gradients so far.

    Args:
        params: tensors with ``requires_grad=True`` and a ``.grad`` (e.g. ``[w, b]``), updated in place.
        lr: learning rate > 0. batch_size: the number to divide the summed gradient by.
    """
    with torch.no_grad():  # the update itself is not part of the graph
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
