"""The per-window series cap is first come, except for protected metric names."""

from __future__ import annotations

import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor, MonitorConfig
from watchkeeper.monitor.window import MAX_SERIES


def _monitor(**kw: object) -> Monitor:
    return Monitor("m", store="memory://", clock=ManualClock(100.0), grace=0, rollups=(), **kw)  # type: ignore[arg-type]


def _flood_then_load(m: Monitor) -> None:
    junk = [(f"junk_{i}", 1.0, None, 10.0) for i in range(MAX_SERIES)]
    m.log_signals([*junk, ("server_load", 0.9, {"host": "a"}, 11.0)])
    m.flush()


def test_junk_names_push_an_unprotected_series_out() -> None:
    m = _monitor()
    _flood_then_load(m)
    assert m.metrics("custom_metric", metric="server_load").empty
    assert not m.metrics("custom_metric", metric="other").empty


def test_a_protected_series_is_kept_ahead_of_the_cap() -> None:
    m = _monitor(protected_series=("server_load",))
    _flood_then_load(m)
    load = m.metrics("custom_metric", metric="server_load", stat="max")
    assert load["value"].tolist() == [0.9]
    assert load["host"].tolist() == ["a"]
    junk = m.metrics("custom_metric", stat="count")
    assert len(set(junk["metric"])) == MAX_SERIES + 1  # 100 first come + the protected one


def test_protected_series_must_be_names() -> None:
    assert MonitorConfig.from_options(protected_series=["a", "b"]).protected_series == ("a", "b")
    with pytest.raises(ConfigError, match="protected_series"):
        MonitorConfig.from_options(protected_series="server_load")
