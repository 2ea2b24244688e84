"""Estimated performance as values with intervals: :class:`Interval` and
:class:`PerformanceEstimate`, the records every estimator returns.

An interval here is a *prediction* interval for the realised value: the range in which
the metric computed from the labels, once they arrive, should fall with probability
``confidence`` when the estimator's assumption holds (for confidence-based estimation:
the calibrated probabilities are right, i.e. P(y | x) is unchanged since the reference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Interval", "PerformanceEstimate"]


@dataclass(frozen=True)
class Interval:
    """One estimated metric: the point estimate and its interval.

    Examples
    --------
    >>> i = Interval(0.9, 0.85, 0.94)
    >>> i.contains(0.86), i.contains(0.95), round(i.width, 2)
    (True, False, 0.09)
    """

    value: float
    lower: float
    upper: float

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    def contains(self, realised: float) -> bool:
        """Whether a realised value falls inside (bounds included); NaN never does."""
        return bool(self.lower <= realised <= self.upper)


@dataclass(frozen=True)
class PerformanceEstimate:
    """Expected performance of one window without labels.

    Attributes
    ----------
    n
        Rows behind the estimate.
    metrics
        ``{metric name: Interval}``; names as the realised points (``accuracy``,
        ``precision``, ``recall``, ``f1``, ``roc_auc``; ``mae``, ``rmse``).
    confidence
        The intervals' nominal coverage.
    confusion
        Classification only: the expected confusion matrix, ``confusion[i][j]`` the
        expected rows of true class ``classes[i]`` predicted ``classes[j]``.
    classes
        Classification only: the class labels of the confusion matrix.
    """

    n: int
    metrics: Mapping[str, Interval]
    confidence: float = 0.95
    confusion: tuple[tuple[float, ...], ...] = ()
    classes: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> Interval:
        return self.metrics[name]

    @classmethod
    def empty(cls, names: tuple[str, ...], confidence: float) -> PerformanceEstimate:
        """No rows: every metric NaN."""
        nan = Interval(math.nan, math.nan, math.nan)
        return cls(0, {name: nan for name in names}, confidence)
