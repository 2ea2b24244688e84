"""The replay waits for the collector: the clock holds while a real collector (in process)
lags in ingestion or in closing windows, and runs again once it has caught up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from watchkeeper.demo import pacing
from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.pacing import Pacer, lag
from watchkeeper.demo.plan import MODEL, DemoOptions, Plan, plan
from watchkeeper.monitor import ManualClock
from watchkeeper.server.app import create_app
from watchkeeper.service import Service
from watchkeeper.service.config import parse_config

# a slow replay (10x): the simulated time moves little while a test runs, however loaded
P = plan(DemoOptions(duration=86400.0, speed=10.0), now=1.8e9)


class Collector:
    """A real collector (service + HTTP app) on a manual clock, the demo's model."""

    def __init__(self, tmp_path: Path) -> None:
        rng = np.random.default_rng(0)
        pd.DataFrame(
            {"amount": rng.normal(100, 10, 2_000), "prediction": rng.choice(["ok", "bad"], 2_000)}
        ).to_parquet(tmp_path / "reference.parquet")
        doc = {
            "store": "sqlite:///wk.db",
            "wal_dir": "wal",
            "fsync": False,
            "tick_seconds": 3600,
            "models": {
                MODEL: {
                    "reference": "reference.parquet",
                    "window": int(P.window),
                    "grace": int(P.grace),
                    "rollups": [],
                }
            },
        }
        cfg = parse_config(doc, base=tmp_path)
        self.clock = ManualClock(P.start)
        self.service = Service(cfg, clock=self.clock)
        self.client = TestClient(create_app(cfg, service=self.service))

    def send(self, n: int, at: float) -> None:
        rows = [
            {"features": {"amount": 100.0 + i}, "outputs": {"prediction": "ok"}, "timestamp": at}
            for i in range(n)
        ]
        r = self.client.post(f"/v1/models/{MODEL}/predictions", json={"rows": rows})
        assert r.status_code == 200, r.text

    def advance(self, to: float) -> None:
        self.clock.set(to)
        self.service.tick()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path)
    with c.client:
        yield c


def _pacer(p: Plan, clock: AcceleratedClock, c: Collector, answered: list[int]) -> Any:
    said: list[str] = []
    broadcasts: list[dict[str, float | None]] = []
    pacer = Pacer(
        p,
        clock,
        c.client,
        lambda _until: answered[0],
        lambda: broadcasts.append(clock.to_dict()),
        said.append,
    )
    return pacer, said, broadcasts


def test_the_clock_holds_while_rows_are_not_ingested_and_runs_once_they_are(
    collector: Collector,
) -> None:
    clock = AcceleratedClock(P.start + P.grace, P.speed).start()
    answered = [40]  # the service answered 40 applications the collector has not counted
    pacer, said, broadcasts = _pacer(P, clock, collector, answered)
    seen = pacer.step()
    assert seen is not None and seen.rows_missing == 40 and seen.window_due is None
    assert clock.speed == 0 and pacer.holding and pacer.holds == 1
    held = clock.now()
    time.sleep(0.05)
    assert clock.now() == held  # simulated time stands still
    assert broadcasts[-1]["speed"] == 0.0  # and the children are told
    assert "the collector is behind (40 applications not ingested yet)" in said[-1]

    collector.send(40, P.start + 10)
    seen = pacer.step()
    assert seen is not None and not seen.behind
    assert clock.speed == P.speed and not pacer.holding
    assert broadcasts[-1]["speed"] == P.speed
    assert "caught up" in said[-1]
    assert clock.now() >= held  # it goes on from where it stood, never back


def test_the_clock_holds_while_a_due_window_is_still_open(collector: Collector) -> None:
    collector.send(20, P.start + 10)
    due_at = P.start + P.window + P.grace + 0.5 * P.window  # the first window closes late
    clock = AcceleratedClock(due_at, P.speed).start()
    pacer, said, _ = _pacer(P, clock, collector, [20])
    seen = pacer.step()
    assert seen is not None and seen.window_due == P.start and seen.rows_missing == 0
    assert pacer.holding and "a window due to close is still open" in said[-1]

    collector.advance(due_at)  # the collector's own clock gets there: the window closes
    seen = pacer.step()
    assert seen is not None and not seen.behind and not pacer.holding


def test_a_hold_without_any_progress_ends_and_says_so(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "STALL_SECONDS", 0.0)
    clock = AcceleratedClock(P.start + P.grace, P.speed).start()
    pacer, said, _ = _pacer(P, clock, collector, [60])  # rows the collector will never see
    pacer.step()
    assert pacer.holding
    time.sleep(0.01)
    pacer.step()
    assert not pacer.holding and clock.speed == P.speed
    assert any("made no progress" in line for line in said), said
    pacer.step()  # the rows given up on do not hold the replay again
    assert not pacer.holding


def test_lag_counts_windows_in_the_plan_only() -> None:
    far = P.end + 10 * P.window  # long after the last window: the last one is due
    last = P.start + (P.scenario.windows - 1) * P.window
    assert lag(P, far, answered=0, ingested=0, last_closed=None).window_due == last
    assert not lag(P, far, answered=5, ingested=5, last_closed=last).behind


def test_the_clock_never_runs_backwards_when_a_slower_segment_arrives() -> None:
    clock = AcceleratedClock(1_000.0, 1_000.0).start(time.time() - 1.0)
    before = clock.now()
    # a child hears late of a hold that began in the past, at a simulated time behind it
    clock.update({"sim_start": before - 500.0, "speed": 0.0, "real_start": time.time()})
    assert clock.now() == before  # stands still rather than going back
    assert clock.real_at(before + 1) == float("inf")
