"""Multivariate drift: changes no single column shows, and which features explain them.

:class:`PCAReconstruction` is the cheap statistic run on every window (mean PCA
reconstruction error, with a threshold at the configured false-alarm rate);
:class:`DomainClassifier` tells reference rows from current rows with a cross-validated
gradient-boosted classifier, judged against its own permutation null, and gives each
feature's permutation importance; :func:`rank_causes` turns those into a root-cause
ranking with each feature's univariate verdict and, when given, the model's feature
importances (drift x impact); :func:`assess` runs them all on one comparison. All of
them work on raw rows (``{column: array}``), e.g. the rows of a
:class:`~watchkeeper.profile.reservoir.Reservoir`.
"""

from __future__ import annotations

from watchkeeper.stats.multivariate._matrix import multivariate_columns
from watchkeeper.stats.multivariate._result import MultivariateDrift, MultivariateMethod
from watchkeeper.stats.multivariate.config import MultivariateConfig, multivariate_config
from watchkeeper.stats.multivariate.domain import DomainClassifier, DomainResult, roc_auc
from watchkeeper.stats.multivariate.findings import MultivariateFindings, assess
from watchkeeper.stats.multivariate.pca import PCAReconstruction
from watchkeeper.stats.multivariate.ranking import FeatureCause, model_impact, rank_causes

__all__ = [
    "DomainClassifier",
    "DomainResult",
    "FeatureCause",
    "MultivariateConfig",
    "MultivariateDrift",
    "MultivariateFindings",
    "MultivariateMethod",
    "PCAReconstruction",
    "assess",
    "model_impact",
    "multivariate_columns",
    "multivariate_config",
    "rank_causes",
    "roc_auc",
]
