"""Weak-segment ranking: intervals against SciPy, the known-answer ranking, calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import accuracy_score, mean_absolute_error

from watchkeeper.errors import ConfigError
from watchkeeper.stats.segments import (
    SegmentOutcome,
    bootstrap_rise_interval,
    newcombe_interval,
    outcomes_by_segment,
    rank_segments,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [(0, 10, 0.95), (1, 30, 0.95), (29, 30, 0.9), (500, 1000, 0.99), (7, 7, 0.95)],
)
def test_wilson_interval_equals_scipy(k: int, n: int, confidence: float) -> None:
    ours = wilson_interval(k, n, confidence)
    theirs = sps.binomtest(k, n).proportion_ci(confidence, method="wilson")
    assert ours == pytest.approx((theirs.low, theirs.high), abs=1e-12)


def test_newcombe_interval_is_built_from_the_two_wilson_intervals() -> None:
    k1, n1, k2, n2 = 90, 100, 60, 80
    drop, low, high = newcombe_interval(k1, n1, k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    a = sps.binomtest(k1, n1).proportion_ci(0.95, method="wilson")
    b = sps.binomtest(k2, n2).proportion_ci(0.95, method="wilson")
    assert drop == pytest.approx(p1 - p2)
    assert low == pytest.approx(p1 - p2 - math.hypot(p1 - a.low, b.high - p2))
    assert high == pytest.approx(p1 - p2 + math.hypot(a.high - p1, p2 - b.low))


def test_newcombe_interval_covers_the_true_drop_at_its_level() -> None:
    rng = np.random.default_rng(3)
    p1, p2, n1, n2 = 0.9, 0.8, 200, 60
    k1 = rng.binomial(n1, p1, 4000)
    k2 = rng.binomial(n2, p2, 4000)
    covered = [
        low <= p1 - p2 <= high
        for _, low, high in (newcombe_interval(a, n1, b, n2) for a, b in zip(k1, k2, strict=True))
    ]
    assert 0.93 <= np.mean(covered) <= 0.975


def _scripted(rng: np.random.Generator) -> pd.DataFrame:
    """10,000 rows; accuracy 0.9 everywhere except region=south (10% of rows): 0.6;
    plus a 30-row segment 'tiny' with exactly one error."""
    regions = rng.choice(["north", "east", "west", "south"], 10_000, p=[0.4, 0.25, 0.25, 0.1])
    p = np.where(regions == "south", 0.6, 0.9)
    correct = rng.random(10_000) < p
    tiny = pd.DataFrame({"region": ["tiny"] * 30, "correct": [True] * 29 + [False]})
    return pd.concat([pd.DataFrame({"region": regions, "correct": correct}), tiny])


def test_accuracy_drop_in_south_ranks_it_first_and_a_tiny_segment_does_not_outrank_it() -> None:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame(
        {
            "region": rng.choice(["north", "east", "west", "south", "tiny"], 20_000),
            "correct": rng.random(20_000) < 0.9,
        }
    )
    cur = _scripted(rng)
    reference = outcomes_by_segment(ref["region"].tolist(), ref["correct"], "accuracy")
    current = outcomes_by_segment(cur["region"].tolist(), cur["correct"], "accuracy")
    ranking = rank_segments(current, reference, column="region")
    assert ranking[0].segment == "south" and ranking[0].flagged
    assert ranking[0].baseline == "reference"
    assert [s.segment for s in ranking if s.flagged] == ["south"]
    # the tiny segment's raw drop is near south's order of magnitude only by noise
    tiny = next(s for s in ranking if s.segment == "tiny")
    assert tiny.low < ranking[0].low


def test_without_a_reference_each_segment_is_compared_with_the_rest() -> None:
    cur = _scripted(np.random.default_rng(11))
    current = outcomes_by_segment(cur["region"].tolist(), cur["correct"], "accuracy")
    ranking = rank_segments(current, column="region")
    south = ranking[0]
    assert south.segment == "south" and south.baseline == "rest"
    rest = cur[cur["region"] != "south"]
    assert south.n_baseline == len(rest)
    assert south.baseline_value == pytest.approx(rest["correct"].mean())


def test_counts_and_metrics_equal_pandas_groupby_and_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "segment": rng.choice(list("abcde"), 3000),
            "y": rng.choice(["yes", "no"], 3000),
            "pred": rng.choice(["yes", "no"], 3000),
            "target": rng.normal(size=3000),
            "estimate": rng.normal(size=3000),
        }
    )
    accuracy = outcomes_by_segment(df["segment"].tolist(), df["y"] == df["pred"], "accuracy")
    errors = outcomes_by_segment(df["segment"].tolist(), df["target"] - df["estimate"], "mae")
    for segment, rows in df.groupby("segment"):
        assert accuracy[str(segment)].n == len(rows)
        assert accuracy[str(segment)].value == pytest.approx(
            accuracy_score(rows["y"], rows["pred"])
        )
        assert errors[str(segment)].value == pytest.approx(
            mean_absolute_error(rows["target"], rows["estimate"])
        )


def test_mae_rise_ranks_the_segment_whose_error_grew() -> None:
    rng = np.random.default_rng(12)
    ref = {s: SegmentOutcome.from_errors(rng.normal(0, 1, 2000)) for s in "abcd"}
    cur = {s: SegmentOutcome.from_errors(rng.normal(0, 1, 500)) for s in "abc"}
    cur["d"] = SegmentOutcome.from_errors(rng.normal(0, 1.5, 500))
    ranking = rank_segments(cur, ref, metric="mae")
    assert ranking[0].segment == "d" and ranking[0].flagged
    assert not any(s.flagged for s in ranking[1:])


def test_welch_interval_of_mae_matches_the_bootstrap_on_large_samples() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, 3000), rng.normal(0, 1.2, 3000)
    welch = rank_segments(
        {"x": SegmentOutcome.from_errors(b)}, {"x": SegmentOutcome.from_errors(a)}, metric="mae"
    )[0]
    rise, low, high = bootstrap_rise_interval(a, b, seed=1)
    assert welch.drop == pytest.approx(rise)
    assert welch.low == pytest.approx(low, abs=0.01)
    assert welch.high == pytest.approx(high, abs=0.01)


def test_bootstrap_is_seeded() -> None:
    a, b = np.arange(50.0), np.arange(60.0)
    assert bootstrap_rise_interval(a, b, seed=3) == bootstrap_rise_interval(a, b, seed=3)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"metric": "f1"}, "metric"),
        ({"confidence": 1.0}, "confidence"),
        ({"false_alarm_rate": 0.0}, "false_alarm_rate"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        rank_segments({"a": SegmentOutcome(10, 9)}, **options)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.statistical
def test_stationary_segments_are_flagged_at_most_at_the_false_alarm_rate() -> None:
    rng = np.random.default_rng(2026)
    alpha, trials, segments = 0.05, 600, 8
    shares = np.linspace(1, 3, segments)
    shares /= shares.sum()
    alarms = 0
    for _ in range(trials):
        ref = {
            f"s{i}": SegmentOutcome(n, rng.binomial(n, 0.85))
            for i, n in enumerate(rng.multinomial(5000, shares))
        }
        cur = {
            f"s{i}": SegmentOutcome(n, rng.binomial(n, 0.85))
            for i, n in enumerate(rng.multinomial(800, shares))
        }
        ranking = rank_segments(cur, ref, false_alarm_rate=alpha)
        alarms += any(s.flagged for s in ranking)
    # Bonferroni keeps the family-wise rate at or below alpha; binomial slack of 3 sd
    assert alarms / trials <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)


def test_a_small_segment_with_a_larger_raw_drop_ranks_below_a_certain_drop() -> None:
    reference = {"south": SegmentOutcome(5000, 4500), "tiny": SegmentOutcome(300, 290)}
    current = {"south": SegmentOutcome(1000, 800), "tiny": SegmentOutcome(30, 24)}
    south, tiny = rank_segments(current, reference)
    assert tiny.drop > south.drop  # raw: the tiny one looks worse ...
    assert south.segment == "south" and south.low > tiny.low  # ... but is far less certain
    # the brief's case: 30 rows with one error against a perfect reference
    current["tiny"], reference["tiny"] = SegmentOutcome(30, 29), SegmentOutcome(300, 300)
    south, tiny = rank_segments(current, reference)
    assert (south.segment, tiny.flagged) == ("south", False)
