"""MonitorConfig: the human forms validated once, with the errors naming the option."""

from __future__ import annotations

import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import Monitor, MonitorConfig
from watchkeeper.monitor.config import drift_config
from watchkeeper.stats import DriftConfig


def test_human_durations_become_seconds_and_rollups_default_to_hour_and_day() -> None:
    config = MonitorConfig.from_options(window="5m", grace="30s", retention="1w")
    assert config.window_seconds == 300.0
    assert config.grace_seconds == 30.0
    assert config.retention_seconds == 7 * 86400.0
    assert config.rollup_seconds == (3600.0, 86400.0)
    assert config.sizes == (300.0, 3600.0, 86400.0)


def test_default_rollups_skip_sizes_that_are_not_whole_windows() -> None:
    assert MonitorConfig.from_options(window="7m", window_retention="2d").rollup_seconds == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": "often"}, "window: expected a duration"),
        ({"window": 0}, "window: expected a positive duration, got 0"),
        ({"grace": "soon"}, "grace: expected a duration"),
        ({"window": "7m", "rollups": ("1h",)}, "rollups: 3600 s is not a multiple of the 420 s"),
        ({"window": "1m", "rollups": ("1h",), "window_retention": "30m"}, "window_retention"),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1, got 0"),
        ({"batch_size": 2.5}, "batch_size: expected an integer >= 1, got 2.5"),
    ],
)
def test_bad_options_raise_config_errors_naming_the_option(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        MonitorConfig.from_options(**options)  # type: ignore[arg-type]


def test_drift_is_taken_as_a_config_or_a_mapping_of_its_fields() -> None:
    given = DriftConfig(false_alarm_rate=0.05)
    assert MonitorConfig.from_options(drift=given).drift is given
    assert MonitorConfig.from_options(drift={"false_alarm_rate": 0.05}).drift == given
    assert MonitorConfig.from_options().drift == DriftConfig()


def test_drift_mapping_errors_name_the_key_under_drift() -> None:
    with pytest.raises(ConfigError) as unknown:
        drift_config({"alpha": 0.05})
    assert unknown.value.field == "drift.alpha"
    assert str(unknown.value).startswith("drift.alpha: unknown setting; expected one of: ")
    assert "false_alarm_rate" in str(unknown.value)
    with pytest.raises(ConfigError) as bad:
        drift_config({"drift_share": 0})
    assert bad.value.field == "drift.drift_share"
    assert str(bad.value) == "drift.drift_share: drift_share: expected a number in (0, 1], got 0"
    with pytest.raises(ConfigError, match="drift: expected a mapping of settings"):
        drift_config(0.05)  # type: ignore[arg-type]


def test_the_monitor_takes_a_config_or_the_same_options_as_keywords() -> None:
    config = MonitorConfig.from_options(window="5m", drift={"false_alarm_rate": 0.05})
    built = Monitor("m", config=config, store="memory://")
    keywords = Monitor("m", window="5m", drift={"false_alarm_rate": 0.05}, store="memory://")
    assert built.config == keywords.config == config
    assert built.window_seconds == 300.0 and built.drift_config.false_alarm_rate == 0.05
    with pytest.raises(ConfigError, match="config: given with window"):
        Monitor("m", config=config, window="1m", store="memory://")
