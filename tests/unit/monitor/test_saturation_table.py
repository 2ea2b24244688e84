"""Saturation samples in the collector: kept per instance (bounded), merged exactly,
written as points against NumPy, and caught by the default rules."""

from __future__ import annotations

import random

import numpy as np
import pytest
import yaml

from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.metrics import POINT_NAMES, SATURATION
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.monitor.saturation import MAX_INSTANCES, OTHER, ResourceTable
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile
from watchkeeper.schema import Schema
from watchkeeper.service.config import EXAMPLE

W = 60.0
CPU = "process_cpu_utilisation"
RSS = "process_memory_rss_bytes"


def _monitor(**kw: object) -> Monitor:
    return Monitor("m", store="memory://", clock=ManualClock(0.0), grace=0, rollups=(),
                   max_future_skew=None, **kw)  # type: ignore[arg-type]  # fmt: skip


def _sample(m: Monitor, instance: str, name: str, value: float, t: float) -> None:
    m.log_metric(name, value, {"instance_id": instance}, timestamp=t)


def test_points_are_the_mean_and_max_of_each_instances_samples() -> None:
    rng = np.random.default_rng(3)
    m = _monitor()
    m.log({"age": 1.0}, timestamps=1.0)
    samples = {name: rng.uniform(0, 1, 12) for name in ("web-1", "web-2")}
    for instance, values in samples.items():
        for i, v in enumerate(values):
            _sample(m, instance, CPU, float(v), 5.0 * i)
    m.tick(2 * W)
    points = m.metrics(CPU)
    for instance, values in samples.items():
        mine = points[points["instance_id"] == instance].set_index("stat")["value"]
        assert mine["mean"] == pytest.approx(np.mean(values))
        assert mine["max"] == pytest.approx(np.max(values))
    assert m.metrics("custom_metric").empty  # not custom series


def test_samples_alone_do_not_fix_a_schemaless_models_schema() -> None:
    m = _monitor()
    _sample(m, "web-1", CPU, 0.5, 1.0)
    assert m.schema is None
    m.log({"age": 30.0, "plan": "a"}, timestamps=2.0)
    _sample(m, "web-1", CPU, 0.7, 3.0)
    m.tick(2 * W)
    assert {c.name for c in m.schema} == {"age", "plan"}
    assert m.metrics(CPU, stat="max")["value"].tolist() == [0.7]


def _random_table(rng: random.Random, names: list[str]) -> ResourceTable:
    table = ResourceTable()
    for _ in range(60):
        table.add(rng.choice(names), rng.choice(SATURATION), rng.uniform(0, 10))
    return table


def _canonical(table: ResourceTable) -> dict[str, dict[str, list[float]]]:
    return {i: {n: [round(x, 9) for x in s] for n, s in row.items()}
            for i, row in table.to_json().items()}  # fmt: skip


def test_instances_are_bounded_to_those_sorting_first_whatever_the_order() -> None:
    rng = random.Random(1)
    names = [f"pod-{i:03d}" for i in range(MAX_INSTANCES + 10)]
    samples = [(name, CPU, float(i)) for i, name in enumerate(names)]
    tables = []
    for _ in range(3):
        rng.shuffle(samples)
        table = ResourceTable()
        for instance, name, value in samples:
            table.add(instance, name, value)
        tables.append(_canonical(table))
    assert tables[0] == tables[1] == tables[2]
    kept = set(tables[0]) - {OTHER}
    assert kept == set(names[:MAX_INSTANCES])
    other = tables[0][OTHER][CPU]
    assert other[0] == 10 and other[2] == MAX_INSTANCES and other[3] == MAX_INSTANCES + 9


def test_merge_is_commutative_associative_and_equals_one_table_of_all_samples() -> None:
    rng = random.Random(7)
    names = [f"i{k}" for k in range(MAX_INSTANCES + 8)]
    a, b, c = (_random_table(rng, names) for _ in range(3))
    assert _canonical(a.merge(b)) == _canonical(b.merge(a))
    assert _canonical(a.merge(b).merge(c)) == _canonical(a.merge(b.merge(c)))
    counts = sum(s[0] for t in (a, b, c) for row in t.instances.values() for s in row.values())
    merged = a.merge(b).merge(c)
    assert sum(s[0] for row in merged.instances.values() for s in row.values()) == counts
    assert len(merged) <= MAX_INSTANCES + 1


def test_window_state_bytes_keep_the_samples_and_read_older_states() -> None:
    table = ResourceTable()
    table.add("web-1", RSS, 1e8)
    table.add("web-1", RSS, 3e8)
    state = WindowState(DatasetProfile(Schema(())))
    state.resources = table
    back = WindowState.from_bytes(state.to_bytes())
    assert back.resources.to_json() == {"web-1": {RSS: [2.0, 4e8, 1e8, 3e8]}}
    assert ResourceTable.from_json(None).to_json() == {}  # a state written before


def _rules(*names: str) -> list:
    rules = parse_rules(yaml.safe_load(EXAMPLE)["rules"], known_metrics=set(POINT_NAMES))
    return [r for r in rules if r.name in names]


def _run(series: dict[str, list[float]], name: str, rule: str) -> list[tuple[str, int, str]]:
    """Feed one sample per instance every 5 s of each window; the alert events by window."""
    m = _monitor()
    m.log({"age": 1.0}, timestamps=0.0)
    events: list[AlertEvent] = []
    engine = AlertEngine(_rules(rule), m.store, notify=events.append)
    n = len(next(iter(series.values())))
    for w in range(n):
        for instance, values in series.items():
            for k in range(12):
                _sample(m, instance, name, values[w], w * W + 5 * k)
        m.tick((w + 1) * W)
        m.flush()
        engine.evaluate("m", "1", W, now=(w + 1) * W)
    m.close()
    return [(e.kind, round(e.at / W), e.labels["instance_id"]) for e in events]


def test_high_cpu_fires_on_the_busy_instance_after_five_minutes_only() -> None:
    busy = [0.3] * 20 + [0.95] * 10 + [0.3] * 5
    events = _run({"web-1": busy, "web-2": [0.3] * 35}, CPU, "HighCpu")
    assert [(k, i) for k, _, i in events] == [("firing", "web-1"), ("resolved", "web-1")]
    fired = events[0][1]
    assert 20 + 5 <= fired <= 20 + 7  # held for 5m from the first busy window


def test_memory_growth_fires_on_a_leak_not_on_a_steady_or_warming_service() -> None:
    rng = np.random.default_rng(2)
    steady = list(3e8 + rng.normal(0, 1e7, 150))
    leak = [3e8 + (max(0, w - 60) * 1.2e7) for w in range(150)]  # +12 MB a minute
    warming = [1e8 + 2e8 * min(1.0, w / 30) for w in range(150)]  # a cache filling, then full
    series = {"steady": steady, "leaky": leak, "warming": warming}
    events = _run(series, RSS, "MemoryGrowth")
    assert [i for k, _, i in events if k == "firing"] == ["leaky"]


def test_samples_do_not_move_event_time() -> None:
    m = _monitor()
    m.log({"age": 1.0}, timestamps=1.0)
    m.log_metric("clicks", 1.0, timestamp=1.0)  # a custom metric moves event time
    assert m.last_closed is None
    _sample(m, "skewed-clock", CPU, 0.5, 10 * W)  # a process whose clock runs ahead
    assert m.last_closed is None  # the open window was not closed by it
    m.log_metric("clicks", 1.0, timestamp=10 * W)
    assert m.last_closed == 0.0
