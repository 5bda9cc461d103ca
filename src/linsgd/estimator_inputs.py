"""What ``LinearRegressor`` takes from its caller besides X and y: the formula's design matrix, the feature
names and the ``random_state`` (:mod:`linsgd.estimator`)."""

from __future__ import annotations

import numbers

import numpy as np

from linsgd.data.formula import frame_design


def formula_rows(est, X, first: bool):
    """X itself without a formula; with one, the design matrix of the DataFrame X (formulaic's spec fitted on
    the first call's rows and kept on ``est``, then applied; :func:`linsgd.data.formula.frame_design`)."""
    if est.formula is None:
        return X
    if first:
        design, est.formula_columns_, est.formula_spec_ = frame_design(est.formula, X)
        return design
    return frame_design(est.formula, X, est.formula_spec_)[0]


def formula_inputs(est, frame) -> None:
    """With a formula, the input columns as scikit-learn's ``n_features_in_`` and ``feature_names_in_``."""
    if est.formula is not None:
        est.n_features_in_ = frame.shape[1]
        est.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)


def feature_names(est) -> list[str] | None:
    """The names of the columns the model's coefficients belong to (the formula's, else the input's), or None."""
    if est.formula is not None:
        return list(est.formula_columns_)
    names = getattr(est, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None


def draw_random_state(rs) -> int | None:
    """None (linsgd draws and records one), an int as is, or an int drawn from a numpy RNG."""
    if rs is None or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool)):
        return None if rs is None else int(rs)
    from sklearn.utils import check_random_state  # a RandomState or Generator: scikit-learn is loaded already
    return int(check_random_state(rs).randint(2**31 - 1))
