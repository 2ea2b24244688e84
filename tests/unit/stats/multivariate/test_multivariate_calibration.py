"""Stationary data: the multivariate tests raise false alarms at the configured rate.

Each side of a comparison is drawn afresh from the same distribution (the correlated
pair of :mod:`_flip` and independent features), so every alarm is false. The count of
alarms in ``n`` windows is binomial(``n``, α) when the test is calibrated; the test
asserts it falls in the binomial's central 99.9% interval, so a calibrated test fails
here about once in a thousand runs (the seeds are fixed: it fails never or always).
"""

from __future__ import annotations

import numpy as np
import pytest
from _flip import flip_rows
from scipy import stats

from watchkeeper.stats.multivariate import DomainClassifier, MultivariateConfig, PCAReconstruction

pytestmark = pytest.mark.statistical


def _interval(n: int, alpha: float) -> tuple[float, float]:
    low, high = stats.binom.interval(0.999, n, alpha)
    return float(low), float(high)


def test_pca_false_alarm_rate_over_500_windows() -> None:
    """50 references x 10 windows of 200 rows at α = 0.05: 25 alarms expected; the
    binomial 99.9% interval is about [11, 42]."""
    rng = np.random.default_rng(2026)
    alpha, alarms, windows = 0.05, 0, 0
    for _ in range(50):
        pca = PCAReconstruction(false_alarm_rate=alpha).fit(flip_rows(rng, 2_000, 0.8))
        for _ in range(10):
            alarms += pca.test(flip_rows(rng, 200, 0.8)).drifted
            windows += 1
    low, high = _interval(windows, alpha)
    assert windows == 500
    assert low <= alarms <= high, (alarms, low, high)


def test_domain_classifier_false_alarm_rate_over_100_windows() -> None:
    """10 references x 10 windows of 150 rows a side at α = 0.1 (each verdict is 2 fits;
    each reference's null 19 x 2): 10 alarms expected; the binomial 99.9% interval is
    about [2, 21]."""
    rng = np.random.default_rng(7)
    alpha, alarms, windows = 0.1, 0, 0
    cfg = MultivariateConfig(false_alarm_rate=alpha, max_rows=150, max_iter=10, seed=0)
    for r in range(10):
        clf = DomainClassifier(MultivariateConfig(**{**cfg.__dict__, "seed": r}))
        clf.fit(flip_rows(rng, 300, 0.8, others=4))
        for _ in range(10):
            result = clf.test(flip_rows(rng, 150, 0.8, others=4), importance=False)
            alarms += result.verdict.drifted
            windows += 1
    low, high = _interval(windows, alpha)
    assert low <= alarms <= high, (alarms, low, high)
