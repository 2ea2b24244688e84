"""One duration parser: every place that reads a duration accepts the same forms and
refuses the same values with one line naming the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from watchkeeper.alerts.actions import parse_actions
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.errors import ConfigError, RuleError, WatchkeeperError
from watchkeeper.monitor import MonitorConfig
from watchkeeper.server.app import create_app
from watchkeeper.service import Service, parse_config
from watchkeeper.units import parse_duration, to_epoch

FORMS: list[tuple[Any, float]] = [
    ("30s", 30.0),
    ("1.5m", 90.0),
    ("2h", 7200.0),
    ("1d", 86400.0),
    ("1w", 604800.0),
    (45, 45.0),
    (2.5, 2.5),
    (dt.timedelta(minutes=3), 180.0),
]
BAD: list[Any] = ["soon", "1y", "-5m", -1, float("inf"), True, "9" * 400 + "s", 10**400, None]


@pytest.mark.parametrize(("text", "seconds"), FORMS)
def test_every_reader_of_a_duration_accepts_the_same_forms(text: Any, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds
    if isinstance(text, dt.timedelta):
        return  # YAML and JSON carry no timedelta
    config = MonitorConfig.from_options(window=text, rollups=[], window_retention="30d")
    assert config.window_seconds == seconds
    rule = parse_rules([{"name": "R", "metric": "error_rate", "op": ">", "threshold": 0.1,
                         "for": text, "repeat": text}])[0]  # fmt: skip
    assert rule.for_seconds == seconds and rule.repeat_seconds == seconds
    action = parse_actions({"retrain": {"command": ["true"], "cooldown": text}})["retrain"]
    assert action.cooldown_seconds == seconds


@pytest.mark.parametrize("value", BAD, ids=repr)
def test_every_reader_refuses_the_same_values_in_one_line(value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        parse_duration(value, "window")
    assert "\n" not in str(err.value) and err.value.field == "window"
    assert len(str(err.value)) < 200  # a 400-digit value is not repeated
    with pytest.raises(RuleError):
        parse_rules([{"name": "R", "metric": "error_rate", "op": ">", "threshold": 1,
                      "for": value}])  # fmt: skip
    with pytest.raises(WatchkeeperError):
        parse_actions({"retrain": {"command": ["true"], "cooldown": value}})


def test_a_silence_takes_a_week_like_a_window(tmp_path: Path) -> None:
    doc = {"store": "memory://", "wal_dir": str(tmp_path / "wal"), "fsync": False,
           "models": {"churn": {"window": "1w", "window_retention": "30d"}}}  # fmt: skip
    service = Service(parse_config(doc, base=tmp_path))
    with TestClient(create_app(service.config, service=service)) as client:
        ok = client.post("/v1/silences", json={"matchers": {"model": "churn"}, "duration": "1w"})
        bad = client.post("/v1/silences", json={"matchers": {"model": "churn"}, "duration": "1y"})
    assert ok.status_code == 200, ok.text
    assert bad.status_code == 422 and "$.duration" in bad.text


def test_a_bad_model_duration_names_the_key_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"models": {"churn": {"window": "1w"}}}, base=tmp_path)
    assert err.value.field == "models.churn.window_retention"
    assert str(err.value).startswith("models.churn.window_retention: '2d' is shorter")


def test_an_instant_of_hundreds_of_digits_is_one_line() -> None:
    with pytest.raises(ConfigError) as err:
        to_epoch(10**400, "timestamp")
    assert len(str(err.value)) < 200
    assert to_epoch("1970-01-02T00:00:00", "t") == 86400.0
