"""The replay waits for the collector: the clock stops at a gate before each window's
close until a real collector (in process) has ingested every row and outcome sent and
closed the window before, then goes on."""

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
from watchkeeper.demo.pacing import Pacer
from watchkeeper.demo.plan import MODEL, DemoOptions, plan
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


def _pacer(c: Collector, sent: list[int]) -> Any:
    """A pacer on a clock fast enough to stand at its gates at once."""
    said: list[str] = []
    broadcasts: list[dict[str, float | None]] = []
    clock = AcceleratedClock(P.start, 1e6)
    pacer = Pacer(
        P,
        clock,
        c.client,
        lambda: (sent[0], sent[1]),
        lambda: broadcasts.append(clock.to_dict()),
        said.append,
    )
    clock.start()
    return pacer, clock, said, broadcasts


def _at_gate(pacer: Any) -> Any:
    """Step until the pacer has asked the collector (the clock stands at the gate)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = pacer.step()
        if seen is not None:
            return seen
        time.sleep(0.01)
    raise AssertionError("the pacer never asked the collector")


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(pacing, "NOTICE_SECONDS", 0.0)


def test_the_clock_stops_at_the_gate_until_every_row_and_outcome_is_in(
    collector: Collector,
) -> None:
    sent = [40, 0]  # 40 applications sent to the service, not counted by the collector
    pacer, clock, said, broadcasts = _pacer(collector, sent)
    gate = pacer.gate(0)
    assert clock.until == gate == P.start + P.window + P.grace - pacing.GATE_MARGIN
    seen = _at_gate(pacer)
    assert seen.rows_missing == 40 and seen.window_due is None
    assert clock.now() == gate and pacer.holding  # stands still, just before the close
    time.sleep(0.02)
    assert clock.now() == gate
    assert "the collector is behind (40 applications not ingested yet)" in said[-1]

    collector.send(40, P.start + 10)
    sent[1] = 3  # and three outcomes handed on
    seen = _at_gate(pacer)
    assert seen.rows_missing == 0 and seen.labels_missing == 3 and pacer.holding
    r = collector.client.post(
        f"/v1/models/{MODEL}/labels", json={"ids": ["a", "b", "c"], "labels": ["ok"] * 3}
    )
    assert r.status_code == 200, r.text
    seen = _at_gate(pacer)
    assert not seen.behind and pacer.k == 1
    assert clock.until == pacer.gate(1) and broadcasts[-1]["until"] == pacer.gate(1)
    assert "caught up" in said[-1]
    assert clock.now() >= gate  # it goes on from where it stood, never back


def test_the_next_gate_waits_for_the_window_before_to_close(collector: Collector) -> None:
    collector.send(20, P.start + 10)
    pacer, clock, said, _ = _pacer(collector, [20, 0])
    assert not _at_gate(pacer).behind  # the first gate opens: all rows are in
    seen = _at_gate(pacer)  # the second: window 0 must be closed by now
    assert seen.window_due == P.start and pacer.k == 1
    assert "the previous window not closed yet" in said[-1]
    collector.advance(clock.now())  # the collector's clock gets there: window 0 closes
    assert not _at_gate(pacer).behind and pacer.k == 2


def test_a_wait_without_any_progress_ends_and_says_so(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "STALL_SECONDS", 0.0)
    pacer, clock, said, _ = _pacer(collector, [60, 0])  # rows the collector never sees
    seen = _at_gate(pacer)
    if pacer.k == 0:  # the first look records the progress; the next finds none
        time.sleep(0.01)
        seen = _at_gate(pacer)
    assert not seen.behind and pacer.k == 1
    assert any("made no progress" in line for line in said), said
    collector.advance(clock.now())
    assert not _at_gate(pacer).behind  # the rows given up on do not hold the replay again


def test_stopping_opens_the_gate_for_good(collector: Collector) -> None:
    pacer, clock, _, broadcasts = _pacer(collector, [0, 0])
    pacer.stop()
    assert clock.until == float("inf") and broadcasts[-1]["until"] is None
    time.sleep(0.02)
    assert clock.now() > pacer.gate(0)


def test_the_clock_never_runs_backwards_when_a_slower_segment_arrives() -> None:
    clock = AcceleratedClock(1_000.0, 1_000.0).start(time.time() - 1.0)
    before = clock.now()
    # a child hears late of a hold that began in the past, at a simulated time behind it
    clock.update({"sim_start": before - 500.0, "speed": 0.0, "real_start": time.time()})
    assert clock.now() == before  # stands still rather than going back
    assert clock.real_at(before + 1) == float("inf")


def test_a_child_clock_stops_at_the_same_gate() -> None:
    demo = AcceleratedClock(0.0, 1e6, until=500.0).start()
    child = AcceleratedClock(0.0, 1.0).update(demo.to_dict())
    time.sleep(0.01)  # 10,000 simulated seconds: far past the gate, were there none
    assert demo.now() == child.now() == 500.0
    child.update(demo.open_until(900.0).to_dict())
    time.sleep(0.01)
    assert child.now() == 900.0 and child.until == 900.0
