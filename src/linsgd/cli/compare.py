"""``linsgd demo --compare PARAM=V1,V2,…``: the chapter once per value, on the same data and seed, side by side.

Prints one line per value (final loss, errors in w and b, steps, converged or not) and draws
``compare-PARAM.png``: the loss per step and per example seen, and the paths over one contour plot.
A value that diverges is drawn up to its blow-up and marked; it does not stop the others.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

from linsgd.errors import ConfigError

# flag name -> (TrainConfig field, type of its values)
PARAMS = {"lr": ("lr", float), "batch-size": ("batch_size", int), "init-std": ("init_std", float),
          "epochs": ("epochs", int)}
MAX_VALUES = 8
_ALLOWED = (f"PARAM=V1,V2,… with PARAM one of {', '.join(PARAMS)} and 1 to {MAX_VALUES} values allowed for "
            "that flag, e.g. lr=0.003,0.03,0.3 (SGD only: not with --solver exact)")


@dataclass(frozen=True)
class Plan:
    """A parsed ``--compare``: the flag's name, the TrainConfig field it sets and the values."""

    param: str
    field: str
    values: tuple


def parse(text: str, config) -> Plan:
    """Parse ``PARAM=V1,V2,…`` and check every value as its flag would be checked.

    Raises:
        ConfigError: on ``compare`` (the CLI prints ``--compare=…``), naming what is allowed.
    """
    param, _, values = text.partition("=")
    if param not in PARAMS or not values or config.solver != "sgd":
        raise ConfigError("compare", text, _ALLOWED)
    field, kind = PARAMS[param]
    try:
        parsed = tuple(kind(v) for v in values.split(","))
        for v in parsed:
            dataclasses.replace(config, **{field: v}).validate()
    except (ValueError, ConfigError):
        raise ConfigError("compare", text, _ALLOWED) from None
    if len(parsed) > MAX_VALUES:
        raise ConfigError("compare", text, _ALLOWED)
    return Plan(param, field, parsed)


def run(args: argparse.Namespace, config, plan: Plan, out) -> int:
    """Train once per value, print a line for each, draw ``compare-PARAM.png`` into ``out``; returns 0."""
    import numpy as np  # before the fork, as in linsgd.cli.demo

    from linsgd import lesson, plots
    from linsgd.data.synthetic import make_regression
    from linsgd.plots import compare as plots_compare

    with plots.Painter() as painter:
        print(f"seed {config.seed} (repeat this run with --seed {config.seed})")
        X, y = make_regression(args.num_examples, args.true_w, args.true_b, noise=args.noise, seed=config.seed,
                               dtype=config.dtype)
        best = lesson.optimum(X, y)
        idx, _ = lesson.coordinates(args.true_w)
        runs = [_one(X, y, dataclasses.replace(config, **{plan.field: v}), f"{plan.param}={v:g}", args, best, idx)
                for v in plan.values]
        shared = {f: getattr(config, f) for f in ("lr", "batch_size", "epochs")}
        if plan.field in shared:
            shared[plan.field] = "/".join(f"{v:g}" for v in plan.values)
        settings = lesson.settings(shared["lr"], shared["batch_size"], shared["epochs"], config.seed, n=len(y))
        if plan.field == "init_std":
            settings += f" · init-std {'/'.join(f'{v:g}' for v in plan.values)}"
        path = out / f"compare-{plan.param}.png"
        center = best or lesson.Optimum(np.asarray(args.true_w, dtype=float), args.true_b, 0.0)
        star = "least-squares optimum" if best else "true (w, b) (the optimum is not unique)"
        painter.draw([(plots_compare.comparison, (runs, path),
                       dict(param=plan.param, bowl=lesson.bowl(X, center, idx, star), floor=args.noise**2 / 2,
                            settings=settings))])
    print(f"wrote {path}")
    return 0


def _one(X, y, config, label: str, args: argparse.Namespace, best, idx: list[int]):
    """Trace one run, print its summary line, and return it as drawn (:class:`linsgd.plots.demo.Run`)."""
    import numpy as np

    from linsgd import lesson
    from linsgd.plots import demo as plots_demo
    from linsgd.sgd.trace import trace

    t = trace(X, y, config)
    w, b = t.final
    if t.diverged is not None:
        status = f"diverged at step {t.blowup_step}"
    elif best is None:
        status = "converged: unknown (no unique optimum)"
    else:
        gap = lesson.gap(float(t.loss[-1]), y, w, b, best)
        ratio = f" ({t.loss[-1] / best.loss:.3g}× the optimum)" if best.loss > 0 else ""
        status = "converged" if gap is None else f"not converged{ratio}"
    err_w = float(np.max(np.abs(np.asarray(args.true_w) - w)))
    print(f"{label}: final loss {t.loss[-1]:.4g}, error in w {err_w:.2g}, error in b {abs(args.true_b - b):.2g}, "
          f"{int(t.steps[-1])} steps, {status}", flush=True)
    theta = np.column_stack([t.w, t.b])
    return plots_demo.Run(label, t.steps, t.loss, t.examples, theta[:, idx], t.blowup_step)
