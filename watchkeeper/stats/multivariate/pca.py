"""Multivariate drift, always on and cheap: PCA reconstruction error.

The reference's numeric columns are standardised and a PCA keeps the components that
explain ``variance`` of their variance (NannyML's data reconstruction drift). A row's
reconstruction error is the distance between the standardised row and its projection
back from those components; a window's statistic is the mean error of its rows. A
change in how features move together (a correlation that flips, each marginal
unchanged) puts weight on the components the PCA dropped, so the error grows even when
no single column drifted.

Calibration, at a false-alarm rate α: the reference rows are split at random in two;
the PCA is fitted on one half and the errors of the other half give the no-drift mean
``m`` and spread ``s`` of a row's error. The window's mean of ``n`` errors is then
compared with ``m`` as a two-sample mean: the threshold is ``m + z(1 − α) s sqrt(1/n +
1/k)`` with ``k`` the calibration rows, so the uncertainty of ``m`` itself is paid for
(without the ``1/k`` term, a reference whose calibration mean came out low would raise
alarms at many times α). The normal law is the central limit theorem's: errors are
bounded-variance and windows hold at least ``min_rows`` rows.

Missing values are replaced by the reference mean (0 after standardising); constant
columns are left out.

References
----------
NannyML, "Data Reconstruction with PCA", https://nannyml.readthedocs.io (multivariate
drift detection).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import stats as sps

from watchkeeper.stats.multivariate._matrix import Encoding
from watchkeeper.stats.multivariate._result import MultivariateDrift
from watchkeeper.types import FloatArray

__all__ = ["PCAReconstruction"]


class PCAReconstruction:
    """PCA reconstruction error of a window against the reference (module docstring).

    Parameters
    ----------
    variance
        Share of the standardised variance kept, in (0, 1).
    false_alarm_rate
        α of the verdict.
    seed
        Seed of the reference's split.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def rows(rho, n):
    ...     x = rng.normal(size=n)
    ...     y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    ...     return {"x": x, "y": y, "z": rng.normal(size=n)}
    >>> pca = PCAReconstruction().fit(rows(0.9, 4_000))
    >>> pca.test(rows(0.9, 500)).drifted, pca.test(rows(-0.9, 500)).drifted
    (False, True)
    """

    def __init__(
        self, *, variance: float = 0.65, false_alarm_rate: float = 0.01, seed: int = 0
    ) -> None:
        self.variance = variance
        self.false_alarm_rate = false_alarm_rate
        self.seed = seed

    def fit(self, reference: Mapping[str, np.ndarray]) -> PCAReconstruction:
        """Learn the standardisation, the components and the no-drift error on the
        reference's numeric columns (needs two non-constant ones and 20 rows)."""
        enc = Encoding.fit({n: c for n, c in reference.items() if np.asarray(c).dtype.kind == "f"})
        x = enc.transform(reference)
        center = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
        scale = np.nanstd(x, axis=0) if len(x) else np.zeros(x.shape[1])
        keep = np.isfinite(center) & np.isfinite(scale) & (scale > 0)
        self.columns_: tuple[str, ...] = tuple(np.array(enc.names, dtype=object)[keep])
        self.center_: FloatArray = center[keep]
        self.scale_: FloatArray = scale[keep]
        self.components_: FloatArray = np.empty((0, len(self.columns_)))
        self.error_mean_ = math.nan
        self.error_std_ = math.nan
        self.n_calibration_ = 0
        if len(self.columns_) < 2 or len(x) < 20:
            return self
        z = self._standardise(reference)
        order = np.random.default_rng(self.seed).permutation(len(z))
        half = len(z) // 2
        fit_rows, calib_rows = z[order[:half]], z[order[half:]]
        _, sv, vt = np.linalg.svd(fit_rows - fit_rows.mean(axis=0), full_matrices=False)
        explained = np.cumsum(sv**2) / max(float(np.sum(sv**2)), 1e-300)
        k = int(np.searchsorted(explained, self.variance) + 1)
        self.components_ = vt[: min(k, len(self.columns_))]
        errors = self._errors(calib_rows)
        self.error_mean_ = float(errors.mean())
        self.error_std_ = float(errors.std(ddof=1))
        self.n_calibration_ = len(errors)
        return self

    @property
    def applicable(self) -> bool:
        """Whether the reference allowed a PCA (two non-constant numeric columns)."""
        return self.n_calibration_ > 0

    def _standardise(self, columns: Mapping[str, np.ndarray]) -> FloatArray:
        n = len(next(iter(columns.values()))) if columns else 0
        z = np.zeros((n, len(self.columns_)))
        for j, name in enumerate(self.columns_):
            col = columns.get(name)
            if col is not None and np.asarray(col).dtype.kind in "fiub":
                z[:, j] = (np.asarray(col, dtype=np.float64) - self.center_[j]) / self.scale_[j]
        z[~np.isfinite(z)] = 0.0
        return z

    def _errors(self, z: FloatArray) -> FloatArray:
        back = (z @ self.components_.T) @ self.components_
        errors: FloatArray = np.sqrt(np.sum((z - back) ** 2, axis=1))
        return errors

    def statistic(self, current: Mapping[str, np.ndarray]) -> float:
        """Mean reconstruction error of the rows of ``current``."""
        return float(self._errors(self._standardise(current)).mean())

    def threshold(self, n: int) -> float:
        """The statistic's no-drift bound for a window of ``n`` rows."""
        return self.error_mean_ + self._z() * self._spread(n)

    def _z(self) -> float:
        return float(sps.norm.isf(self.false_alarm_rate))

    def _spread(self, n: int) -> float:
        return self.error_std_ * math.sqrt(1.0 / n + 1.0 / self.n_calibration_)

    def test(self, current: Mapping[str, np.ndarray]) -> MultivariateDrift:
        """The verdict on ``current`` (needs :attr:`applicable` and one row)."""
        if not self.applicable:
            raise ValueError("pca: not fitted on two non-constant numeric columns")
        n = len(next(iter(current.values())))
        stat = self.statistic(current)
        threshold = self.threshold(n)
        p = float(sps.norm.sf((stat - self.error_mean_) / self._spread(n)))
        k = len(self.components_)
        why = (
            f"mean PCA reconstruction error {stat:.4g} vs {threshold:.4g}: the reference's "
            f"{self.error_mean_:.4g} + z({1 - self.false_alarm_rate:g}) x spread at {n} rows "
            f"({k} of {len(self.columns_)} components)"
        )
        return MultivariateDrift(
            "pca", stat, threshold, stat > threshold, p, self.n_calibration_, n, why
        )
