"""Attributing alerts to incidents, and the run's time frame."""

from __future__ import annotations

import pytest

from watchkeeper.demo.incidents import Scenario
from watchkeeper.demo.plan import GRACE_REAL_SECONDS, DemoOptions, plan
from watchkeeper.demo.results import AlertSeen, match_alerts
from watchkeeper.errors import ConfigError

W = 1800.0
S = Scenario()


def at(incident_key: str, windows_after: float) -> float:
    return (S.incident(incident_key).start + windows_after) * W


def test_an_expected_alert_within_its_delay_detects_the_incident() -> None:
    alert = AlertSeen("FeatureMissing", {"feature": "employment_years"}, at("missing_data", 1))
    found, false = match_alerts(S.incidents, [alert], start=0.0, window_seconds=W)
    missing = next(d for d in found if d.incident.key == "missing_data")
    assert missing.detected_by == alert and missing.delay == W
    assert [d.ok for d in found].count(True) == 1
    assert false == []


def test_the_wrong_labels_or_a_late_alert_do_not_detect() -> None:
    wrong = AlertSeen("FeatureDrifting", {"feature": "age"}, at("unit_change", 2))
    late = AlertSeen("FeatureMissing", {"feature": "employment_years"}, at("missing_data", 2.5))
    found, false = match_alerts(S.incidents, [wrong, late], start=0.0, window_seconds=W)
    assert not any(d.ok for d in found)
    # the late one is the incident's own rule (the incident is missed, not a false alarm);
    # the wrong feature is no symptom of a unit change, even while it runs
    assert false == [wrong]
    unit = next(d for d in found if d.incident.key == "unit_change")
    assert unit.alerts == ()
    missing = next(d for d in found if d.incident.key == "missing_data")
    assert missing.alerts == (late,)


def test_an_alert_during_an_incident_that_it_does_not_explain_is_a_false_alarm() -> None:
    lag = AlertSeen("TrafficDrop", {}, at("covariate_drift", 1))
    drift = AlertSeen("DatasetDrift", {}, at("covariate_drift", 1.5))
    slow = AlertSeen("SlowPredictions", {}, at("overload", 1))
    found, false = match_alerts(S.incidents, [lag, drift, slow], start=0.0, window_seconds=W)
    assert lag in false and drift in false
    assert slow not in false  # a declared symptom of the overload
    overload = next(d for d in found if d.incident.key == "overload")
    assert overload.alerts == (slow,)


def test_alerts_outside_every_incident_are_false_alarms() -> None:
    before = AlertSeen("TrafficDrop", {}, at("covariate_drift", -1))
    gap = AlertSeen("FeatureDrifting", {"feature": "age"}, at("unit_change", -0.5))
    _, false = match_alerts(S.incidents, [before, gap], start=0.0, window_seconds=W)
    assert false == [before, gap]


def test_concept_drift_ends_once_the_new_version_is_in_place() -> None:
    concept = S.incident("concept_drift")
    recovered = at("concept_drift", 3)
    again = AlertSeen("LowAccuracy", {}, recovered + 3 * W)
    _, false = match_alerts(
        S.incidents, [again], start=0.0, window_seconds=W, recovered_at=recovered
    )
    assert false == [again]
    _, false = match_alerts(S.incidents, [again], start=0.0, window_seconds=W)
    assert false == []  # without a recovery it lasts until the next incident
    assert concept.windows is None


def test_alert_names_leave_out_the_method_label() -> None:
    a = AlertSeen("FeatureDrifting", {"feature": "age", "method": "ks"}, 0.0)
    assert a.name == "FeatureDrifting{feature=age}"
    assert AlertSeen("LowAccuracy", {}, 0.0).name == "LowAccuracy"


def test_the_plan_picks_the_largest_window_that_fits() -> None:
    p = plan(DemoOptions(duration=4 * 86400.0, speed=2400.0), now=1e9)
    assert p.window == 7200 and p.window * S.windows <= 4 * 86400
    assert p.start % p.window == 0 and p.end <= 1e9
    assert p.grace >= max(p.window / 2, GRACE_REAL_SECONDS * p.speed)


@pytest.mark.parametrize(
    ("duration", "speed", "field"),
    [(3600.0, 100.0, "duration"), (86400.0, 1e6, "speed"), (86400.0, 0.0, "speed")],
)
def test_impossible_plans_name_the_option(duration: float, speed: float, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        plan(DemoOptions(duration=duration, speed=speed))
    assert info.value.field == field
    assert f"--{field}" in str(info.value)
