"""``linsgd demo``: the chapter end to end — data, a look at it, minibatches, training, the errors.

Its pictures (``--out``): ``scatter.png`` (the data with the true and the fitted line), ``loss.png`` (the
full-data loss after every step) and ``trajectory.png`` (the path of two parameters over the loss);
``--compare PARAM=V1,V2,…`` draws several runs side by side instead (:mod:`linsgd.cli.compare`);
``--animate`` adds ``demo.gif`` (every step) and ``--html`` ``explorer.html`` (sliders, in any browser).
numpy and linsgd's numeric modules are imported inside the functions: ``linsgd --help`` loads none of them.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any

from linsgd.cli.compare import PARAMS as COMPARE_PARAMS
from linsgd.cli.compare import parse as parse_compare
from linsgd.cli.compare import run as run_compare
from linsgd.cli.options import add_training_flags, float_list, train_config

MAX_POINTS = 2000  # the steps a trace records one by one (linsgd.sgd.trace.MAX_POINTS)
EXPLORER_VALUES = 2_000_000  # feature values the explorer page embeds (linsgd.plots.explorer.MAX_VALUES)

DEFAULT_W, DEFAULT_B = [2.0, -3.4], 4.2
_SHOWN_ROWS = 10  # a first minibatch up to this long is printed whole; a longer one by its first 5 rows


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the chapter end to end and draw its pictures",
                              description="Run the d2l chapter 'linear regression from scratch' end to "
                                          "end: synthetic data, a scatter plot, minibatch SGD step by step, "
                                          "the errors, and pictures of what happened.")
    p.add_argument("--num-examples", type=int, default=1000, help="rows of synthetic data (default 1000)")
    p.add_argument("--true-w", type=float_list, default=DEFAULT_W,
                   help="true weights, comma-separated (default 2,-3.4; a leading minus needs --true-w=-1,2)")
    p.add_argument("--true-b", type=float, default=DEFAULT_B, help="true bias (default 4.2)")
    p.add_argument("--noise", type=float, default=0.01, help="noise standard deviation >= 0 (default 0.01)")
    p.add_argument("--init-std", type=float, default=0.01, help="std of the initial weights (default 0.01)")
    p.add_argument("--compare", metavar="PARAM=V1,V2,…", default=None,
                   help=f"run once per value of PARAM ({', '.join(COMPARE_PARAMS)}) on the same data and seed "
                        "and draw the runs side by side into compare-PARAM.png, e.g. lr=0.003,0.03,0.3")
    p.add_argument("--animate", action="store_true",
                   help="also write demo.gif: every step, its minibatch on the data, the line moving, the "
                        "minibatch's and the full gradient's steps on the contours (SGD with a number --lr)")
    p.add_argument("--html", action="store_true",
                   help="also write explorer.html: one file, no server, sliders for lr, batch size, init std "
                        "and seed that redraw the loss curve and the path")
    p.add_argument("--out", default="linsgd-demo", help="folder for the pictures (default ./linsgd-demo)")
    add_training_flags(p)
    for action in p._actions:  # the demo has no --tol: say what auto does here
        if action.dest == "epochs":
            action.help = ("passes over the data >= 0, or auto: until the loss has not improved by a relative "
                           "1e-5 for 3 epochs, at most 100 (default 3)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Validate every flag before anything is computed or written.
    import dataclasses

    from linsgd.errors import ConfigError
    from linsgd.storage import ensure_writable_dir

    config = dataclasses.replace(train_config(args), init_std=args.init_std).validate()
    if args.num_examples < 1:
        raise ConfigError("num_examples", args.num_examples, "an integer >= 1")
    if not (math.isfinite(args.noise) and args.noise >= 0):
        raise ConfigError("noise", args.noise, "a finite number >= 0")
    if not math.isfinite(args.true_b):
        raise ConfigError("true_b", args.true_b, "a finite number")
    plan = parse_compare(args.compare, config) if args.compare is not None else None
    if args.animate and (config.solver != "sgd" or config.lr == "auto" or plan is not None):
        raise ConfigError("animate", True, "SGD with a number --lr, without --compare (it draws the steps)")
    if args.html and (config.solver != "sgd" or config.epochs == "auto" or plan is not None
                      or args.num_examples * len(args.true_w) > EXPLORER_VALUES):
        raise ConfigError("html", True, f"SGD with a number of --epochs, without --compare, and at most "
                                        f"{EXPLORER_VALUES} feature values (--num-examples × features)")
    if args.animate and config.epoch_budget * -(-args.num_examples // config.batch_size) > MAX_POINTS:
        raise ConfigError("animate", True, f"a run of at most {MAX_POINTS} steps (fewer --epochs or --num-examples, "
                                           "or a larger --batch-size)")
    out = ensure_writable_dir(args.out, "out")
    if plan is not None:
        return run_compare(args, config, plan, out)
    _chapter(args, config, out)
    return 0


@dataclass
class Outcome:
    """What the chapter computed, for its pictures and its ending."""

    features: Any
    labels: Any
    trace: Any  # linsgd.sgd.trace.Trace
    best: Any  # linsgd.lesson.Optimum, or None when the optimum is not unique
    settings: str


def _chapter(args: argparse.Namespace, config, out) -> None:
    import numpy  # noqa: F401 (before the fork: the child inherits it, ~0.05 s less on its critical path)

    from linsgd import plots

    # A child process imports matplotlib (the demo's largest cost) while this one trains; it draws the
    # figures when asked, and nothing when this one fails (it is stopped on the way out).
    with plots.Painter() as painter:
        o = _train(args, config)
        names = _draw(painter, o, args, config, out)
    print(f"wrote {', '.join(str(out / n) for n in names)}")
    if o.trace.diverged is not None:
        from linsgd.errors import DivergenceError
        from linsgd.sgd.stability import safe_lr

        epoch, step, reason = o.trace.diverged
        raise DivergenceError(epoch, step, o.trace.lr, safe_lr(o.features, config.batch_size), reason)


def _train(args: argparse.Namespace, config) -> Outcome:
    """The chapter's data, its first minibatch, training epoch by epoch, the errors and an honest ending."""
    import numpy as np

    from linsgd import lesson
    from linsgd.data.synthetic import make_regression
    from linsgd.sgd.trace import trace

    print(f"seed {config.seed} (repeat this run with --seed {config.seed})")
    features, labels = make_regression(args.num_examples, args.true_w, args.true_b, noise=args.noise,
                                       seed=config.seed, dtype=config.dtype)
    _print_data(features, labels, config)
    best = lesson.optimum(features, labels)
    _notes(features, config, best)
    if config.solver == "exact":
        t = _exact(features, labels, config)
    else:
        if config.lr == "auto":
            from linsgd.sgd.auto import standardized

            print(f"lr auto: chose lr={standardized(features, config.batch_size)[2]:.4g} for the "
                  "standardised features")
        t = trace(features, labels, config, on_epoch=_print_epoch)
    lr = f"auto ({t.lr:.3g})" if config.lr == "auto" else config.lr
    epochs = config.epochs if config.epochs != "auto" else f"auto ({len(t.history)})"
    o = Outcome(features, labels, t, best,
                lesson.settings(lr, config.batch_size, epochs, config.seed, config.solver, n=len(labels)))
    if t.diverged is None:
        w, b = t.final
        fmt = dict(formatter={"float_kind": lambda v: f"{v: .4f}"}, threshold=_SHOWN_ROWS * 8, edgeitems=3)
        print("error in estimating w:", np.array2string(np.asarray(args.true_w) - w, **fmt))
        print("error in estimating b:", np.array2string(np.array([args.true_b - b]), **fmt))
        _ending(o, config)
    return o


