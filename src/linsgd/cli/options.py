"""Flags shared by several subcommands, parsed the same way everywhere."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from linsgd.config import CHAPTER, ENGINES, MAX_CHUNK_BYTES, SOLVERS, TrainConfig


def float_list(text: str) -> list[float]:
    """Parse ``2,-3.4`` into ``[2.0, -3.4]`` (argparse names the flag when this raises)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. 2,-3.4") from None
    if not values or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} must hold finite numbers, e.g. 2,-3.4")
    return values


def size_value(limit: int, shown: str):
    """An argparse type: a size such as ``4M``, ``64M``, ``2G`` or a number of bytes, in [1, ``limit``]
    (``shown``: the limit as the user reads it)."""
    def parse(text: str) -> int:
        from linsgd.errors import ConfigError

        try:
            return size_flag(text, "size", limit)
        except ConfigError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a size from 1 byte to {shown} "
                                             f"(e.g. 64M, or a number of bytes)") from None
    parse.__name__ = "size"
    return parse


def size_flag(text: str, param: str, limit: int) -> int:
    """A size flag parsed after argparse (so the error is a ConfigError naming ``param``, exit 2)."""
    from linsgd.errors import ConfigError

    try:
        size = parse_size(text)
    except ValueError:
        size = None
    if size is None or size > limit:
        raise ConfigError(param, text, f"a size such as 512M or 2G (at most {limit} bytes)")
    return size


def parse_size(text: str) -> int:
    """``512M``, ``2G``, ``1.5GB`` or a plain number of bytes → bytes.

    Raises:
        ValueError: not a size, or not a finite number of bytes >= 1.
    """
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in units else ""
    number = float(t[:len(t) - len(unit)])
    if not (math.isfinite(number) and number * units[unit] >= 1):
        raise ValueError(f"{text!r} is not a number of bytes >= 1")
    return int(number * units[unit])


def parse_features(text: str | None, flag: str = "features") -> list[str] | None:
    """``a,b,c`` → ``["a", "b", "c"]`` (None stays None: every other column); ``flag`` names it in errors."""
    from linsgd.errors import ConfigError

    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError(flag, text, "a comma-separated list of column names")
    return names


def number_or_auto(kind: type, example: str):
    """An argparse type: ``auto``, or a number of ``kind`` (int or float); ranges are checked by the config."""
    what = "an integer" if kind is int else "a number"

    def parse(text: str) -> int | float | str:
        if text == "auto":
            return text
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} or 'auto', e.g. {example}") from None

    return parse


lr_value = number_or_auto(float, "0.03")  # --lr: auto = standardised features, lr from their curvature
epochs_value = number_or_auto(int, "3")  # --epochs: auto = until converged, at most --max-epochs


def average_value(text: str) -> bool | int | str:
    """Parse ``--average [K]``: ``auto``, ``true``/``false``, or the step K to average from (checked by
    TrainConfig.validate)."""
    low = text.lower()
    if low in ("auto", "true", "false"):
        return {"auto": "auto", "true": True, "false": False}[low]
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not auto, true, false or a step K >= 1") from None


def alpha_value(text: str) -> float | str:
    """Parse ``--alpha``: a number (checked by TrainConfig.validate) or ``auto``."""
    if text.lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 0 or auto") from None


def add_training_flags(p: argparse.ArgumentParser, *, practitioner: bool = False) -> None:
    """--lr, --epochs, --batch-size, --seed, --engine, --dtype, --solver: with the chapter's defaults, or
    (``practitioner``, ``linsgd train``) lr and epochs "auto" plus the flags of :func:`add_sgd_flags`."""
    d = TrainConfig()
    lr, epochs = ("auto", "auto") if practitioner else (CHAPTER["lr"], CHAPTER["epochs"])
    solver, solvers = ("auto", SOLVERS) if practitioner else (CHAPTER["solver"], ("sgd", "exact"))
    g = p.add_argument_group("training")
    g.add_argument("--lr", type=lr_value, default=lr,
                   help=f"learning rate > 0, or auto: standardise and pick it from the data (default {lr})")
    g.add_argument("--epochs", type=epochs_value, default=epochs,
                   help=f"passes over the data >= 0, or auto: until the loss stops improving by --tol "
                        f"(default {epochs})")
    g.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"minibatch size >= 1 (default {d.batch_size})")
    g.add_argument("--seed", type=int, default=None, help="seed of data, init and order (default: drawn, printed)")
    g.add_argument("--engine", choices=ENGINES, default=d.engine, help=f"default {d.engine}")
    g.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype, help=f"default {d.dtype}")
    g.add_argument("--solver", choices=solvers, default=solver,
                   help=("auto (default): exact least squares in one pass where its statistics fit --max-memory "
                         "and the run is not resumable and --lr is auto, else SGD; sgd; exact") if practitioner
                   else f"sgd, or exact: least squares in one pass (default {solver})")
    if practitioner:
        add_sgd_flags(g)
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def add_sgd_flags(g) -> None:
    """--average, --penalty, --alpha, --l1-ratio, --schedule, --power-t, --max-epochs (TrainConfig's names)."""
    d = TrainConfig()
    g.add_argument("--average", type=average_value, nargs="?", const=True, default=d.average, metavar="K",
                   help="Polyak-Ruppert averaging of the iterates: auto (default: from the second epoch), "
                        "true or no value (from the first step), K (from step K), false")
    g.add_argument("--penalty", default=None, help="none (default), l2, l1 or elasticnet: "
                   "(1/2n)Σr² + alpha(l1_ratio‖w‖₁ + (1−l1_ratio)/2 ‖w‖²), intercept not penalised")
    g.add_argument("--alpha", type=alpha_value, default=d.alpha,
                   help=f"penalty strength >= 0 (default {d.alpha}), or auto: chosen by K-fold cross-validation "
                        "on the training rows (see --cv-folds)")
    g.add_argument("--l1-ratio", type=float, default=d.l1_ratio,
                   help=f"elasticnet's L1 share in [0, 1] (default {d.l1_ratio})")
    g.add_argument("--loss", default=d.loss,
                   help="squared (default), huber, epsilon_insensitive or quantile (scikit-learn's definitions); "
                        "other than squared: its trusted optimum (IRLS or a linear program), not SGD")
    g.add_argument("--epsilon", type=float, default=d.epsilon,
                   help=f"huber's threshold and epsilon_insensitive's band, in the target's units "
                        f"(default {d.epsilon})")
    g.add_argument("--quantile", type=float, default=d.quantile,
                   help=f"the quantile of --loss quantile, in (0, 1) (default {d.quantile}: the median)")
    g.add_argument("--schedule", default=d.schedule,
                   help="step size: constant (default), invscaling lr/(1+t)^power_t, cosine over the run, adagrad "
                        "(svmlight files: lr/sqrt(sum of squared gradients) per column)")
    g.add_argument("--power-t", type=float, default=d.power_t, help=f"invscaling's exponent > 0 (default {d.power_t})")
    g.add_argument("--max-epochs", type=int, default=d.max_epochs,
                   help=f"the most epochs --epochs auto runs (default {d.max_epochs})")


