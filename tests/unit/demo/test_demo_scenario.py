"""The demo's scenario, without any server: the requests the load generator would send,
scored by the demo model, through a Monitor and the default rules of ``watchkeeper
init``. Every incident is caught by its expected rule in time, and nothing else fires.
(The full loop — HTTP, middleware, late labels, retraining — is tests/integration/
test_demo.py.)"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
import pytest
import yaml

from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.demo.data import BEFORE, FEATURES, label, sample_applications
from watchkeeper.demo.incidents import Scenario
from watchkeeper.demo.loadgen import Traffic, window_requests
from watchkeeper.demo.model import train_model
from watchkeeper.demo.results import AlertSeen, match_alerts
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.analysis import POINT_NAMES
from watchkeeper.service.config import EXAMPLE

W = 1800.0


@pytest.mark.slow
def test_default_rules_catch_every_incident_in_time_and_nothing_else() -> None:
    rng = np.random.default_rng(5)
    train = sample_applications(rng, 12_000)
    model = train_model(train, label(train, BEFORE, rng))
    ref = sample_applications(rng, 6_000)
    ref["prediction"], ref["score"] = model.predict(ref)
    scenario, traffic = Scenario(), Traffic(W)
    clock = ManualClock(0.0)
    monitor = Monitor(
        "credit-risk", reference=ref, store="memory://", clock=clock, window=W, grace=W / 2,
        rollups=(), max_future_skew=None,  # the clock is set after each window's rows
    )  # fmt: skip
    rules = parse_rules(yaml.safe_load(EXAMPLE)["rules"], known_metrics=set(POINT_NAMES))
    events: list[AlertEvent] = []
    engine = AlertEngine(rules, monitor.store, notify=events.append)
    outcomes: list[tuple[float, str, str]] = []
    evaluated = None
    for w in range(scenario.windows):
        requests = window_requests(scenario, traffic, 0.0, w, rng)
        frame = pd.DataFrame.from_records([r for req in requests for r in req.records])
        for name in FEATURES[:6]:
            frame[name] = pd.to_numeric(frame[name]).astype(float)
        per_row = [req.conditions for req in requests for _ in req.records]
        decisions, scores = model.predict(frame)
        for i, c in enumerate(per_row):
            if c.empty_band is not None and c.empty_band[0] <= scores[i] <= c.empty_band[1]:
                decisions[i] = None
        slow = np.array([c.slowdown_seconds for c in per_row])
        monitor.log(
            frame[list(FEATURES)],
            {"prediction": decisions, "score": scores},
            ids=frame["id"].tolist(),
            timestamps=frame["submitted_at"].to_numpy(),
            latency=rng.exponential(0.01, len(frame)) + slow,
        )
        for req in requests:
            load = 1.4 if req.conditions.slowdown_seconds else 0.05
            monitor.log_metric("server_load", load, timestamp=req.time)
            delays = rng.uniform(0.2, 1.2, len(req.records)) * W
            for rec, y, d in zip(req.records, req.labels, delays, strict=True):
                heapq.heappush(outcomes, (rec["submitted_at"] + d, rec["id"], y))
        for step in (0.5, 1.0):  # outcomes twice a window, then let time pass
            now = (w + step) * W
            due = []
            while outcomes and outcomes[0][0] <= now:
                due.append(heapq.heappop(outcomes))
            if due:
                monitor.log_labels([d[1] for d in due], [d[2] for d in due])
            clock.set(now)
            monitor.tick()
            if monitor.last_closed is not None and monitor.last_closed != evaluated:
                evaluated = monitor.last_closed
                engine.evaluate("credit-risk", "1", W, now=evaluated + W)
    seen = [AlertSeen(e.rule.name, dict(e.labels), e.at) for e in events if e.kind == "firing"]
    found, false = match_alerts(scenario.incidents, seen, start=0.0, window_seconds=W)
    report = [(d.incident.key, d.detected_by, d.alerts) for d in found]
    assert all(d.ok for d in found), report
    assert false == [], false
    overload = next(d for d in found if d.incident.key == "overload")
    assert {a.rule for a in overload.alerts} == {"ServerLoad", "SlowPredictions"}
