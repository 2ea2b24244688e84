"""The default methods: false alarms at the configured rate with the floor off, and the
power of SciPy's exact tests.

Real rows, real profiles, the real detector; fixed seeds, so each test is deterministic.
A null law that ignored the reference's own sampling error fails the large-current case
(its alarms double); a weaker statistic (Jensen–Shannon on the same bins had about half
the power of ``ks_2samp``) fails the power test. CPU-tens-of-seconds: ``statistical``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from watchkeeper.profile import profile_table
from watchkeeper.stats import DriftConfig, DriftDetector

pytestmark = pytest.mark.statistical


def _columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Eight columns of varied shapes, none drifting."""
    rare = np.array(["a", "b", "c", *(f"r{i}" for i in range(20))], dtype=object)
    p_rare = np.array([0.5, 0.3, 0.15, *([0.05 / 20] * 20)])
    return {
        "normal": rng.normal(size=n),
        "lognormal": rng.lognormal(0, 1, n),
        "t2": rng.standard_t(2, n),
        "bimodal": np.where(rng.random(n) < 0.3, rng.normal(-3, 0.5, n), rng.normal(2, 1, n)),
        "ties": rng.integers(0, 6, n).astype(np.float64),
        "zero_inflated": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n)),
        "categories": rng.choice(np.array(list("abcde"), dtype=object), n),
        "rare": rare[rng.choice(rare.size, n, p=p_rare)],
    }


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "trials"),
    [
        (5_000, 30, 200),  # small windows: discrete statistics, simulated rare categories
        (5_000, 2_000, 150),
        (2_000, 30_000, 100),  # current >> reference: the reference's noise dominates
    ],
)
def test_any_column_false_alarm_rate_holds_with_the_floor_off(
    n_ref: int, n_cur: int, trials: int
) -> None:
    alpha = 0.05
    config = DriftConfig(false_alarm_rate=alpha, effect_floor=0.0)
    rng = np.random.default_rng(n_ref + n_cur)
    alarms = 0
    for _ in range(trials):
        ref = profile_table(_columns(rng, n_ref))
        cur = profile_table(_columns(rng, n_cur), reference=ref)
        alarms += DriftDetector(config).fit(ref).compare(cur).n_drifted > 0
    rate = alarms / trials
    print(f"n_ref={n_ref} n_cur={n_cur}: any-column false alarms {rate:.3f} (alpha {alpha})")
    assert 0.2 * alpha <= rate <= 2 * alpha, rate


@pytest.mark.parametrize(("n_cur", "shift"), [(300, 0.2), (1_000, 0.1), (10_000, 0.04)])
def test_numeric_power_is_within_5_points_of_ks_2samp(n_cur: int, shift: float) -> None:
    rng = np.random.default_rng(n_cur)
    config = DriftConfig(effect_floor=0.0, correction="none")
    ref_x = rng.normal(size=100_000)
    ref = profile_table({"x": ref_x})
    detector = DriftDetector(config).fit(ref)
    ours = theirs = 0
    trials = 150
    for _ in range(trials):
        x = rng.normal(shift, 1.0, n_cur)
        ours += detector.compare(profile_table({"x": x}, reference=ref))["x"].drifted
        theirs += stats.ks_2samp(ref_x, x).pvalue < config.false_alarm_rate
    print(f"n={n_cur} shift={shift}: ours {ours / trials:.3f}, ks_2samp {theirs / trials:.3f}")
    assert 0.2 <= theirs / trials <= 0.9  # a shift where power can be told apart
    assert ours / trials >= theirs / trials - 0.05


def test_categorical_power_equals_the_chi_square_test() -> None:
    rng = np.random.default_rng(8)
    config = DriftConfig(effect_floor=0.0, correction="none")
    cats = np.array(list("abcde"), dtype=object)
    p = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    q = p * np.linspace(0.88, 1.12, 5)
    ref_c = cats[rng.choice(5, 100_000, p=p)]
    ref = profile_table({"c": ref_c})
    detector = DriftDetector(config).fit(ref)
    r_counts = np.array([np.sum(ref_c == v) for v in cats])
    for _ in range(60):
        c = cats[rng.choice(5, 1_000, p=q / q.sum())]
        got = detector.compare(profile_table({"c": c}, reference=ref))["c"]
        table = np.vstack([r_counts, [np.sum(c == v) for v in cats]])
        expected = stats.chi2_contingency(table, correction=False)
        assert got.p_value == pytest.approx(expected.pvalue, rel=1e-9)
        assert got.drifted == (expected.pvalue < config.false_alarm_rate)
