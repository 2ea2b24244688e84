"""MMD embedding drift: the statistic against scikit-learn's RBF kernel, the permutation
null calibrated at the configured false-alarm rate, and power on a shifted cluster."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel

from watchkeeper.errors import ConfigError, InvalidBatchError
from watchkeeper.stats.embedding import EmbeddingDrift


def test_the_statistic_is_the_biased_mmd2_of_sklearn_rbf_kernels() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(size=(80, 5)), rng.normal(0.3, 1.0, size=(60, 5))
    test = EmbeddingDrift(n_components=8).fit(ref)  # 5 <= 8 dims: used as they are
    assert test.projection_ is None
    gamma = 1.0 / (2.0 * test.bandwidth_**2)
    want = (
        rbf_kernel(ref, ref, gamma=gamma).mean()
        + rbf_kernel(cur, cur, gamma=gamma).mean()
        - 2 * rbf_kernel(ref, cur, gamma=gamma).mean()
    )
    result = test.test(cur)
    assert result.statistic == pytest.approx(want, rel=1e-9)
    dists = np.sqrt(((ref[:, None] - ref[None]) ** 2).sum(-1))[np.triu_indices(80, 1)]
    assert test.bandwidth_ == pytest.approx(np.median(dists))


def test_high_dimensional_vectors_are_projected_and_capped() -> None:
    rng = np.random.default_rng(1)
    test = EmbeddingDrift(n_components=4, max_samples=50).fit(rng.normal(size=(200, 32)))
    assert test.projection_ is not None and test.projection_.shape == (32, 4)
    assert test.reference_.shape == (50, 4)
    result = test.test(rng.normal(size=(120, 32)))
    assert (result.n_reference, result.n_current) == (50, 50)
    again = EmbeddingDrift(n_components=4, max_samples=50).fit(rng.normal(size=(200, 32)))
    assert np.array_equal(again.projection_, test.projection_)  # seeded: same directions


def test_the_same_inputs_give_the_same_verdict() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(size=(100, 16)), rng.normal(size=(100, 16))
    a = EmbeddingDrift().fit(ref).test(cur)
    b = EmbeddingDrift().fit(ref).test(cur)
    assert a == b and "MMD²" in a.reason


@pytest.mark.statistical
def test_false_alarm_rate_on_stationary_data_is_the_configured_one() -> None:
    rng = np.random.default_rng(3)
    alpha, trials = 0.05, 300
    flagged = 0
    for i in range(trials):
        test = EmbeddingDrift(false_alarm_rate=alpha, n_permutations=99, seed=i)
        center = rng.normal(size=24)
        test.fit(center + rng.normal(size=(60, 24)))
        flagged += test.test(center + rng.normal(size=(60, 24))).drifted
    rate = flagged / trials
    # exact under exchangeability: at most alpha, up to 3 binomial standard deviations
    assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / trials)
    assert rate >= alpha - 3 * np.sqrt(alpha * (1 - alpha) / trials)  # not deaf either


def test_a_shifted_cluster_is_detected() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(300, 64))
    test = EmbeddingDrift(false_alarm_rate=0.01).fit(base)
    shift = np.zeros(64)
    shift[:6] = 0.6  # a cluster moved along a few of 64 dimensions
    caught = sum(test.test(rng.normal(size=(200, 64)) + shift).drifted for _ in range(10))
    assert caught >= 9
    assert not test.test(rng.normal(size=(200, 64))).drifted


def test_bad_arguments_and_inputs_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="false_alarm_rate: expected a number in"):
        EmbeddingDrift(false_alarm_rate=0.7)
    with pytest.raises(ConfigError, match="n_permutations: 10 cannot give a p-value"):
        EmbeddingDrift(false_alarm_rate=0.01, n_permutations=10)
    test = EmbeddingDrift().fit(np.zeros((5, 3)) + np.arange(3))
    with pytest.raises(InvalidBatchError, match="current: vectors of dimension 4; expected 3"):
        test.test(np.zeros((5, 4)))
    with pytest.raises(InvalidBatchError, match="reference: expected a 2-D array"):
        EmbeddingDrift().fit([1.0, 2.0])
