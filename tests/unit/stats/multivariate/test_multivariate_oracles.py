"""Our ROC AUC and permutation importance against scikit-learn's on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from watchkeeper.stats.multivariate import roc_auc
from watchkeeper.stats.multivariate.domain import permutation_importance_auc


@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_equals_sklearn(ties: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    score = rng.normal(y * 0.5, 1.0)
    if ties:
        score = np.round(score, 1)
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_roc_auc_of_one_class_is_nan() -> None:
    assert np.isnan(roc_auc(np.zeros(5, int), np.arange(5.0)))


def test_permutation_importance_matches_sklearn() -> None:
    rng = np.random.default_rng(4)
    n = 1_500
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, n) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x[:1000], y[:1000])
    xt, yt = x[1000:], y[1000:]
    with threadpool_limits(1):  # OpenMP threads on a loaded machine: far slower
        ours = permutation_importance_auc(model, xt, yt, 15, np.random.default_rng(0))
        theirs = permutation_importance(
            model, xt, yt, scoring="roc_auc", n_repeats=15, random_state=0
        ).importances_mean
    assert list(np.argsort(-ours)) == list(np.argsort(-theirs))
    assert ours == pytest.approx(theirs, abs=0.01)
