"""The dashboard's JSON helpers: range resolution (and rollup choice), series grouping,
families. Pages themselves are tested in Chromium (tests/integration/test_dashboard.py)."""

from __future__ import annotations

import math

import pytest

from watchkeeper.monitor import Monitor
from watchkeeper.monitor.analysis import POINT_NAMES
from watchkeeper.server import views
from watchkeeper.store import MemoryStore, MetricPoint


@pytest.fixture
def monitor() -> Monitor:
    store = MemoryStore()
    points = [
        MetricPoint("m", version, start, 60.0, name, value, labels)
        for version, start in [("1", 0.0), ("1", 60.0), ("2", 120.0)]
        for name, value, labels in [
            ("requests", 10.0, {}),  # every analysed window has it
            ("error_rate", start / 600, {}),
            ("feature_drift", math.nan if start == 60.0 else 0.1, {"feature": "age"}),
            ("feature_drift", 0.2, {"feature": "city"}),
        ]
    ]
    store.write_points(points, now=0.0)
    return Monitor("m", store=store, window="1m", rollups=["1h", "1d"])


def test_named_ranges_end_at_the_latest_window_and_pick_a_rollup_when_long(monitor) -> None:
    day = views.time_range(monitor, "1d", now=1e9)
    assert (day.since, day.until, day.window_seconds) == (180.0 - 86400, 180.0, 60.0)
    week = views.time_range(monitor, "7d", now=1e9)  # 10,080 minutes: too many points
    assert week.window_seconds == 3600.0
    month = views.time_range(monitor, "30d", now=1e9)
    assert month.window_seconds == 3600.0  # 720 hourly points fit


def test_custom_ranges_need_since_before_until(monitor) -> None:
    rng = views.time_range(monitor, "custom", 0.0, 120.0, now=1e9)
    assert (rng.since, rng.until) == (0.0, 120.0)
    with pytest.raises(ValueError, match="since"):
        views.time_range(monitor, "custom", now=1e9)
    with pytest.raises(ValueError, match="since < until"):
        views.time_range(monitor, "custom", 120.0, 0.0, now=1e9)
    with pytest.raises(ValueError, match="range: expected one of"):
        views.time_range(monitor, "2y", now=1e9)


def test_an_empty_model_ranges_to_now() -> None:
    empty = Monitor("e", store=MemoryStore(), window="1m")
    rng = views.time_range(empty, "1h", now=5000.0)
    assert (rng.since, rng.until) == (1400.0, 5000.0)
    assert views.series(empty, ["error_rate"], rng) == []


def test_series_are_grouped_by_name_version_and_labels_with_nan_as_none(monitor) -> None:
    rng = views.time_range(monitor, "1h", now=1e9)
    got = views.series(monitor, ["feature_drift", "error_rate"], rng)
    by_key = {(s["name"], s["version"], s["labels"].get("feature")): s for s in got}
    assert set(by_key) == {
        ("feature_drift", "1", "age"),
        ("feature_drift", "1", "city"),
        ("feature_drift", "2", "age"),
        ("feature_drift", "2", "city"),
        ("error_rate", "1", None),
        ("error_rate", "2", None),
    }
    age = by_key[("feature_drift", "1", "age")]
    assert age["t"] == [0.0, 60.0] and age["v"] == [0.1, None]
    only_v2 = views.series(monitor, ["error_rate"], rng, version="2")
    assert [(s["t"], s["v"]) for s in only_v2] == [([120.0], [0.2])]
    city = views.series(monitor, ["feature_drift"], rng, labels={"feature": "city"})
    assert {s["labels"]["feature"] for s in city} == {"city"}


def test_every_metric_has_a_family() -> None:
    families = {name: views.family_of(name) for name in POINT_NAMES}
    assert set(families.values()) == set(views.FAMILIES)
    assert families["latency_seconds"] == "software"
    assert families["missing_ratio"] == "inputs"
    assert families["empty_output_ratio"] == "outputs"
    assert families["label_coverage"] == "performance"