def _notes(features, config, best) -> None:
    """One ``note:`` line for each setting the run does not take as given."""
    n, d = features.shape
    if config.solver == "sgd" and config.batch_size > n:
        rows = f"{n} example{'s' if n != 1 else ''}"
        print(f"note: --batch-size {config.batch_size} is more than the {rows}: every minibatch is all of them "
              "(full-batch gradient descent, one step per epoch)")
    if best is None:
        why = (f"{n} example{'s' if n != 1 else ''} for {d + 1} parameters" if n <= d
               else "a constant or duplicated feature column")
        print(f"note: {why}: the least-squares optimum is not unique (many (w, b) reach the least training loss); "
              "the path is drawn around the true (w, b)")
    if config.epochs == "auto" and config.solver == "sgd":
        print(f"note: --epochs auto stops when the loss has not improved by a relative {config.tol:g} for "
              f"{config.stop_patience} epochs (at most {config.max_epochs})")


def _print_epoch(epoch: int, loss: float) -> None:
    """The chapter's ``epoch k, loss …`` line, as the epoch finishes (a huge loss in exponent form)."""
    print(f"epoch {epoch}, loss {loss:f}" if loss < 1e6 else f"epoch {epoch}, loss {loss:.6g}", flush=True)


def _print_data(features, labels, config) -> None:
    """``features[0]``, ``labels[0]`` and the first minibatch of training (a long one by its first rows)."""
    import numpy as np

    from linsgd.data.batching import epoch_order

    # many features: the first and last 3 columns of each row (numpy's summary), not a screenful per row
    fmt = dict(formatter={"float_kind": lambda v: f"{v: .4f}"}, threshold=_SHOWN_ROWS * 8, edgeitems=3)
    print("features[0]:", np.array2string(features[0], **fmt))
    print("labels[0]:", np.array2string(labels[:1], **fmt))
    first = epoch_order(config.seed, 0, len(labels))[:config.batch_size]  # training's first minibatch
    shown = first if len(first) <= _SHOWN_ROWS else first[:5]
    more = "" if len(shown) == len(first) else f" its first {len(shown)} of {len(first)} rows"
    print(f"first minibatch (batch_size={config.batch_size}):{more}")
    print("X =", np.array2string(features[shown], prefix="X = ", **fmt))
    print("y =", np.array2string(labels[shown], prefix="y = ", **fmt))


