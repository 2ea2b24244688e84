"""Ingestion: single rows buffered, batches validated and folded by event time."""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.monitor.clock import ManualClock
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.parts import MonitorParts
from watchkeeper.store import MemoryStore


def _parts(**options: object) -> MonitorParts:
    config = MonitorConfig(grace_seconds=5.0, rollup_seconds=(), **options)  # type: ignore[arg-type]
    return MonitorParts.build(MemoryStore(), "m", "1", "a", config, ManualClock(30.0))


def test_single_rows_are_buffered_until_batch_size() -> None:
    parts = _parts(batch_size=3)
    for i in range(2):
        parts.ingestion.log({"x": float(i)}, 0.5, None, 10.0, None, None, None, None)
    assert not parts.windows.is_open(0.0)  # nothing folded in yet
    parts.ingestion.log({"x": 2.0}, 0.5, None, None, None, None, None, None)  # time: the clock
    state = parts.windows.state_for(0.0)
    assert state is not None and state.requests == 3
    assert parts.baseline.schema is not None and "x" in parts.baseline.schema


def test_a_batch_is_split_by_event_time_and_bad_values_recorded() -> None:
    parts = _parts()
    features = {"x": np.array([1.0, 2.0, 3.0, 4.0])}
    parts.ingestion.log(features, None, None, np.array([1.0, 61.0, 62.0, 63.0]), None, None,
                        None, None)  # fmt: skip
    closed = parts.windows.close_all()
    assert [(s, st.requests) for s, st in closed] == [(0.0, 1), (60.0, 3)]
    parts.ingestion.log({"x": np.array(["bad", "1.0"], dtype=object)}, None, None,
                        np.array([130.0, 131.0]), None, None, None, None)  # fmt: skip
    assert any(i["column"] == "x" for i in parts.issues.recent)


def test_rows_for_a_purged_window_are_dropped_and_counted() -> None:
    parts = _parts(window_retention_seconds=120.0, max_future_skew_seconds=math.inf)
    parts.ingestion.log({"x": np.zeros(2)}, None, None, np.full(2, 1000.0), None, None, None, None)
    parts.ingestion.log({"x": np.zeros(3)}, None, None, np.full(3, 5.0), None, None, None, None)
    assert parts.issues.late_dropped == 3
    assert parts.issues.recent[-1]["problem"] == "too_late"


def test_signals_fold_into_their_windows_once_per_seq() -> None:
    parts = _parts()
    metrics = [("clicks", 2.0, {"app": "web"}, 5.0)]
    parts.ingestion.signals(metrics, [("switched", 6.0)], seq=1)
    parts.ingestion.signals(metrics, [], seq=1)  # replayed
    state = parts.windows.state_for(0.0)
    assert state is not None
    assert list(state.custom.values()) == [[1.0, 2.0, 2.0, 2.0]]
    assert state.events == {"switched": 1}


def test_a_bad_row_buffer_is_rejected_whole_and_counted() -> None:
    parts = _parts(batch_size=10)
    parts.ingestion.log({"x": 1.0}, 0.5, None, 5.0, None, None, None, None)
    parts.ingestion.log({"x": 2.0}, 0.5, None, 6.0, "fast", None, None, None)  # bad latency
    parts.ingestion.drain()
    assert parts.issues.rejected_calls == 1
    assert parts.issues.recent[-1]["call"] == "log"
    assert not parts.windows.is_open(0.0)  # neither row was folded in
