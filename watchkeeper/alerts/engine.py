"""Evaluating alert rules when windows close: inactive -> pending -> firing -> resolved.

For each rule and each label set its matchers select, the engine reads the rule's metric
over the last ``over`` analysed windows (and the ``baseline`` windows before them),
reduces them, and compares. A condition that holds starts a *pending* alert; one that
has held for ``for`` seconds of event time *fires* (recorded in the store with its
evidence); a firing alert whose condition has been false for ``resolve_after`` seconds
*resolves*. A flapping condition therefore neither fires early nor resolves early.
Time is event time: the end of the newest analysed window.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.alerts.history import amend_alert
from watchkeeper.alerts.rules import AGGREGATES, OPS, Rule, _matches
from watchkeeper.metrics import DATASET_DRIFT, FEATURE_DRIFT, MULTIVARIATE_DRIFT
from watchkeeper.monitor.multivariate import top_causes
from watchkeeper.store import MetricPoint, Store, labels_key

__all__ = ["DRIFT_METRICS", "AlertEngine", "AlertEvent"]

DRIFT_METRICS = frozenset(
    {FEATURE_DRIFT.statistic, FEATURE_DRIFT.drifted, *DATASET_DRIFT, *MULTIVARIATE_DRIFT}
)
"""Rules on these points carry the drifted features (statistic, threshold, method) and
the window's root causes (top features by their part in a multivariate drift, when the
monitor ranked them) in their evidence."""
_EVIDENCE = {
    FEATURE_DRIFT.statistic: "statistic",
    FEATURE_DRIFT.threshold: "threshold",
    FEATURE_DRIFT.drifted: "drifted",
}
"""A feature's drift point -> its key in a drifted feature's evidence."""


@dataclass(frozen=True)
class AlertEvent:
    """A change of an alert's state, for notifiers and actions."""

    kind: str  # "firing", "reminder" (still firing after repeat) or "resolved"
    alert_id: int
    model: str
    version: str
    rule: Rule
    labels: Mapping[str, str]
    at: float
    evidence: Mapping[str, Any]


@dataclass
class _Active:
    since: float
    last_true: float
    fired: bool = False
    notified_at: float = 0.0
    alert_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, values: Mapping[str, Any]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Blank(values))
    except (ValueError, IndexError, AttributeError):
        return template