def _exact(features, labels, config):
    """``--solver exact``: the least-squares answer as a trace of one point (no steps)."""
    import numpy as np

    from linsgd.sgd.fit import train
    from linsgd.sgd.trace import Trace

    r = train(features, labels, config)
    print("exact least squares in one pass (no SGD steps, no epochs):")
    print(f"loss of the exact solution {r.history[0]:f}")
    return Trace(steps=np.zeros(1, dtype=int), w=np.asarray(r.w, dtype=np.float64)[None], b=np.array([r.b]),
                 loss=np.array(r.history), examples=np.zeros(1, dtype=int), history=list(r.history),
                 lr=float("nan"))


def _ending(o: Outcome, config) -> None:
    """One ``warning: not converged: …`` line on stderr when the run ended far from the optimum."""
    from linsgd import lesson
    from linsgd.sgd.stability import mean_square_limit

    if config.solver == "exact":
        return
    w, b = o.trace.final
    gap = lesson.gap(float(o.trace.loss[-1]), o.labels, w, b, o.best or lesson.Optimum(
        None, 0.0, lesson.least_loss(o.features, o.labels)))
    if gap is not None:
        limit = mean_square_limit(o.features, config.batch_size)
        advice = lesson.advice(o.trace.lr, limit, config.epochs, min(config.batch_size, len(o.labels)))
        sys.stdout.flush()
        print(f"warning: not converged: {gap}; {advice}", file=sys.stderr)


def _draw(painter, o: Outcome, args: argparse.Namespace, config, out) -> list[str]:
    """Ask the painter for the pictures; returns their file names (a diverged run: no scatter)."""
    import numpy as np

    from linsgd import lesson
    from linsgd.cli.play import explorer_call, film
    from linsgd.plots import demo as plots_demo

    t, d = o.trace, len(args.true_w)
    idx, which = lesson.coordinates(args.true_w)
    theta = np.column_stack([t.w, t.b])
    center = o.best or _truth(o.features, o.labels, args)
    exact = args.solver == "exact"
    run = plots_demo.Run("the exact solution (no steps)" if exact else "", t.steps, t.loss, t.examples,
                         theta[:, idx], t.blowup_step)
    floor = args.noise**2 / 2  # the expected loss of the true (w, b) on fresh data: σ²/2
    star = "least-squares optimum" if o.best else "true (w, b) (the optimum is not unique)"
    calls = [(plots_demo.loss_steps, (run, out / "loss.png"),
              dict(epoch_ends=t.epoch_ends, floor=floor, optimum=o.best.loss if o.best else 0.0,
                   settings=o.settings, title="the exact solution's loss (no steps)" if exact else
                   "loss after every step")),
             (plots_demo.trajectory, (run, out / "trajectory.png"),
              dict(bowl=lesson.bowl(o.features, center, idx, star), which=which, settings=o.settings))]
    if t.diverged is None:
        j = min(1, d - 1)  # the chapter's features[:, 1]; the only column when d = 1
        w, b = t.final
        calls.insert(0, (plots_demo.data_scatter, (o.features[:, j], o.labels, out / "scatter.png"),
                         dict(column=j, true_line=(args.true_w[j], args.true_b), fitted_line=(float(w[j]), b),
                              settings=o.settings, weight=lesson.names(d)[j])))
    if args.animate and t.diverged is not None:
        print("note: --animate draws no demo.gif for a run that diverged (its steps fly out of any frame); "
              "loss.png and trajectory.png show them")
    elif args.animate:
        from linsgd.plots import animation

        calls.append((animation.animate, (film(o, config, idx), out / "demo.gif"),
                      dict(bowl=lesson.bowl(o.features, center, idx, star), settings=o.settings)))
    if args.html:
        calls.append(explorer_call(o, args, config, idx, center, star, out / "explorer.html"))
    painter.draw(calls)
    return [call[1][-1].name for call in calls]


def _truth(features, labels, args: argparse.Namespace):
    """The true parameters as the center of the pictures, when the optimum is not unique."""
    import numpy as np

    from linsgd.lesson import Optimum

    w = np.asarray(args.true_w, dtype=np.float64)
    r = features.astype(np.float64) @ w + args.true_b - labels
    return Optimum(w, float(args.true_b), float(0.5 * np.mean(r * r)))
