"""Alert rules evaluated on a real Monitor's metric points, window by window."""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.alerts.engine import DRIFT_METRICS, AlertEngine, AlertEvent
from watchkeeper.alerts.rules import parse_rules
from watchkeeper.errors import RuleError
from watchkeeper.metrics import FEATURE_DRIFT, POINT_NAMES, metric
from watchkeeper.monitor import ManualClock, Monitor
from watchkeeper.store import MemoryStore

W = 60.0


def _setup(rules: list[dict]) -> tuple[Monitor, AlertEngine, list[AlertEvent], np.random.Generator]:
    rng = np.random.default_rng(3)
    ref = {
        "age": rng.normal(40, 10, 20_000),
        "city": rng.choice(["a", "b", "c"], 20_000),
        "prediction": rng.choice(["no", "yes"], 20_000, p=[0.7, 0.3]),
    }
    store = MemoryStore()
    monitor = Monitor(
        "m",
        reference=ref,
        store=store,
        clock=ManualClock(),
        grace=0,
        rollups=(),
        max_future_skew=None,
    )
    events: list[AlertEvent] = []
    engine = AlertEngine(parse_rules(rules), store, notify=events.append)
    return monitor, engine, events, rng


def _window(
    monitor: Monitor,
    engine: AlertEngine,
    rng: np.random.Generator,
    w: int,
    *,
    shift: float = 0.0,
    error_share: float = 0.0,
    n: int = 1_000,
    ids: bool = False,
) -> None:
    feats = {"age": rng.normal(40 + shift, 10, n), "city": rng.choice(["a", "b", "c"], n)}
    preds = rng.choice(["no", "yes"], n, p=[0.7, 0.3])
    errors = np.where(rng.random(n) < error_share, "timeout", None)
    monitor.log(
        feats,
        preds,
        timestamps=w * W + rng.uniform(0, W, n),
        error=errors,
        ids=[f"{w}-{i}" for i in range(n)] if ids else None,
    )
    monitor.tick((w + 1) * W)  # the window closes at its end (grace 0)
    engine.evaluate("m", "1", W, now=(w + 1) * W)


def test_a_feature_drifting_two_windows_in_a_row_fires_then_resolves() -> None:
    monitor, engine, events, rng = _setup(
        [
            {
                "name": "FeatureDrifting",
                "metric": "feature_drifted",
                "labels": {"feature": "*"},
                "over": 2,
                "aggregate": "min",
                "op": ">=",
                "threshold": 1,
                "summary": "{feature} drifted for 2 windows (value {value})",
            }
        ]
    )
    for w in range(14):
        _window(monitor, engine, rng, w, shift=6.0 if 6 <= w < 10 else 0.0)
        if w == 6:
            assert events == []  # one drifted window is not two
    kinds = [(e.kind, e.labels.get("feature"), e.at) for e in events]
    assert kinds == [("firing", "age", 8 * W), ("resolved", "age", 11 * W)]
    fired = events[0]
    assert fired.evidence["windows"] == [[6 * W, 1.0], [7 * W, 1.0]]
    (drifted,) = fired.evidence["drifted_features"]  # the evidence names the statistic
    assert drifted["feature"] == "age" and drifted["statistic"] > drifted["threshold"]
    assert fired.evidence["summary"] == "age drifted for 2 windows (value 1.0)"
    history = monitor.store.alerts("m")
    assert [(a.rule, a.state, a.started_at, a.resolved_at) for a in history] == [
        ("FeatureDrifting", "resolved", 8 * W, 11 * W)
    ]


def test_for_duration_keeps_short_blips_quiet() -> None:
    monitor, engine, events, rng = _setup(
        [
            {
                "name": "HighErrorRate",
                "metric": "error_rate",
                "op": ">",
                "threshold": 0.05,
                "for": "5m",
                "severity": "critical",
            }
        ]
    )
    for w in range(20):
        blip = w in (2, 3)  # two bad minutes: shorter than 5m
        sustained = 8 <= w < 16
        _window(monitor, engine, rng, w, error_share=0.2 if blip or sustained else 0.0)
    assert [(e.kind, e.at) for e in events] == [("firing", 14 * W), ("resolved", 17 * W)]
    assert events[0].evidence["severity"] == "critical"
    assert engine.active() == []