def _threads(value: int | None) -> int:
    """--threads: as given (TrainConfig names a bad value), or None: the cores this process may run on, shared
    with the other processes torchrun starts on this machine (LOCAL_WORLD_SIZE), at least 1."""
    if value is not None:
        return value
    import os

    from linsgd._parallel import available_cores

    return max(1, available_cores() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)))


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The resolved TrainConfig of the parsed training flags (ConfigError names the flag)."""
    d = TrainConfig()
    penalty = getattr(args, "penalty", d.penalty)
    alpha = getattr(args, "alpha", d.alpha)  # "auto" (linsgd train): chosen later, by cross-validation
    extra = dict(average=getattr(args, "average", CHAPTER["average"]),
                 penalty=None if isinstance(penalty, str) and penalty.lower() == "none" else penalty,
                 alpha=d.alpha if alpha == "auto" else alpha, l1_ratio=getattr(args, "l1_ratio", d.l1_ratio),
                 loss=getattr(args, "loss", d.loss), epsilon=getattr(args, "epsilon", d.epsilon),
                 quantile=getattr(args, "quantile", d.quantile),
                 schedule=getattr(args, "schedule", d.schedule), power_t=getattr(args, "power_t", d.power_t),
                 max_epochs=getattr(args, "max_epochs", d.max_epochs), sync_every=getattr(args, "sync_every", "auto"),
                 threads=_threads(getattr(args, "threads", d.threads)))
    return TrainConfig(lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, engine=args.engine,
                       seed=args.seed, dtype=args.dtype, solver=args.solver, **extra).resolved()


def add_data_flags(p: argparse.ArgumentParser, *, target_required: bool) -> None:
    """DATA, --target, --features, --exclude, --formula, --missing, --max-levels, --on-bad-rows, --chunk-bytes,
    --format."""
    p.add_argument("data", metavar="DATA", help="a .csv, .parquet, .npy, .feather/.arrow or .jsonl file, a folder "
                                                "or glob of Parquet")
    if target_required:
        p.add_argument("--target", default=None,
                       help="the target column (required, but for svmlight files: their first field); several, "
                            "a,b: one run folder each under --out, the other targets left out of the features")
        p.add_argument("--features", default=None,
                       help="feature columns a,b,c (default: every other column but --exclude'd ones and a "
                            "pandas index; text, bool and dictionary columns are one-hot encoded, dates become "
                            "days since 1970-01-01)")
        p.add_argument("--exclude", default=None, metavar="COL[,COL…]", help="columns never used")
        p.add_argument("--formula", default=None, metavar="'Y ~ TERMS'",
                       help="a model formula (formulaic's grammar), e.g. 'price ~ area * rooms + C(city) + "
                            "np.log(lot)': its left side is the target, its right side the features (instead of "
                            "--target and --features)")
        p.add_argument("--missing", choices=("error", "impute", "drop"), default="error",
                       help="empty cells: stop at the first (default), impute (training mean + a COL_missing "
                            "indicator; categories: a level of their own), or drop the row")
        p.add_argument("--max-levels", type=int, default=100,
                       help="most distinct values of a categorical column (default 100)")
        p.add_argument("--hash-bits", type=int, default=None, metavar="N",
                       help="hash a categorical column with more than --max-levels values into 2^N signed "
                            "columns (N in 1..20) instead of refusing it")
    p.add_argument("--on-bad-rows", choices=("error", "skip"), default="error",
                   help="stop at the first bad row (default) or skip bad rows and count them")
    p.add_argument("--chunk-bytes", type=size_value(MAX_CHUNK_BYTES, "1G"), default=4 << 20,
                   help="bytes read per chunk, e.g. 64M (default 4M); raise it for rows longer than that")
    p.add_argument("--format", default=None, metavar="NAME",
                   help="read DATA as this format whatever its name, e.g. csv, parquet or svmlight (default: "
                        "from its suffix, else its first bytes; .svm, .libsvm and .svmlight are svmlight rows "
                        "'y idx:value …'); an unknown name lists the formats")


def check_out_dir(path: str, flag: str) -> Path:
    """The output folder, if it exists and is writable or can be created; nothing is created yet."""
    from linsgd.errors import ConfigError

    p = Path(path)
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise ConfigError(flag, path, "a writable folder")
    return p
