"""A correlation flip with unchanged marginals: the multivariate tests flag it, no
univariate test does, and the ranking names the two features first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _flip import PAIR, flip_rows

from watchkeeper.errors import ConfigError
from watchkeeper.report import compare_frames
from watchkeeper.stats.multivariate import (
    DomainClassifier,
    MultivariateConfig,
    PCAReconstruction,
    assess,
    model_impact,
    multivariate_config,
    rank_causes,
)

CFG = MultivariateConfig(n_permutations=9, max_iter=15, max_rows=600)


@pytest.fixture(scope="module")
def data() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    return flip_rows(rng, 4_000, 0.8), flip_rows(rng, 2_000, -0.8), flip_rows(rng, 2_000, 0.8)


def test_no_univariate_test_flags_the_flip(data) -> None:
    ref, flipped, _ = data
    report = compare_frames(pd.DataFrame(ref), pd.DataFrame(flipped))
    assert report.drifted_columns == ()


def test_multivariate_tests_flag_the_flip_and_name_the_pair_first(data) -> None:
    ref, flipped, _ = data
    found = assess(ref, flipped, CFG)
    assert [v.method for v in found.verdicts] == ["pca", "domain_classifier"]
    assert all(v.drifted for v in found.verdicts), found.verdicts
    assert {c.feature for c in found.causes[:2]} == set(PAIR)
    assert found.causes[1].score > 5 * found.causes[2].score


def test_multivariate_tests_stay_quiet_without_drift(data) -> None:
    ref, _, same = data
    found = assess(ref, same, CFG)
    assert not found.drifted, found.verdicts
    assert found.causes == ()


def test_the_verdict_is_the_same_on_a_second_run(data) -> None:
    ref, flipped, _ = data
    a = DomainClassifier(CFG).fit(ref).test(flipped)
    b = DomainClassifier(CFG).fit(ref).test(flipped)
    assert a == b


def test_pca_statistic_is_the_mean_reconstruction_error_of_numpy(data) -> None:
    ref, flipped, _ = data
    pca = PCAReconstruction().fit(ref)
    cols = pca.columns_
    z = np.column_stack([(flipped[c] - pca.center_[j]) / pca.scale_[j] for j, c in enumerate(cols)])
    back = z @ pca.components_.T @ pca.components_
    assert pca.statistic(flipped) == pytest.approx(np.linalg.norm(z - back, axis=1).mean())
    assert pca.threshold(100) > pca.threshold(10_000) > pca.error_mean_


def test_impact_weights_the_ranking() -> None:
    ranked = rank_causes(
        {"a": 0.2, "b": 0.2, "c": 0.0},
        univariate={"a": (0.01, False), "b": (0.02, False)},
        impact={"a": 0.1, "b": 1.0},
    )
    assert [c.feature for c in ranked] == ["b", "a", "c"]
    assert ranked[0].score == pytest.approx(0.5) and ranked[1].score == pytest.approx(0.05)
    assert ranked[0].drifted is False and ranked[0].statistic == 0.02


def test_model_impact_reads_tree_importances() -> None:
    class Trees:
        feature_importances_ = np.array([0.7, 0.3])

    assert model_impact(Trees(), ["a", "b"]) == {"a": 0.7, "b": 0.3}
    with pytest.raises(ValueError, match="feature_importances_"):
        model_impact(object(), ["a"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"folds": 1}, "multivariate.folds: expected an integer >= 2, got 1"),
        ({"false_alarm_rate": 0.7}, "multivariate.false_alarm_rate"),
        ({"classifier": "sometimes"}, "multivariate.classifier"),
        ({"impact": {"a": -1}}, "multivariate.impact.a"),
        ({"nope": 1}, "multivariate.nope: unknown setting"),
        ("yes", "multivariate: expected true, false or a mapping"),
    ],
)
def test_bad_settings_fail_with_one_line_naming_them(spec, message) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        multivariate_config(spec)
