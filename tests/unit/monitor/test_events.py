"""Closing a window is an event: ClosedWindow to every subscriber, after the store has it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from watchkeeper.monitor import ClosedWindow, ManualClock, Monitor
from watchkeeper.monitor.events import Listeners

W = 60.0


def _monitor(**kw: object) -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=2_000), "prediction": rng.random(2_000)}
    kw.setdefault("grace", 5)
    kw.setdefault("rollups", ())
    kw.setdefault("max_future_skew", None)  # event time runs ahead of this frozen clock
    return Monitor("m", reference=ref, store="memory://", clock=ManualClock(), **kw)  # type: ignore[arg-type]


def _log(m: Monitor, n: int, t: float, seq: int | None = None) -> None:
    m.log({"x": np.zeros(n)}, np.full(n, 0.5), timestamps=np.full(n, t), seq=seq)


def test_base_windows_are_published_in_order_after_their_points_are_stored() -> None:
    m = _monitor()
    seen: list[tuple[ClosedWindow, list[float]]] = []

    def listener(window: ClosedWindow) -> None:
        stored = m.store.query_points("m", "requests", window_seconds=window.seconds,
                                      since=window.start, until=window.end)  # fmt: skip
        seen.append((window, [p.value for p in stored]))

    m.subscribe(listener)
    _log(m, 3, 10.0)
    _log(m, 4, 70.0)
    _log(m, 5, 130.0)
    _log(m, 1, 400.0)  # closes the three windows at once
    m.wait_analysed()  # analysed off the caller's thread
    assert [(w.start, w.kind, w.end, points) for w, points in seen] == [
        (0.0, "base", 60.0, [3.0]),
        (60.0, "base", 120.0, [4.0]),
        (120.0, "base", 180.0, [5.0]),
    ]
    assert all(w.model == "m" and w.version == "1" and w.analysed for w, _ in seen)
    assert all(w.writer == m.writer for w, _ in seen)


def test_corrections_and_rollups_are_published_too() -> None:
    m = _monitor(window="10m", rollups=("1h",))
    seen: list[ClosedWindow] = []
    m.subscribe(seen.append)
    _log(m, 2, 30.0)
    _log(m, 2, 3700.0)  # closes window 0 and the first hour
    m.wait_analysed()
    assert [(w.kind, w.start, w.seconds) for w in seen] == [
        ("base", 0.0, 600.0),
        ("rollup", 0.0, 3600.0),
    ]
    _log(m, 1, 40.0)  # late: window 0 is corrected, its hour rebuilt
    m.wait_analysed()
    assert [(w.kind, w.start, w.seconds) for w in seen[2:]] == [
        ("correction", 0.0, 600.0),
        ("rollup", 0.0, 3600.0),
    ]
    m.flush()  # the running window closes; the running hour is built from what it holds
    assert [(w.kind, w.start, w.seconds) for w in seen[4:]] == [
        ("base", 3600.0, 600.0),
        ("rollup", 3600.0, 3600.0),
    ]


def test_a_failing_listener_is_logged_and_counted_and_never_breaks_ingestion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    m = _monitor()
    seen: list[float] = []

    def broken(window: ClosedWindow) -> None:
        raise RuntimeError("queue full")

    m.subscribe(broken)
    m.subscribe(lambda w: seen.append(w.start))
    with caplog.at_level(logging.ERROR, logger="watchkeeper.monitor"):
        _log(m, 3, 10.0)
        _log(m, 3, 100.0)
        m.wait_analysed()
    assert seen == [0.0]  # the next listener still ran
    assert m.listener_errors == 1
    assert m.rejected_calls == 0
    assert "listener" in caplog.text
    assert m.metrics("requests")["value"].tolist() == [3.0]


def test_listeners_are_called_in_subscription_order() -> None:
    listeners = Listeners()
    order: list[str] = []
    listeners.subscribe(lambda w: order.append("a"))
    listeners.subscribe(lambda w: order.append("b"))
    listeners.publish(ClosedWindow("m", "1", 0.0, 60.0, "base", "w", True))
    assert order == ["a", "b"] and listeners.errors == 0


def test_a_failed_analysis_is_published_as_not_analysed() -> None:
    from watchkeeper.store import MemoryStore

    class BrokenJoin(MemoryStore):
        def labelled(self, *args: object, **kwargs: object):  # type: ignore[override]
            raise RuntimeError("disk on fire")

    rng = np.random.default_rng(1)
    m = Monitor("m", reference={"x": rng.normal(size=500)}, store=BrokenJoin(),
                clock=ManualClock(), grace=0, rollups=())  # fmt: skip
    seen: list[ClosedWindow] = []
    m.subscribe(seen.append)
    m.log({"x": np.zeros(3)}, timestamps=np.full(3, 5.0))
    m.log({"x": np.zeros(3)}, timestamps=np.full(3, 100.0))
    m.wait_analysed()
    assert [(w.start, w.analysed) for w in seen] == [(0.0, False)]
    assert m.analysis_errors == 1


def test_windows_closing_in_one_step_are_all_in_their_rollup() -> None:
    m = _monitor(rollups=("1h",), grace=30)
    _log(m, 2, 3490.0)  # two windows of the first hour still open...
    _log(m, 3, 3550.0)
    _log(m, 1, 4000.0)  # ...close in one step, with the hour
    m.flush()
    hourly = m.metrics("requests", window="1h")["value"].tolist()
    assert hourly == [5.0, 1.0]
