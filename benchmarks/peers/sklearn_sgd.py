"""Peer "sklearn": scikit-learn's Cython ``SGDRegressor``, constant learning rate, no penalty.

It updates one example at a time (batch size 1 by construction). For the squared loss its step uses the
gradient (ŷ − y)·x, the gradient of ½(ŷ − y)², so ``eta0 = lr`` is the same step scale as ours.
To see the parameters after every epoch it is fitted one epoch per call (``max_iter=1``,
``warm_start=True``) with one ``RandomState`` object, so every epoch gets a fresh shuffle — the same
algorithm as one ``fit`` with ``max_iter=epochs``, plus sklearn's input checks once per epoch.
"""

from __future__ import annotations

import numpy as np

from peers import PeerRun, timed_epochs


def run(X, y, wl, rows: int, w0: np.ndarray, seed: int) -> PeerRun:
    """Fit SGDRegressor epoch by epoch on ``X[:rows]``, starting from the shared ``w0`` and b = 0."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDRegressor

    model = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant", eta0=wl.lr,
                         max_iter=1, tol=None, shuffle=True, warm_start=True,
                         random_state=np.random.RandomState(seed))
    Xp, yp = X[:rows], y[:rows]

    def train_epoch(epoch: int) -> None:
        init = {"coef_init": w0, "intercept_init": np.zeros(1, np.float32)} if epoch == 0 else {}
        with warnings.catch_warnings():
            # max_iter=1 with tol=None always "did not converge": expected, not news
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(Xp, yp, **init)

    def snapshot():
        return model.coef_.astype(np.float64).copy(), float(model.intercept_[0])

    seconds, params = timed_epochs(wl.epochs, train_epoch, snapshot)
    return PeerRun(rows, wl.epochs, seconds, *params[-1], epoch_params=params,
                   notes=[f"batch size 1 (not {wl.batch}): SGDRegressor has no minibatches",
                          f"{model.coef_.dtype} kernel"])