class AlertEngine:
    """Rules evaluated against a store's metric points.

    Parameters
    ----------
    rules
        Validated rules (:func:`~watchkeeper.alerts.rules.parse_rules`).
    store
        Where the points are read and the alert history written.
    notify
        Called with every :class:`AlertEvent`; its failures are the caller's to record.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        store: Store,
        *,
        notify: Callable[[AlertEvent], None] | None = None,
    ) -> None:
        self.rules = list(rules)
        self.store = store
        self.notify = notify
        self._active: dict[tuple[str, str, str], _Active] = {}

    def evaluate(
        self, model: str, version: str, window_seconds: float, now: float
    ) -> list[AlertEvent]:
        """Evaluate every rule for one model at event time ``now``; returns the changes."""
        events: list[AlertEvent] = []
        for rule in self.rules:
            if rule.model not in ("*", model):
                continue
            depth = rule.over + (rule.baseline.over if rule.baseline else 0)
            since = now - (depth + 1) * window_seconds
            points = [
                p
                for p in self.store.query_points(
                    model,
                    rule.metric,
                    version=version,
                    window_seconds=window_seconds,
                    since=since,
                    until=now,
                )
                if rule.matches(p.labels) and not math.isnan(p.value)
            ]
            series: dict[str, list[MetricPoint]] = {}
            for p in points:
                series.setdefault(labels_key(p.labels), []).append(p)
            guard_ok = self._guard(rule, model, version, window_seconds, since, now)
            seen: set[str] = set()
            for key, pts in series.items():
                pts.sort(key=lambda p: p.window_start)
                recent = pts[-rule.over :]
                if len(recent) < rule.over:
                    continue
                value = float(AGGREGATES[rule.aggregate]([p.value for p in recent]))
                baseline = None
                if rule.baseline is not None:
                    before = pts[: -rule.over][-rule.baseline.over :]
                    if not before:
                        continue
                    agg = AGGREGATES[rule.baseline.aggregate]([p.value for p in before])
                    baseline = float(agg) * rule.baseline.factor
                seen.add(key)
                holds = guard_ok and rule.holds(value, baseline)
                evidence = {
                    "metric": rule.metric,
                    "labels": dict(recent[-1].labels),
                    "value": value,
                    "threshold": rule.threshold if baseline is None else baseline,
                    "op": rule.op,
                    "windows": [[p.window_start, p.value] for p in recent],
                    "reference_id": recent[-1].reference_id,
                }
                if holds and rule.metric in DRIFT_METRICS:
                    evidence["drifted_features"] = self._drifted(
                        model, version, window_seconds, recent[-1].window_start
                    )
                    causes = top_causes(
                        self.store, model, version, window_seconds, recent[-1].window_start
                    )
                    if causes:
                        evidence["root_causes"] = causes
                events += self._step(rule, model, version, key, holds, now, evidence)
            for key in [k for (m, r, k) in self._active if m == model and r == rule.name]:
                if key not in seen:  # no data any more: treat as not holding
                    events += self._step(rule, model, version, key, False, now, None)
        if self.notify is not None:
            for event in events:
                self.notify(event)
        return events

    def _drifted(
        self, model: str, version: str, window_seconds: float, start: float
    ) -> list[dict[str, Any]]:
        """The features drifted in a window, with their statistic, threshold and method."""
        points = self.store.query_points(
            model,
            version=version,
            window_seconds=window_seconds,
            since=start,
            until=start + window_seconds,
        )
        by_feature: dict[tuple[str, str], dict[str, Any]] = {}
        for p in points:
            if p.name in _EVIDENCE:
                ident = (p.labels.get("feature", ""), p.labels.get("method", ""))
                row = by_feature.setdefault(ident, {"feature": ident[0], "method": ident[1]})
                row[_EVIDENCE[p.name]] = p.value
        return [
            {k: v for k, v in row.items() if k != "drifted"}
            for row in sorted(by_feature.values(), key=lambda r: -r.get("statistic", 0.0))
            if row.get("drifted") == 1.0
        ]

    def _guard(
        self, rule: Rule, model: str, version: str, window_seconds: float, since: float, now: float
    ) -> bool:
        if rule.when is None:
            return True
        guard = rule.when
        points = [
            p
            for p in self.store.query_points(
                model,
                guard.metric,
                version=version,
                window_seconds=window_seconds,
                since=since,
                until=now,
            )
            if _matches(guard.labels, p.labels) and not math.isnan(p.value)
        ]
        if not points:
            return False
        latest = max(points, key=lambda p: p.window_start)
        return bool(OPS[guard.op](latest.value, guard.threshold))

    def _step(
        self,
        rule: Rule,
        model: str,
        version: str,
        key: str,
        holds: bool,
        now: float,
        evidence: dict[str, Any] | None,
    ) -> list[AlertEvent]:
        ident = (model, rule.name, key)
        active = self._active.get(ident)
        labels = (evidence or {}).get("labels") or (active.evidence["labels"] if active else {})
        if holds:
            assert evidence is not None
            if active is None:
                active = self._active[ident] = _Active(since=now, last_true=now)
            active.last_true = now
            if active.fired:
                # keep what was recorded at firing (summary, started_at), refresh the values
                active.evidence = {**active.evidence, **evidence}
                if rule.repeat_seconds and now - active.notified_at >= rule.repeat_seconds:
                    active.notified_at = now
                    assert active.alert_id is not None
                    return [
                        AlertEvent(
                            "reminder",
                            active.alert_id,
                            model,
                            version,
                            rule,
                            labels,
                            now,
                            active.evidence,
                        )
                    ]
                return []
            active.evidence = evidence
            if now - active.since >= rule.for_seconds:
                active.fired = True
                active.notified_at = now
                evidence = {
                    **evidence,
                    "summary": _render(rule.summary, {**labels, **evidence}),
                    "runbook": rule.runbook,
                    "severity": rule.severity,
                    "started_at": now,
                }
                active.evidence = evidence
                active.alert_id = self.store.save_alert(
                    model, rule.name, labels, "firing", now, evidence
                )
                return [
                    AlertEvent(
                        "firing", active.alert_id, model, version, rule, labels, now, evidence
                    )
                ]
            return []
        if active is None:
            return []
        if not active.fired:
            del self._active[ident]  # pending that did not last: nothing happened
            return []
        if now - active.last_true < rule.resolve_after_seconds:
            return []
        del self._active[ident]
        assert active.alert_id is not None
        final = {**active.evidence, "resolved_value": (evidence or {}).get("value")}
        # keep what notifiers and actions added to the stored evidence meanwhile
        amend_alert(
            self.store,
            model,
            active.alert_id,
            lambda ev: {**ev, **final},
            state="resolved",
            resolved_at=now,
        )
        return [AlertEvent("resolved", active.alert_id, model, version, rule, labels, now, final)]

    def replace_rules(self, rules: Sequence[Rule]) -> None:
        """New rules; active alerts of rules whose name is kept stay active."""
        self.rules = list(rules)
        names = {r.name for r in rules}
        for ident in [i for i in self._active if i[1] not in names]:
            del self._active[ident]

    def active(self) -> list[tuple[str, str, Mapping[str, str], str]]:
        """``(model, rule, labels, "pending" | "firing")`` of every active alert."""
        return [
            (m, r, a.evidence.get("labels", {}), "firing" if a.fired else "pending")
            for (m, r, _k), a in self._active.items()
        ]
