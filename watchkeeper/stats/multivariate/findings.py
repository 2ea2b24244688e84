"""Both multivariate tests and the root-cause ranking of one comparison, in one call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from watchkeeper.stats.multivariate._result import MultivariateDrift
from watchkeeper.stats.multivariate.config import MultivariateConfig
from watchkeeper.stats.multivariate.domain import DomainClassifier
from watchkeeper.stats.multivariate.pca import PCAReconstruction
from watchkeeper.stats.multivariate.ranking import FeatureCause, rank_causes

__all__ = ["MultivariateFindings", "assess"]


@dataclass(frozen=True)
class MultivariateFindings:
    """What the multivariate tests found in one comparison.

    Attributes
    ----------
    verdicts
        One per test run (``pca``, ``domain_classifier``).
    causes
        The root-cause ranking, best first; empty when nothing drifted or the
        classifier did not run.
    """

    verdicts: tuple[MultivariateDrift, ...]
    causes: tuple[FeatureCause, ...]

    @property
    def drifted(self) -> bool:
        """Any multivariate test flagged drift."""
        return any(v.drifted for v in self.verdicts)

    def verdict(self, method: str) -> MultivariateDrift | None:
        """The verdict of ``method``, if it ran."""
        return next((v for v in self.verdicts if v.method == method), None)


def assess(
    reference: Mapping[str, np.ndarray],
    current: Mapping[str, np.ndarray],
    config: MultivariateConfig | None = None,
    *,
    univariate: Mapping[str, tuple[float, bool]] | None = None,
) -> MultivariateFindings:
    """Run the PCA statistic (when the data has two numeric columns) and the domain
    classifier on ``current`` against ``reference`` (rows as ``{column: array}``), and
    rank the causes when either flagged drift.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> def rows(rho, n):
    ...     x = rng.normal(size=n)
    ...     return {"x": x, "y": rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n),
    ...             "z": rng.normal(size=n)}
    >>> cfg = MultivariateConfig(n_permutations=9, max_iter=10, max_rows=500)
    >>> found = assess(rows(0.9, 1_000), rows(-0.9, 500), cfg)
    >>> found.drifted, sorted(c.feature for c in found.causes[:2])
    (True, ['x', 'y'])
    """
    cfg = config or MultivariateConfig()
    verdicts = []
    pca = PCAReconstruction(
        variance=cfg.pca_variance, false_alarm_rate=cfg.false_alarm_rate, seed=cfg.seed
    ).fit(reference)
    if pca.applicable:
        verdicts.append(pca.test(current))
    result = DomainClassifier(cfg).fit(reference).test(current)
    verdicts.append(result.verdict)
    causes: tuple[FeatureCause, ...] = ()
    if any(v.drifted for v in verdicts):
        causes = rank_causes(result.importances, univariate, cfg.impact)
    return MultivariateFindings(tuple(verdicts), causes)
