"""The relative judgement: a drop counts when over its floor and over the window's noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from watchkeeper.stats.performance.relative import binomial_se, compare_to_baseline


def test_binomial_standard_error_matches_the_binomial_law() -> None:
    p, n = 0.8, 400
    assert binomial_se(p, n) == pytest.approx(math.sqrt(p * (1 - p) / n), rel=0.01)
    assert binomial_se(1.0, 400) > 0  # a perfect window still has a spread
    assert math.isnan(binomial_se(0.5, 0))


def test_a_large_drop_on_enough_labels_is_degraded() -> None:
    c = compare_to_baseline("accuracy", 0.867, 0.999, current_se=binomial_se(0.867, 400))
    assert c.degraded and c.drop == pytest.approx(0.132)


def test_the_same_drop_on_few_labels_is_not() -> None:
    c = compare_to_baseline("accuracy", 0.70, 0.80, current_se=binomial_se(0.70, 20))
    assert not c.degraded and c.threshold > 0.1


def test_a_tiny_but_certain_drop_stays_under_the_floor() -> None:
    c = compare_to_baseline("accuracy", 0.985, 0.999, current_se=binomial_se(0.985, 10**6))
    assert not c.degraded and c.threshold == 0.03


def test_error_metrics_are_worse_upwards_with_a_relative_floor() -> None:
    up = compare_to_baseline("mae", 1.3, 1.0, current_se=0.01)
    down = compare_to_baseline("mae", 0.7, 1.0, current_se=0.01)
    assert up.degraded and up.drop == pytest.approx(0.3) and up.threshold == pytest.approx(0.1)
    assert not down.degraded and down.drop < 0


def test_stationary_binomial_windows_rarely_count_as_degraded() -> None:
    """0.80 on 400 labels per window: the share judged degraded is at most the one-sided
    tail of z = 3.29 (about 0.05 %), checked on 20,000 seeded windows."""
    rng = np.random.default_rng(0)
    acc = rng.binomial(400, 0.8, 20_000) / 400
    hits = sum(
        compare_to_baseline("accuracy", a, 0.8, current_se=binomial_se(a, 400)).degraded
        for a in acc
    )
    assert hits / 20_000 <= 2 * norm.sf(3.29)


def test_nan_is_never_degraded() -> None:
    assert not compare_to_baseline("accuracy", math.nan, 0.9, current_se=0.01).degraded
