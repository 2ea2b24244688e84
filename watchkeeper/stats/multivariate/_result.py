"""The verdict of a multivariate drift test: a frozen value object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MultivariateDrift", "MultivariateMethod"]

MultivariateMethod = Literal["pca", "domain_classifier"]


@dataclass(frozen=True)
class MultivariateDrift:
    """One multivariate test of a window against the reference.

    Attributes
    ----------
    method
        ``"pca"`` (mean reconstruction error) or ``"domain_classifier"`` (cross-validated
        ROC AUC of telling reference rows from current rows).
    statistic, threshold
        The statistic and the value above which it is drift, at the configured
        false-alarm rate.
    drifted
        ``statistic > threshold``.
    p_value
        Chance of a statistic at least as large without drift.
    n_reference, n_current
        Rows the test used on each side.
    why
        One sentence: the statistic, the threshold and where the threshold comes from.
    """

    method: MultivariateMethod
    statistic: float
    threshold: float
    drifted: bool
    p_value: float
    n_reference: int
    n_current: int
    why: str
