"""Regression performance from labels: MAE, RMSE, MAPE, R².

As scikit-learn's ``mean_absolute_error``, ``root_mean_squared_error``,
``mean_absolute_percentage_error`` (a fraction, not a percentage; zero truths divided by
machine epsilon, as there) and ``r2_score`` (NaN with fewer than two rows; 1 for a perfect
fit of a constant truth, 0 otherwise). Rows with a missing or non-finite truth or
prediction are left out and not counted in ``n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import InvalidBatchError

__all__ = ["RegressionMetrics", "regression_metrics"]


@dataclass(frozen=True)
class RegressionMetrics:
    """Regression performance of one window; ``n`` labelled rows behind every figure."""

    n: int
    mae: float
    rmse: float
    mape: float
    r2: float


def regression_metrics(y_true: Any, y_pred: Any) -> RegressionMetrics:
    """Compute regression metrics for one window of labelled predictions.

    Examples
    --------
    >>> m = regression_metrics([3.0, 5.0, 2.5, 7.0], [2.5, 5.0, 4.0, 8.0])
    >>> m.n, m.mae, round(m.rmse, 4), round(m.mape, 4), round(m.r2, 4)
    (4, 0.75, 0.9354, 0.2274, 0.7241)
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1:
        raise InvalidBatchError(
            f"y_pred: shape {p.shape} for labels of shape {t.shape}; expected two equal 1-D arrays",
            field="y_pred",
            value=p.shape,
            expected=str(t.shape),
        )
    ok = np.isfinite(t) & np.isfinite(p)
    t, p = t[ok], p[ok]
    n = int(t.size)
    if n == 0:
        return RegressionMetrics(0, math.nan, math.nan, math.nan, math.nan)
    err = p - t
    mae = float(np.mean(np.abs(err)))
    rmse = float(np.sqrt(np.mean(err * err)))
    mape = float(np.mean(np.abs(err) / np.maximum(np.abs(t), np.finfo(np.float64).eps)))
    if n < 2:
        r2 = math.nan
    else:
        ss_tot = float(np.sum((t - t.mean()) ** 2))
        ss_res = float(np.sum(err * err))
        r2 = (1.0 if ss_res == 0 else 0.0) if ss_tot == 0 else 1.0 - ss_res / ss_tot
    return RegressionMetrics(n=n, mae=mae, rmse=rmse, mape=mape, r2=r2)
