"""The demo's data: the generator, the two concepts, and what each incident changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from watchkeeper.demo.data import AFTER, BEFORE, CATEGORICAL, FEATURES, label, sample_applications
from watchkeeper.demo.incidents import (
    EMPTY_BAND,
    LOST_CHANNEL,
    LOST_FEATURE,
    NEW_PRODUCT,
    NEW_PRODUCT_SHARE,
    UNIT_FACTOR,
    Conditions,
    Scenario,
    corrupt,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


def test_applications_have_every_feature_and_no_missing_value(rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 5_000)
    assert list(frame.columns) == list(FEATURES)
    assert not frame.isna().any().any()
    assert frame["debt_ratio"].between(0, 1).all()
    assert (frame["employment_years"] <= frame["age"] - 17 + 1e-9).all()


def test_the_same_seed_gives_the_same_applications() -> None:
    a = sample_applications(np.random.default_rng(1), 100)
    b = sample_applications(np.random.default_rng(1), 100)
    assert a.equals(b)


def test_concept_drift_changes_the_labels_of_the_same_applications(
    rng: np.random.Generator,
) -> None:
    frame = sample_applications(rng, 20_000)
    before, after = BEFORE.logit(frame), AFTER.logit(frame)
    # both concepts default about as often: only who defaults changes
    assert abs(np.mean(before > 0) - np.mean(after > 0)) < 0.1
    # a model of the old concept gets the new outcomes wrong often
    agreement = np.mean((before > 0) == (after > 0))
    assert agreement < 0.7
    y = label(frame, AFTER, rng)
    assert set(np.unique(y)) == {"bad", "good"}


def test_unit_change_multiplies_the_served_distance_by_1000(rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 1_000)
    served, truth = corrupt(frame, Conditions(distance_factor=UNIT_FACTOR), rng)
    np.testing.assert_allclose(served["distance_m"], truth["distance_m"] * 1000)
    assert truth.equals(frame)  # the truth is untouched
    others = [c for c in FEATURES if c != "distance_m"]
    assert served[others].equals(frame[others])


def test_lost_field_is_missing_exactly_for_the_partner_channel(rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 5_000)
    served, truth = corrupt(frame, Conditions(missing_channel=LOST_CHANNEL), rng)
    partner = (served["channel"] == LOST_CHANNEL).to_numpy()
    missing = served[LOST_FEATURE].isna().to_numpy()
    np.testing.assert_array_equal(missing, partner)
    assert 0.25 < missing.mean() < 0.35  # the default FeatureMissing threshold is 0.2
    assert not truth[LOST_FEATURE].isna().any()
    assert served.drop(columns=LOST_FEATURE).isna().sum().sum() == 0


def test_new_category_appears_in_about_30_percent_and_is_real(rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 10_000)
    served, truth = corrupt(frame, Conditions(new_product_share=NEW_PRODUCT_SHARE), rng)
    share = float(np.mean(served["product"] == NEW_PRODUCT))
    assert share == pytest.approx(NEW_PRODUCT_SHARE, abs=0.02)
    assert served["product"].equals(truth["product"])
    assert NEW_PRODUCT not in set(frame["product"])


def test_covariate_drift_shifts_loan_amounts_in_served_and_true_data(
    rng: np.random.Generator,
) -> None:
    frame = sample_applications(rng, 2_000)
    served, truth = corrupt(frame, Conditions(loan_shift=math.log(2.0)), rng)
    ratio = np.median(served["loan_amount"] / frame["loan_amount"])
    assert ratio == pytest.approx(2.0, rel=0.01)
    assert served["loan_amount"].equals(truth["loan_amount"])


def test_a_normal_day_changes_nothing(rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 500)
    served, truth = corrupt(frame, Conditions(), rng)
    assert served.equals(frame) and truth.equals(frame)


def test_the_timeline_runs_each_incident_alone_with_quiet_gaps() -> None:
    s = Scenario()
    assert [i.number for i in s.incidents] == list(range(1, 8))
    for w in np.arange(0, s.windows, 0.25):
        active = s.active(float(w))
        stays = [i for i in active if i.windows is None]
        assert len(active) - len(stays) <= 1  # never two incidents of their own at once
    # quiet before the first incident and between incidents
    assert s.conditions(0.0) == Conditions()
    first, second = s.incidents[0], s.incidents[1]
    assert s.conditions(first.end + 0.5) == Conditions()
    assert second.start >= first.end + 2
    # concept drift stays once it started; server faults only while theirs run
    concept = s.incident("concept_drift")
    assert s.conditions(concept.start + 0.1).concept is AFTER
    assert s.conditions(s.windows - 0.1).concept is AFTER
    assert s.conditions(concept.start - 0.1).concept is BEFORE
    overload = s.incident("overload")
    assert s.conditions(overload.start + 0.5).slowdown_seconds > 0.5
    assert s.conditions(overload.end + 0.1).slowdown_seconds == 0
    empty = s.incident("empty_outputs")
    assert s.conditions(empty.start + 0.5).empty_band == EMPTY_BAND


def test_covariate_drift_is_gradual() -> None:
    s = Scenario()
    i = s.incident("covariate_drift")
    shifts = [s.conditions(i.start + k + 0.5).loan_shift for k in range(i.windows or 0)]
    assert shifts == sorted(shifts) and shifts[0] < shifts[-1] == pytest.approx(math.log(2))


@pytest.mark.parametrize("column", CATEGORICAL)
def test_categories_are_strings(column: str, rng: np.random.Generator) -> None:
    frame = sample_applications(rng, 100)
    assert all(isinstance(v, str) for v in frame[column])
