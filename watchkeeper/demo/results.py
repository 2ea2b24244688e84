"""Which alert caught which incident, how late, and which alerts caught nothing.

An alert belongs to an incident when it started between the incident's injection and
one window after its end (concept drift ends two windows after the retrained version is
in place, at the latest when the next incident starts) *and* it is what the incident is
expected to raise: its rule with its labels, or one of the symptoms it declares
(:attr:`Incident.also`). An incident is *detected* when its expected rule, with the
expected labels, fired within ``max_delay`` windows of the injection. Every other alert
is a false alarm — also one that fires while an incident runs (a collector falling
behind raises a traffic drop or a dataset drift that no incident caused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.demo.incidents import Incident

__all__ = ["AlertSeen", "Detection", "duration_text", "match_alerts", "when"]


@dataclass(frozen=True)
class AlertSeen:
    """An alert as ``GET /v1/alerts`` lists it."""

    rule: str
    labels: Mapping[str, str]
    started_at: float
    resolved_at: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``Rule{label=value, ...}`` (without the drift method label)."""
        shown = {k: v for k, v in self.labels.items() if k not in ("method", "stat")}
        inner = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
        return f"{self.rule}{{{inner}}}" if inner else self.rule

    @classmethod
    def from_api(cls, doc: Mapping[str, Any]) -> AlertSeen:
        return cls(
            str(doc["rule"]),
            dict(doc.get("labels") or {}),
            float(doc["started_at"]),
            None if doc.get("resolved_at") is None else float(doc["resolved_at"]),
            dict(doc.get("evidence") or {}),
        )


@dataclass(frozen=True)
class Detection:
    """One incident's outcome."""

    incident: Incident
    injected_at: float
    detected_by: AlertSeen | None
    alerts: tuple[AlertSeen, ...]
    max_delay_seconds: float

    @property
    def detected_at(self) -> float | None:
        return None if self.detected_by is None else self.detected_by.started_at

    @property
    def delay(self) -> float | None:
        at = self.detected_at
        return None if at is None else at - self.injected_at

    @property
    def ok(self) -> bool:
        return self.detected_by is not None

    def to_dict(self, window_seconds: float) -> dict[str, Any]:
        delay = self.delay
        return {
            "number": self.incident.number,
            "key": self.incident.key,
            "title": self.incident.title,
            "expected_rule": self.incident.rule,
            "injected_at": self.injected_at,
            "detected_at": self.detected_at,
            "alert": None if self.detected_by is None else self.detected_by.name,
            "delay_seconds": delay,
            "delay_windows": None if delay is None else delay / window_seconds,
            "max_delay_windows": self.incident.max_delay,
            "detected": self.ok,
            "alerts": [a.name for a in self.alerts],
        }


def _expected(incident: Incident, alert: AlertSeen) -> bool:
    return alert.rule == incident.rule and all(
        alert.labels.get(k) == v for k, v in incident.labels.items()
    )


def _attributable(incident: Incident, alert: AlertSeen) -> bool:
    """The incident's expected alert, or a symptom it declares (``Rule`` or
    ``Rule{label=value}``)."""
    if _expected(incident, alert):
        return True
    for symptom in incident.also:
        rule, _, inner = symptom.partition("{")
        wanted = dict(kv.split("=", 1) for kv in inner.rstrip("}").split(",") if kv)
        if alert.rule == rule and all(alert.labels.get(k) == v for k, v in wanted.items()):
            return True
    return False


def match_alerts(
    incidents: Sequence[Incident],
    alerts: Sequence[AlertSeen],
    *,
    start: float,
    window_seconds: float,
    recovered_at: float | None = None,
) -> tuple[list[Detection], list[AlertSeen]]:
    """Attribute alerts to incidents; returns ``(detections, false_alarms)``.

    ``start`` is the simulated time of the first window; ``recovered_at`` when the
    retrained model took over (ends concept drift).

    Examples
    --------
    >>> from watchkeeper.demo.incidents import Scenario
    >>> s = Scenario()
    >>> first = s.incidents[0]
    >>> seen = [AlertSeen("FeatureDrifting", {"feature": "loan_amount"}, 9 * 60.0),
    ...         AlertSeen("FeatureMissing", {"feature": "age"}, 2 * 60.0),
    ...         AlertSeen("TrafficDrop", {}, 8 * 60.0)]
    >>> found, false = match_alerts([first], seen, start=0.0, window_seconds=60.0)
    >>> found[0].delay / 60, [a.name for a in false]
    (3.0, ['FeatureMissing{feature=age}', 'TrafficDrop'])
    """
    spans = []
    for i, incident in enumerate(incidents):
        begin = start + incident.start * window_seconds
        following = (
            start + incidents[i + 1].start * window_seconds
            if i + 1 < len(incidents)
            else float("inf")
        )
        if incident.windows is not None:
            end = begin + (incident.windows + 1) * window_seconds
        elif recovered_at is not None:
            end = min(recovered_at + 2 * window_seconds, following)
        else:
            end = following
        spans.append((begin, end))
    detections = []
    claimed: set[int] = set()
    for incident, (begin, end) in zip(incidents, spans, strict=True):
        mine = [a for a in alerts if begin <= a.started_at <= end and _attributable(incident, a)]
        claimed.update(id(a) for a in mine)
        deadline = begin + incident.max_delay * window_seconds
        hits = sorted(
            (a for a in mine if _expected(incident, a) and a.started_at <= deadline),
            key=lambda a: a.started_at,
        )
        detections.append(
            Detection(
                incident,
                begin,
                hits[0] if hits else None,
                tuple(sorted(mine, key=lambda a: a.started_at)),
                incident.max_delay * window_seconds,
            )
        )
    false_alarms = [a for a in alerts if id(a) not in claimed]
    return detections, false_alarms


def when(t: float | None) -> str:
    """A simulated time as ``Tue 14:00`` (UTC); ``-`` for none."""
    if t is None:
        return "-"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%a %H:%M")


def duration_text(seconds: float | None) -> str:
    """``2h30`` / ``45 min``; ``-`` for none."""
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60}h{minutes % 60:02d}"
