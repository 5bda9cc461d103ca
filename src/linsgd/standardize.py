"""Standardisation: streamed float64 column moments, and mapping coefficients back to the raw scale.

Moments are accumulated chunk by chunk with Chan et al.'s pairwise update, so partial results from
chunks, files or ranks merge exactly (``merge``) and the pass is numerically stable in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Moments:
    """Count, mean and sum of squared deviations (M2) of each column, in float64."""

    count: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def empty(cls, d: int) -> Moments:
        return cls(0, np.zeros(d), np.zeros(d))

    @classmethod
    def of(cls, X: np.ndarray) -> Moments:
        """Moments of one chunk X (m, d)."""
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0) if len(X) else np.zeros(X.shape[1])
        return cls(len(X), mean, ((X - mean) ** 2).sum(axis=0))

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of both row sets (Chan, Golub & LeVeque's pairwise formula)."""
        n = self.count + other.count
        if n == 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.count * other.count / n)
        return Moments(n, mean, m2)

    def update(self, X: np.ndarray) -> Moments:
        """Moments after adding the rows of chunk X."""
        return self.merge(Moments.of(X))

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation of each column (ddof = 0)."""
        return np.sqrt(self.m2 / max(self.count, 1))


@dataclass(frozen=True)
class Standardizer:
    """x ↦ (x − mean) / scale per column; a constant column keeps scale 1 (it is only centred)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def from_moments(cls, m: Moments) -> Standardizer:
        std = m.std
        return cls(m.mean.copy(), np.where(std > 0, std, 1.0))

    def transform(self, X: np.ndarray, dtype=None) -> np.ndarray:
        """Standardised copy of X (m, d), in ``dtype`` (default: X's)."""
        out = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        return out.astype(dtype or np.asarray(X).dtype, copy=False)

    def transform_inplace(self, X: np.ndarray, rows: int = 1 << 14) -> np.ndarray:
        """Standardise the float array X (m, d) in place, ``rows`` at a time: the same values as
        :meth:`transform` (each block computed in float64, rounded to X's dtype) without a float64 copy
        of all of X. Returns X.

        >>> import numpy as np
        >>> s = Standardizer(mean=np.array([1.0, 0.0]), scale=np.array([2.0, 4.0]))
        >>> X = np.array([[3.0, 8.0], [1.0, -4.0]], dtype=np.float32)
        >>> bool((s.transform_inplace(X, rows=1) == s.transform(np.array([[3, 8], [1, -4]], np.float32))).all())
        True
        """
        for a in range(0, len(X), rows):
            X[a:a + rows] = (X[a:a + rows].astype(np.float64) - self.mean) / self.scale
        return X

    def to_raw(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        """Coefficients on the raw scale: ŷ = z·w + b with z = (x − μ)/s equals x·(w/s) + (b − Σ wμ/s).

        >>> import numpy as np
        >>> s = Standardizer(mean=np.array([10.0]), scale=np.array([2.0]))
        >>> w, b = s.to_raw(np.array([4.0]), 1.0)  # ŷ = 4·(x − 10)/2 + 1 = 2x − 19
        >>> w.tolist(), b
        ([2.0], -19.0)
        >>> s.to_standardized(w, b)[1]
        1.0
        """
        w_raw = np.asarray(w, dtype=np.float64) / self.scale
        return w_raw, float(b - w_raw @ self.mean)

    def to_standardized(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        """The inverse of :meth:`to_raw`: x·w + b equals z·(w·s) + (b + Σ wμ)."""
        w = np.asarray(w, dtype=np.float64)
        return w * self.scale, float(b + w @ self.mean)
