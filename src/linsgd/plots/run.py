"""The practitioner's pictures of a run folder (``linsgd train --out``): fit, residuals, coefficients, and
the cross-validation curve of ``--alpha auto``.

Drawn by :func:`linsgd.runs.folder.write_run` in the calling process, each into its own PNG file, from a sample
of (actual, predicted) pairs of up to 2,000 validation (else training) rows and the model's coefficients.
"""

from __future__ import annotations

import os

import numpy as np

from linsgd import plots


def fit(actual: np.ndarray, predicted: np.ndarray, path: str | os.PathLike, *, target: str) -> None:
    """Predicted against actual with the line y = x of a perfect model, on equal axes.

    Args:
        actual, predicted: (m,) the sample. path: the PNG. target: the target column's name.
    """
    fig, ax = plots.figure((4.5, 4.5))
    ax.scatter(actual, predicted, s=3, alpha=0.6, label="examples")
    lo, hi = _range(actual, predicted)
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="y = x (a perfect fit)")
    ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal", xlabel=f"actual {target}", ylabel=f"predicted {target}")
    _readable(ax)
    ax.set_title(f"predicted vs actual ({len(actual)} rows)", fontsize=10)
    ax.legend(fontsize=8)
    plots.save(fig, path)


def residuals(actual: np.ndarray, predicted: np.ndarray, path: str | os.PathLike, *, target: str) -> None:
    """Residuals actual − predicted against predicted: a band around 0 when the linear model fits.

    Args:
        actual, predicted: (m,) the sample. path: the PNG. target: the target column's name.
    """
    fig, ax = plots.figure()
    r = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    ax.scatter(predicted, r, s=3, alpha=0.6)
    ax.axhline(0.0, color="black", lw=1, ls="--")
    ax.set(xlabel=f"predicted {target}", ylabel="residual: actual − predicted")
    _readable(ax)
    rms = float(np.sqrt(np.mean(r * r))) if len(r) else float("nan")
    ax.set_title(f"residuals ({len(r)} rows, RMS {rms:.3g})", fontsize=10)
    plots.save(fig, path)


def coefficients(w: np.ndarray, names: list[str], path: str | os.PathLike, *, b: float) -> None:
    """The weights as horizontal bars, one per feature name (the first 40 by |w| when there are more).

    Args:
        w: (d,) weights on the raw feature scale. names: the d feature names. path: the PNG. b: the bias.
    """
    w = np.asarray(w, dtype=np.float64)
    keep = np.sort(np.argsort(-np.abs(w), kind="stable")[:40])
    fig, ax = plots.figure((5, 1.2 + 0.25 * len(keep)))
    y = np.arange(len(keep))[::-1]
    ax.barh(y, w[keep], color=np.where(w[keep] >= 0, "tab:blue", "tab:red"))
    ax.set_yticks(y, [names[i] for i in keep], fontsize=8)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set(xlabel="weight (raw feature scale)")
    shown = "" if len(keep) == len(w) else f", the {len(keep)} largest of {len(w)}"
    ax.set_title(f"coefficients (b = {b:.4g}{shown})", fontsize=10)
    _readable(ax, y=False)
    plots.save(fig, path)


def cv_curve(alphas: np.ndarray, mse: np.ndarray, path: str | os.PathLike, *, alpha: float) -> None:
    """Validation MSE against α (log scale, large α on the left as the path runs): each fold thin, their mean
    bold with ± one standard deviation over the folds, the chosen α marked.

    Args:
        alphas: (k,) the grid. mse: (k, K) each α's mean squared error on each fold. path: the PNG.
        alpha: the chosen α.
    """
    alphas, mse = np.asarray(alphas, dtype=np.float64), np.asarray(mse, dtype=np.float64)
    fig, ax = plots.figure()
    ax.plot(alphas, mse, color="tab:gray", lw=0.6, alpha=0.6)
    mean, sd = mse.mean(axis=1), mse.std(axis=1)
    ax.fill_between(alphas, mean - sd, mean + sd, color="tab:blue", alpha=0.15, label="mean ± 1 sd over folds")
    ax.plot(alphas, mean, color="tab:blue", lw=2, label=f"mean of {mse.shape[1]} folds (thin: each fold)")
    ax.axvline(alpha, color="tab:red", ls="--", lw=1, label=f"chosen alpha = {alpha:.4g}")
    ax.set_xscale("log")
    ax.set_xlim(alphas.max() * 1.25, alphas.min() / 1.25)  # a margin: a chosen α at an end stays visible
    ax.set(xlabel="alpha (penalty strength; log scale, decreasing)", ylabel="validation mean squared error")
    ax.set_title(f"{mse.shape[1]}-fold cross-validation of alpha", fontsize=10)
    ax.legend(fontsize=8)
    plots.save(fig, path)


def _range(*arrays: np.ndarray) -> tuple[float, float]:
    """One range for both axes: every value, with a 5 % margin (never empty)."""
    values = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) or 0.5 * max(abs(lo), 1.0)
    return lo - pad, hi + pad


def _readable(ax, *, y: bool = True) -> None:
    """At most 6 ticks per axis, so long numbers never run into each other."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if y:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
