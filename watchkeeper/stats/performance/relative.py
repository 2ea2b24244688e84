"""Is a window's performance worse than the model's normal? A drop judged against the
noise the window's label count allows, instead of a fixed threshold.

A window's metric is compared with a baseline (the labelled reference's value, or a
trailing mean of recent labelled windows). The *drop* is the change in the worse
direction (baseline - current for accuracy, F1 and the like; current - baseline for MAE
and RMSE). It is *degraded* when the drop is both

- larger than ``min_drop`` (default: 3 points of a ratio metric, 10 % of an error
  metric's baseline), so a statistically certain but negligible change stays quiet; and
- larger than ``z`` standard errors of the difference, so a small window's noise stays
  quiet: ``sqrt(se_current^2 + se_baseline^2)``.

For a realised accuracy on n labels the standard error is binomial,
``sqrt(p (1 - p) / n)`` at ``p = (correct + 1) / (n + 2)`` (so a perfect window still has
a spread); for an estimate it is the interval's half width over its z. The default
``z = 3.29`` (one-sided 0.05 %) keeps a stationary model quiet over hundreds of windows.

Examples
--------
>>> compare_to_baseline("accuracy", 0.867, 0.999, current_se=binomial_se(0.867, 400)).degraded
True
>>> compare_to_baseline("accuracy", 0.78, 0.80, current_se=binomial_se(0.78, 400)).degraded
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["HIGHER_IS_BETTER", "Comparison", "binomial_se", "compare_to_baseline"]

HIGHER_IS_BETTER = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "mae": False,
    "rmse": False,
}
"""The metrics judged, and which way is better."""


@dataclass(frozen=True)
class Comparison:
    """A window's metric against its baseline.

    Attributes
    ----------
    drop
        Change in the worse direction, in the metric's units (negative: better).
    threshold
        The drop that counts: ``max(min_drop, z x standard error)``.
    """

    metric: str
    current: float
    baseline: float
    drop: float
    threshold: float
    degraded: bool


def binomial_se(p: float, n: int) -> float:
    """Standard error of a proportion ``p`` on ``n`` rows, with the ``(x + 1) / (n + 2)``
    correction so that 0 and 1 keep a spread; NaN for no rows.

    >>> round(binomial_se(1.0, 400), 4)
    0.0025
    """
    if n <= 0:
        return math.nan
    smoothed = (p * n + 1) / (n + 2)
    return math.sqrt(smoothed * (1 - smoothed) / n)


def compare_to_baseline(
    metric: str,
    current: float,
    baseline: float,
    *,
    current_se: float,
    baseline_se: float = 0.0,
    min_drop: float | None = None,
    z: float = 3.29,
) -> Comparison:
    """Judge ``current`` against ``baseline`` (see the module docstring); NaN in, not
    degraded out."""
    higher = HIGHER_IS_BETTER.get(metric, True)
    drop = (baseline - current) if higher else (current - baseline)
    if min_drop is None:
        min_drop = 0.03 if higher else 0.1 * abs(baseline)
    se = math.hypot(current_se, baseline_se)
    threshold = max(min_drop, z * se)
    degraded = bool(math.isfinite(drop) and math.isfinite(threshold) and drop > threshold)
    return Comparison(metric, current, baseline, drop, threshold, degraded)
