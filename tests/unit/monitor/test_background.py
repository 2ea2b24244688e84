"""Window analysis off the caller's thread: log() hands it to the analyser thread."""

from __future__ import annotations

import threading
import time

import numpy as np

from watchkeeper.monitor import ClosedWindow, ManualClock, Monitor
from watchkeeper.monitor.background import Background
from watchkeeper.store import Labelled, MemoryStore


class SlowAnalysis(MemoryStore):
    """A store whose label join (part of every window's analysis) blocks until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def labelled(self, model: str, version: str, start: float, end: float) -> Labelled:
        self.entered.set()
        self.release.wait(10.0)
        return super().labelled(model, version, start, end)


def _monitor(store: MemoryStore, model: str = "m") -> Monitor:
    rng = np.random.default_rng(0)
    ref = {"x": rng.normal(size=500), "prediction": rng.random(500)}
    return Monitor(model, reference=ref, store=store, clock=ManualClock(100.0), grace=0,
                   rollups=())  # fmt: skip


def _log(m: Monitor, n: int, t: float) -> None:
    m.log({"x": np.zeros(n)}, np.full(n, 0.5), timestamps=np.full(n, t))


def test_the_call_that_closes_a_window_returns_before_its_analysis() -> None:
    store = SlowAnalysis()
    m = _monitor(store)
    seen: list[tuple[ClosedWindow, str]] = []
    m.subscribe(lambda w: seen.append((w, threading.current_thread().name)))
    _log(m, 3, 5.0)
    t0 = time.perf_counter()
    _log(m, 2, 65.0)  # closes window 0, whose analysis blocks
    elapsed = time.perf_counter() - t0
    assert store.entered.wait(5.0)  # the analysis started, on another thread
    assert elapsed < 5.0
    assert seen == []  # published only once its points are written
    assert store.window_starts("m", "1", 60.0, 0.0, 1e9) == [0.0]  # the state is saved
    store.release.set()
    m.tick()  # returns once every window closed so far is analysed
    assert [(w.start, w.kind, w.analysed) for w, _ in seen] == [(0.0, "base", True)]
    assert seen[0][1] != threading.current_thread().name
    assert m.metrics("requests")["value"].tolist() == [3.0]
    m.close()


def test_flush_and_metrics_wait_for_the_analysis() -> None:
    store = SlowAnalysis()
    store.release.set()
    m = _monitor(store)
    for w in range(5):
        _log(m, w + 1, w * 60.0 + 1)
    assert m.metrics("requests")["value"].tolist() == [1.0, 2.0, 3.0, 4.0]
    m.flush()
    assert m.metrics("requests")["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    m.close()


def test_close_stops_the_analyser_thread() -> None:
    m = _monitor(MemoryStore(), model="closing")
    _log(m, 3, 5.0)
    _log(m, 3, 65.0)
    mine = [t for t in threading.enumerate() if t.name == "watchkeeper-analyser-closing-1"]
    assert mine
    m.close()
    assert not any(t.is_alive() for t in mine)


def test_background_runs_jobs_in_order_and_survives_a_failing_one() -> None:
    background = Background("test-bg", idle_seconds=0.05)
    done: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    background.submit(lambda: done.append(1))
    background.submit(broken)
    background.submit(lambda: done.append(2))
    assert background.wait(5.0)
    assert done == [1, 2] and background.errors == 1 and background.pending == 0
    time.sleep(0.3)  # idle: the thread ends, and the next job starts a new one
    assert not any(t.name == "test-bg" for t in threading.enumerate())
    background.submit(lambda: done.append(3))
    assert background.wait(5.0) and done == [1, 2, 3]
    background.close()
    background.submit(lambda: done.append(4))  # closed: runs inline
    assert done == [1, 2, 3, 4]


def test_a_listener_may_wait_from_the_analyser_thread_without_deadlock() -> None:
    m = _monitor(MemoryStore())
    seen: list[float] = []

    def listener(w: ClosedWindow) -> None:
        seen.append(float(m.metrics("requests")["value"].sum()))  # waits: must not hang

    m.subscribe(listener)
    _log(m, 3, 5.0)
    _log(m, 1, 65.0)
    assert m.wait_analysed(10.0)
    assert seen == [3.0]
    m.close()
