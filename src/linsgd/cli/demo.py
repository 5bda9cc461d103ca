"""``linsgd demo``: the chapter end to end — data, a look at it, minibatches, training, the errors."""

from __future__ import annotations

import argparse
import math

from linsgd.cli.options import add_training_flags, float_list, train_config

DEFAULT_W, DEFAULT_B = [2.0, -3.4], 4.2


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the chapter end to end and draw its pictures",
                              description="Run the d2l chapter 'linear regression from scratch' end to "
                                          "end: synthetic data, a scatter plot, minibatch SGD, the errors.")
    p.add_argument("--num-examples", type=int, default=1000, help="rows of synthetic data (default 1000)")
    p.add_argument("--true-w", type=float_list, default=DEFAULT_W,
                   help="true weights, comma-separated (default 2,-3.4; a leading minus needs --true-w=-1,2)")
    p.add_argument("--true-b", type=float, default=DEFAULT_B, help="true bias (default 4.2)")
    p.add_argument("--noise", type=float, default=0.01, help="noise standard deviation >= 0 (default 0.01)")
    p.add_argument("--out", default="linsgd-demo", help="folder for scatter.png and loss.png "
                                                      "(default ./linsgd-demo)")
    add_training_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Validate every flag before anything is computed or written.
    from linsgd.errors import ConfigError

    config = train_config(args)
    if args.num_examples < 1:
        raise ConfigError("num_examples", args.num_examples, "an integer >= 1")
    if not (math.isfinite(args.noise) and args.noise >= 0):
        raise ConfigError("noise", args.noise, "a finite number >= 0")
    if not math.isfinite(args.true_b):
        raise ConfigError("true_b", args.true_b, "a finite number")
    from linsgd.storage import ensure_writable_dir

    out = ensure_writable_dir(args.out, "out")
    _chapter(args, config, out)
    return 0


def _chapter(args: argparse.Namespace, config, out) -> None:
    import numpy  # noqa: F401 (before the fork: the child inherits it, ~0.05 s less on its critical path)

    from linsgd import plots

    # A child process imports matplotlib (the demo's largest cost) while this one trains; it draws the
    # figures when asked, and nothing when training fails (it is stopped on the way out).
    with plots.Painter() as painter:
        features, labels, result = _train(args, config)
        painter.draw([
            (plots.scatter, (features[:, min(1, features.shape[1] - 1)], labels, out / "scatter.png"),
             dict(size=1, xlabel="features[:, 1]", ylabel="labels", title="synthetic data: y = Xw + b + ε")),
            # The best any estimate can do on fresh data: the noise variance σ²/2.
            (plots.loss_curve, ({"train": result.history}, out / "loss.png"), dict(floor=args.noise**2 / 2)),
        ])
    print(f"wrote {out / 'scatter.png'} and {out / 'loss.png'}")


def _train(args: argparse.Namespace, config):
    """The chapter's data, a look at it and its first minibatch, training and the errors (printed).

    Returns:
        ``(features, labels, result)``: the data and the :class:`~linsgd.sgd.loop.FitResult`.
    """
    import numpy as np

    from linsgd.data.batching import epoch_order
    from linsgd.data.synthetic import make_regression
    from linsgd.sgd.fit import train

    fmt = {"float_kind": lambda v: f"{v: .4f}"}
    print(f"seed {config.seed} (repeat this run with --seed {config.seed})")
    features, labels = make_regression(args.num_examples, args.true_w, args.true_b, noise=args.noise,
                                       seed=config.seed, dtype=config.dtype)
    print("features[0]:", np.array2string(features[0], formatter=fmt))
    print("labels[0]:", np.array2string(labels[:1], formatter=fmt))
    first = epoch_order(config.seed, 0, len(labels))[:config.batch_size]  # training's first minibatch
    print(f"first minibatch (batch_size={config.batch_size}):")
    print("X =", np.array2string(features[first], formatter=fmt, prefix="X = "))
    print("y =", np.array2string(labels[first], formatter=fmt, prefix="y = "))
    result = train(features, labels, config)
    for epoch, loss in enumerate(result.history, start=1):
        print(f"epoch {epoch}, loss {loss:f}")
    print("error in estimating w:", np.array2string(np.asarray(args.true_w) - result.w, formatter=fmt))
    print("error in estimating b:", np.array2string(np.array([args.true_b - result.b]), formatter=fmt))
    return features, labels, result
