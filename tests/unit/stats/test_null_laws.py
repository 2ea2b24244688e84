"""Null laws known at fit time: the bridge law of the binned KS, the chi-square law."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.errors import ConfigError
from watchkeeper.profile import profile_table
from watchkeeper.stats import DriftConfig, DriftDetector, get_method, null_laws
from watchkeeper.stats.null_laws import (
    BridgeNull,
    ChiSquareLaw,
    bridge_maxima,
    chi_square_law_applies,
)

KS_BINNED = get_method("ks_binned")


def test_bridge_maxima_on_a_dense_grid_approach_kolmogorov() -> None:
    # the sup of a Brownian bridge is Kolmogorov's law; 999 points come close to it
    maxima = bridge_maxima(tuple(range(1, 1_000)), 20_000, 5)
    for level in (0.05, 0.01):
        assert np.quantile(maxima, 1 - level) == pytest.approx(stats.kstwobign.isf(level), rel=0.03)


def test_bridge_maxima_at_one_point_are_a_folded_normal() -> None:
    # B(1/2) ~ N(0, 1/4): P(|B| > x) = 2 Φ(-2x)
    maxima = bridge_maxima((500,), 40_000, 1)
    x = np.quantile(maxima, 0.99)
    assert 2 * stats.norm.sf(2 * x) == pytest.approx(0.01, rel=0.1)


def test_bridge_null_threshold_matches_its_p_value_and_scales_as_root_n() -> None:
    null = BridgeNull(KS_BINNED, seed=2).fit_counts([100] * 20)
    t_1k, t_100k = null.threshold(1_000, 0.01, 10_000), null.threshold(100_000, 0.01, 10_000)
    assert null.p_value(1_000, t_1k * 1.001, 10_000) < 0.01 <= null.p_value(1_000, t_1k, 10_000)
    # sqrt(nm/(n+m)) with n = 2,000: the reference's noise dominates as m grows
    ratio = np.sqrt(2_000 * 1_000 / 3_000) / np.sqrt(2_000 * 100_000 / 102_000)
    assert t_100k / t_1k == pytest.approx(ratio, rel=1e-12)


def test_bridge_null_costs_no_simulation_at_a_new_size() -> None:
    null = BridgeNull(KS_BINNED, seed=3).fit_counts([50] * 20)
    null.p_value(500, 0.05, 4_000)
    before = len(null_laws._cache)
    for n in (501, 777, 12_345, 1_000_003):
        null.p_value(n, 0.05, 4_000)
        null.threshold(n, 0.01, 4_000)
    assert len(null_laws._cache) == before


def test_bridge_null_is_the_same_in_every_detector_and_seeded() -> None:
    a = BridgeNull(KS_BINNED, seed=4).fit_counts([30] * 20).null_statistics(900, 3_000)
    b = BridgeNull(KS_BINNED, seed=4).fit_counts([30] * 20).null_statistics(900, 3_000)
    c = BridgeNull(KS_BINNED, seed=5).fit_counts([30] * 20).null_statistics(900, 3_000)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_chi_square_law_is_scipys() -> None:
    law = ChiSquareLaw(get_method("chi2"), dof=4)
    assert law.p_value(1_000, 9.0) == pytest.approx(stats.chi2.sf(9.0, 4), rel=1e-12)
    assert law.threshold(1_000, 0.01) == pytest.approx(stats.chi2.isf(0.01, 4), rel=1e-12)
    none = ChiSquareLaw(get_method("chi2"), dof=0)
    assert none.p_value(10, 0.0) == 1.0 and none.threshold(10, 0.01) == 0.0


@pytest.mark.parametrize(
    ("ref", "cur", "applies"),
    [
        ([500, 300, 200], [50, 30, 20], True),
        ([500, 300, 200, 0], [50, 30, 19, 1], False),  # a value the reference never had
        ([990, 10], [90, 10], False),  # 0.9 expected in the rare slot
        ([4, 100], [400, 10_000], False),  # the reference's own count is below 5
    ],
)
def test_chi_square_law_applies_by_cochrans_rule(ref: list, cur: list, applies: bool) -> None:
    assert chi_square_law_applies(ref, cur) is applies


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: BridgeNull("ks"), "method"),  # type: ignore[arg-type]
        (lambda: BridgeNull(KS_BINNED, seed=-1), "seed"),
        (lambda: BridgeNull(KS_BINNED).fit_counts([0, 0]), "ref_counts"),
        (lambda: BridgeNull(KS_BINNED).fit_counts([1, 1], unseen={7: 0.1}), "unseen"),
        (lambda: BridgeNull(KS_BINNED).p_value(10, 0.1), "null"),
        (lambda: BridgeNull(KS_BINNED).fit_counts([1, 1]).p_value(10, np.nan), "statistic"),
        (lambda: BridgeNull(KS_BINNED).fit_counts([1, 1]).threshold(10, 1.5), "level"),
        (lambda: ChiSquareLaw(get_method("chi2"), dof=-1), "dof"),
    ],
)
def test_bad_arguments_raise_config_error_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field


def test_p_value_mode_works_with_every_default_method_on_large_windows() -> None:
    rng = np.random.default_rng(6)
    ref = profile_table({"x": rng.normal(size=20_000), "c": rng.choice(["a", "b", "c"], 20_000)})
    cur = profile_table(
        {"x": rng.normal(0.2, 1, 5_000), "c": rng.choice(["a", "b", "c"], 5_000)},
        reference=ref,
    )
    result = DriftDetector(DriftConfig(mode="p_value")).fit(ref).compare(cur)
    assert [(c.method, c.drifted) for c in result.columns] == [
        ("ks_binned", True),
        ("chi2", False),
    ]
    x = result["x"]
    expected = stats.kstwobign.sf(x.statistic * np.sqrt(20_000 * 5_000 / 25_000))
    assert x.p_value == pytest.approx(expected, rel=1e-9)


def test_binned_ks_from_profiles_equals_the_exact_path() -> None:
    rng = np.random.default_rng(7)
    ref_x, cur_x = rng.standard_t(3, 30_000), rng.standard_t(3, 7_000) + 0.05
    ref = profile_table({"x": ref_x})
    got = DriftDetector().fit(ref).compare(profile_table({"x": cur_x}, reference=ref))
    assert got["x"].statistic == KS_BINNED.exact(ref_x, cur_x).statistic
