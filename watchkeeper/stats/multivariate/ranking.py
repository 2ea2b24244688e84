"""Root-cause ranking: which features explain a multivariate drift, and which matter.

Each feature's *contribution* is its share of the domain classifier's permutation
importance (negative importances count as 0): the part of "the classifier can tell the
window from the reference" that goes away when the feature is shuffled. Beside it sit
the feature's own univariate verdict (a feature can matter jointly without drifting
alone, as in a correlation flip) and, when the user gave them, the model's feature
importances (*impact*, scaled so the largest is 1). The *score* is contribution x
impact (Fiddler's drift x impact), or the contribution alone without impacts; features
are ranked by score, then by univariate statistic, then by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FeatureCause", "model_impact", "rank_causes"]


@dataclass(frozen=True)
class FeatureCause:
    """One feature's part in a drift.

    Attributes
    ----------
    feature
        The column.
    importance
        Mean drop of the domain classifier's AUC when the feature is shuffled.
    contribution
        Its share of the positive importances, in [0, 1].
    drifted, statistic
        The feature's univariate verdict and statistic (``None``: not tested).
    impact
        The model's importance of the feature, the largest scaled to 1 (``None``: not
        given).
    score
        ``contribution * impact`` (``contribution`` without impacts).
    """

    feature: str
    importance: float
    contribution: float
    drifted: bool | None
    statistic: float | None
    impact: float | None
    score: float


def rank_causes(
    importances: Mapping[str, float],
    univariate: Mapping[str, tuple[float, bool]] | None = None,
    impact: Mapping[str, float] | None = None,
) -> tuple[FeatureCause, ...]:
    """Features ranked by their part in the drift (module docstring).

    Parameters
    ----------
    importances
        ``{feature: permutation importance}`` of the domain classifier.
    univariate
        ``{feature: (statistic, drifted)}`` of the univariate tests, if known.
    impact
        ``{feature: model importance}`` (any non-negative scale), if known; a feature
        missing from it has impact 0.

    Examples
    --------
    >>> ranked = rank_causes({"a": 0.30, "b": 0.10, "c": -0.01}, impact={"a": 1, "b": 4})
    >>> [(c.feature, round(c.contribution, 2), c.impact, round(c.score, 2)) for c in ranked]
    [('b', 0.25, 1.0, 0.25), ('a', 0.75, 0.25, 0.19), ('c', 0.0, 0.0, 0.0)]
    """
    positive = {f: max(float(v), 0.0) for f, v in importances.items()}
    total = sum(positive.values())
    scale = max((abs(float(v)) for v in (impact or {}).values()), default=0.0)
    out = []
    for feature, imp in importances.items():
        contribution = positive[feature] / total if total > 0 else 0.0
        weight = None
        if impact is not None:
            weight = abs(float(impact.get(feature, 0.0))) / scale if scale > 0 else 0.0
        stat, drifted = (univariate or {}).get(feature, (None, None))
        score = contribution * (1.0 if weight is None else weight)
        out.append(FeatureCause(feature, float(imp), contribution, drifted, stat, weight, score))

    def order(c: FeatureCause) -> tuple[float, float, str]:
        stat = c.statistic if c.statistic is not None and math.isfinite(c.statistic) else 0.0
        return (-c.score, -stat, c.feature)

    return tuple(sorted(out, key=order))


def model_impact(model: Any, features: list[str]) -> dict[str, float]:
    """``{feature: importance}`` read off a fitted model: ``feature_importances_`` (trees)
    or the absolute ``coef_`` (linear models, averaged over classes), in the order of
    ``features`` (the columns the model was trained on).

    Raises
    ------
    ValueError
        The model has neither attribute, or their length is not ``len(features)``.

    Examples
    --------
    >>> class Linear:
    ...     coef_ = np.array([[0.5, -2.0]])
    >>> model_impact(Linear(), ["a", "b"])
    {'a': 0.5, 'b': 2.0}
    """
    values = getattr(model, "feature_importances_", None)
    if values is None and getattr(model, "coef_", None) is not None:
        coef = np.abs(np.atleast_2d(np.asarray(model.coef_, dtype=np.float64)))
        values = coef.mean(axis=0)
    if values is None or len(values) != len(features):
        raise ValueError(
            f"model: expected feature_importances_ or coef_ for {len(features)} features, "
            f"got {type(model).__name__}"
        )
    return {f: float(v) for f, v in zip(features, values, strict=True)}
