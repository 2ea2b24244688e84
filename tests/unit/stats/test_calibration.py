"""The natural-spread verdict keeps the configured false-alarm rate whatever the size.

Each trial draws a fresh reference and a fresh current sample from the same distribution
(real data, not draws from the null model itself), profiles both, and asks the detector.
Seeds are fixed, so the test is deterministic; it fails if the null spread is too narrow
(too many alarms) or too wide (too few). It takes CPU-minutes, so it is marked
``statistical`` and left out of ``make test-fast`` (``make test`` runs it).
"""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.stats import DriftConfig, NullModel, get_method
from watchkeeper.stats.verdict import Observation, judge

pytestmark = pytest.mark.statistical


def _false_alarm_rate(
    method_name: str, alpha: float, trials: int, n_ref: int, n_cur: int, seed: int
) -> float:
    rng = np.random.default_rng(seed)
    method = get_method(method_name)
    config = DriftConfig(false_alarm_rate=alpha, correction="none", effect_floor=0.0)
    alarms = 0
    for _ in range(trials):
        ref = rng.standard_normal(n_ref)
        cur = rng.standard_normal(n_cur)
        if method.representation == "counts":
            edges = quantile_edges(ref)
            ref_counts, cur_counts = bin_counts(ref, edges), bin_counts(cur, edges)
            edge = 1 / (n_ref + 1)  # new extremes, as the detector does
            null = NullModel(method, seed=seed).fit_counts(
                ref_counts, unseen={0: edge, len(ref_counts) - 1: edge}
            )
            result = method.from_counts(ref_counts, cur_counts)
        else:
            atoms = np.quantile(ref, (np.arange(200) + 0.5) / 200)
            null = NullModel(method, seed=seed).fit_atoms(atoms, n_ref, float(ref.std()))
            result = method.exact(ref, cur)
        obs = Observation("x", "numeric", method, result, n_ref, n_cur, null)
        alarms += judge([obs], config).columns[0].drifted
    return alarms / trials


@pytest.mark.parametrize(
    ("method", "alpha", "trials", "n_ref", "n_cur"),
    [
        ("jensen_shannon", 0.05, 400, 20_000, 5_000),  # normal approximation of the null
        ("jensen_shannon", 0.05, 400, 2_000, 300),  # exact multinomial draws
        ("psi", 0.05, 400, 20_000, 2_000),
        ("chi2", 0.05, 400, 5_000, 1_000),
        ("ks", 0.05, 300, 20_000, 200),
        ("jensen_shannon", 0.01, 1_500, 10_000, 2_000),
    ],
)
def test_observed_false_alarm_rate_is_within_03x_to_3x_of_configured(
    method: str, alpha: float, trials: int, n_ref: int, n_cur: int
) -> None:
    rate = _false_alarm_rate(method, alpha, trials, n_ref, n_cur, seed=11)
    print(f"{method} alpha={alpha} n_ref={n_ref} n_cur={n_cur}: observed {rate:.4f}")
    assert 0.3 * alpha <= rate <= 3 * alpha, rate


def test_across_10_columns_the_chance_of_any_false_alarm_stays_near_alpha() -> None:
    rng = np.random.default_rng(12)
    method = get_method("jensen_shannon")
    alpha = 0.05
    for correction in ("benjamini_hochberg", "bonferroni"):
        config = DriftConfig(false_alarm_rate=alpha, correction=correction, effect_floor=0.0)
        any_alarm = 0
        trials = 150
        for _ in range(trials):
            observations = []
            for j in range(10):
                ref = rng.standard_normal(5_000)
                cur = rng.standard_normal(1_000)
                edges = quantile_edges(ref)
                rc, cc = bin_counts(ref, edges), bin_counts(cur, edges)
                edge = 1 / 5_001
                null = NullModel(method, seed=j).fit_counts(rc, unseen={0: edge, len(rc) - 1: edge})
                observations.append(
                    Observation(
                        f"c{j}", "numeric", method, method.from_counts(rc, cc), 5_000, 1_000, null
                    )
                )
            any_alarm += judge(observations, config).n_drifted > 0
        rate = any_alarm / trials
        print(f"{correction}: any false alarm in {rate:.3f} of trials (alpha {alpha})")
        assert 0.3 * alpha <= rate <= 3 * alpha, (correction, rate)
