"""No future timestamp poisons a model: event times beyond the clock + skew are rejected."""

from __future__ import annotations

import math

import numpy as np
import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock, Monitor, MonitorConfig

NOW = 1_700_000_000.0  # the clock: Nov 2023
Y2036 = 2_085_000_000.0


def _monitor(**kw: object) -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "prediction": rng.random(500)}
    return Monitor("m", reference=ref, store="memory://", clock=ManualClock(NOW), grace=0,
                   rollups=(), **kw)  # type: ignore[arg-type]  # fmt: skip


def _log(m: Monitor, times: list[float]) -> None:
    n = len(times)
    m.log({"x": np.zeros(n)}, np.full(n, 0.5), timestamps=np.array(times))


def test_one_row_from_2036_is_rejected_and_later_rows_still_count() -> None:
    m = _monitor()
    _log(m, [NOW - 30, NOW - 20])
    _log(m, [Y2036])  # a bad clock on one client
    assert m.future_rejected == 1
    assert m.watermark <= NOW + 300
    issue = m.recent_issues[-1]
    assert issue["problem"] == "future" and issue["column"] == "timestamps"
    assert "max_future_skew" in issue["reason"]
    _log(m, [NOW - 10, NOW + 100])  # later rows are neither dropped nor late
    m.flush()
    assert m.late_dropped == 0
    assert m.metrics("requests")["value"].sum() == 4.0


def test_a_batch_keeps_its_rows_in_time_and_rejects_the_rest() -> None:
    m = _monitor(max_future_skew="1m")
    _log(m, [NOW, NOW + 30, NOW + 61, NOW + 1e6, 1e300])
    assert m.future_rejected == 3 and m.rejected_calls == 0
    assert m.watermark == NOW + 30
    m.flush()
    assert m.metrics("requests")["value"].sum() == 2.0


def test_single_rows_from_the_future_are_rejected_too() -> None:
    m = _monitor(batch_size=4)
    for t in (NOW, Y2036, NOW + 1, NOW + 2):
        m.log({"x": 1.0}, 0.5, timestamps=t)
    m.flush()
    assert m.future_rejected == 1
    assert m.metrics("requests")["value"].sum() == 3.0


@pytest.mark.parametrize("stamp", [1e300, math.inf, Y2036])
def test_a_signal_from_the_future_is_rejected_and_moves_nothing(stamp: float) -> None:
    m = _monitor()
    m.log_metric("server_load", 0.5, timestamp=NOW)
    m.log_metric("server_load", 0.7, timestamp=stamp)
    m.log_event("switched", timestamp=stamp)
    assert m.future_rejected == 2 and m.rejected_calls == 0
    assert m.watermark == NOW
    m.flush()
    counts = m.metrics("custom_metric", stat="count")["value"].tolist()
    assert counts == [1.0]
    assert m.metrics("event_count").empty


def test_max_future_skew_is_a_duration_or_none() -> None:
    assert MonitorConfig.from_options(max_future_skew="10m").max_future_skew_seconds == 600.0
    assert MonitorConfig.from_options().max_future_skew_seconds == 300.0
    assert MonitorConfig.from_options(max_future_skew=None).max_future_skew_seconds == math.inf
    with pytest.raises(ConfigError, match="max_future_skew"):
        MonitorConfig.from_options(max_future_skew="soon")