def test_a_guard_holds_accuracy_back_until_labels_cover_enough() -> None:
    monitor, engine, events, rng = _setup(
        [
            {
                "name": "LowAccuracy",
                "metric": "accuracy",
                "op": "<",
                "threshold": 0.8,
                "when": {"metric": "label_coverage", "op": ">", "threshold": 0.3},
            }
        ]
    )
    for w in range(3):
        _window(monitor, engine, rng, w, ids=True)
    # labels for 10% of window 0 (all wrong), later 50% of window 1 (all wrong)
    monitor.log_labels([f"0-{i}" for i in range(100)], ["maybe"] * 100)
    engine.evaluate("m", "1", W, now=3 * W)
    assert events == []  # accuracy is 0 but coverage 10%: not yet trusted
    monitor.log_labels([f"2-{i}" for i in range(500)], ["maybe"] * 500)
    engine.evaluate("m", "1", W, now=3 * W)
    assert [e.kind for e in events] == ["firing"]


def test_a_custom_metric_above_its_baseline() -> None:
    monitor, engine, events, rng = _setup(
        [
            {
                "name": "TypingSurge",
                "metric": "custom_metric",
                "labels": {"metric": "typing_share", "stat": "mean"},
                "op": ">",
                "baseline": {"over": 5, "aggregate": "avg", "factor": 1.5},
            }
        ]
    )
    for w in range(10):
        share = 0.6 if w == 8 else 0.2 + 0.01 * (w % 2)
        monitor.log_metric("typing_share", share, timestamp=w * W + 1)
        _window(monitor, engine, rng, w, n=50)
    assert [(e.kind, e.at) for e in events] == [("firing", 9 * W), ("resolved", 10 * W)]
    assert events[0].evidence["threshold"] == pytest.approx(
        1.5 * np.mean([0.21, 0.2, 0.21, 0.2, 0.21])
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "A", "metric": "nope", "op": ">", "threshold": 1}, "rules[0] (A).metric"),
        (
            {
                "name": "A",
                "metric": "error_rate",
                "op": ">",
                "threshold": 1,
                "labels": {"kind": "~(unclosed"},
            },
            "rules[0] (A).labels.kind",
        ),
        (
            {"name": "A", "metric": "error_rate", "op": ">", "threshold": 1, "for": "soon"},
            "rules[0] (A).for",
        ),
        ({"name": "A", "metric": "error_rate", "op": ">"}, "rules[0] (A).threshold"),
        (
            {"name": "A", "metric": "error_rate", "op": ">", "threshold": 1, "colour": 1},
            "rules[0] (A).colour",
        ),
        (
            {"name": "A", "metric": "error_rate", "op": ">", "threshold": 1, "over": 0},
            "rules[0] (A).over",
        ),
    ],
)
def test_rule_errors_name_the_rule_and_the_field(rule: dict, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rules([rule], known_metrics={"error_rate", "accuracy"})
    assert str(info.value).startswith(message)


def test_rules_may_use_the_catalogues_names_by_default() -> None:
    every = [
        {"name": f"R{i}", "metric": name, "op": ">", "threshold": 0}
        for i, name in enumerate(sorted(POINT_NAMES))
    ]
    assert [r.metric for r in parse_rules(every)] == sorted(POINT_NAMES)
    with pytest.raises(RuleError, match=r"unknown metric 'latency'; expected accuracy, ") as info:
        parse_rules([{"name": "A", "metric": "latency", "op": ">", "threshold": 1}])
    assert "latency_seconds" in str(info.value)


def test_drift_evidence_names_are_catalogued_drift_points() -> None:
    assert DRIFT_METRICS <= POINT_NAMES
    assert {metric(name).family for name in DRIFT_METRICS} == {"inputs"}
    assert {FEATURE_DRIFT.statistic, FEATURE_DRIFT.drifted} <= DRIFT_METRICS


def test_a_long_firing_alert_reminds_every_repeat_interval() -> None:
    monitor, engine, events, rng = _setup(
        [
            {
                "name": "HighErrorRate",
                "metric": "error_rate",
                "op": ">",
                "threshold": 0.05,
                "repeat": "3m",
            }
        ]
    )
    for w in range(12):
        _window(monitor, engine, rng, w, error_share=0.3 if 2 <= w < 10 else 0.0)
    assert [(e.kind, e.at) for e in events] == [
        ("firing", 3 * W),
        ("reminder", 6 * W),
        ("reminder", 9 * W),
        ("resolved", 11 * W),
    ]
    assert events[-1].evidence["started_at"] == 3 * W  # the resolution knows when it began
    (record,) = monitor.store.alerts("m")
    assert record.state == "resolved"
