"""Verdicts from statistics: the multiple-testing corrections and the analytic mode."""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.stats import DriftConfig, get_method
from watchkeeper.stats.drift import MethodResult
from watchkeeper.stats.verdict import Observation, _adjust, judge


def test_benjamini_hochberg_matches_scipy_and_bonferroni_multiplies() -> None:
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(13).uniform(0, 0.2, 30)
    assert np.allclose(_adjust(p, "benjamini_hochberg"), false_discovery_control(p), rtol=1e-12)
    assert np.allclose(_adjust(p, "bonferroni"), np.minimum(1, p * 30))


def test_p_value_mode_uses_analytic_p_values_and_refuses_methods_without() -> None:
    ks = get_method("ks")
    rng = np.random.default_rng(14)
    result = ks.exact(rng.normal(size=300), rng.normal(0.4, 1, 300))
    cfg = DriftConfig(mode="p_value", correction="none")
    col = judge([Observation("x", "numeric", ks, result, 300, 300, None)], cfg).columns[0]
    assert col.p_value == result.p_value and col.drifted
    w = get_method("wasserstein")
    obs = Observation("x", "numeric", w, MethodResult(0.3, None, 0.3), 300, 300, None)
    with pytest.raises(ValueError, match="has none"):
        judge([obs], cfg)
