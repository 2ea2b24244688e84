"""HTTP notifiers: a webhook in Alertmanager's format, a Slack-style message, the log."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

import httpx

from watchkeeper.alerts.engine import AlertEvent

__all__ = ["LogNotifier", "SlackNotifier", "WebhookNotifier", "alertmanager_payload"]

log = logging.getLogger("watchkeeper.alerts")
_ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat().replace("+00:00", "Z")


def alert_labels(event: AlertEvent) -> dict[str, str]:
    return {
        "alertname": event.rule.name,
        "model": event.model,
        "version": event.version,
        "severity": event.rule.severity,
        **{str(k): str(v) for k, v in event.labels.items()},
    }


def alertmanager_payload(event: AlertEvent) -> dict[str, Any]:
    """The body Alertmanager sends to webhook receivers (version 4), for one event."""
    labels = alert_labels(event)
    annotations = {
        "summary": str(event.evidence.get("summary", "")),
        "runbook_url": event.rule.runbook,
        "value": str(event.evidence.get("value")),
        "threshold": str(event.evidence.get("threshold")),
    }
    status = "resolved" if event.kind == "resolved" else "firing"
    started = event.evidence.get("started_at", event.at)
    fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "version": "4",
        "groupKey": f"{{}}:{{alertname={event.rule.name!r}}}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "watchkeeper",
        "groupLabels": {"alertname": event.rule.name},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": _iso(float(started)),
                "endsAt": _iso(event.at) if status == "resolved" else _ZERO_TIME,
                "generatorURL": "",
                "fingerprint": fingerprint,
            }
        ],
    }


class WebhookNotifier:
    """POST the Alertmanager webhook body to ``url`` (existing receivers work as they are)."""

    def __init__(self, name: str, url: str, *, timeout: float = 5.0) -> None:
        self.name, self.url, self.timeout = name, url, timeout

    def send(self, event: AlertEvent) -> None:
        r = httpx.post(self.url, json=alertmanager_payload(event), timeout=self.timeout)
        r.raise_for_status()


class SlackNotifier:
    """POST a Slack incoming-webhook message (``{"text": ...}``)."""

    def __init__(self, name: str, url: str, *, timeout: float = 5.0) -> None:
        self.name, self.url, self.timeout = name, url, timeout

    def send(self, event: AlertEvent) -> None:
        r = httpx.post(self.url, json={"text": message(event)}, timeout=self.timeout)
        r.raise_for_status()


class LogNotifier:
    """Write the alert to the ``watchkeeper.alerts`` log."""

    def __init__(self, name: str = "log") -> None:
        self.name = name

    def send(self, event: AlertEvent) -> None:
        log.warning("%s", message(event, icon=False))


def message(event: AlertEvent, *, icon: bool = True) -> str:
    """One line for humans: state, rule, model, labels, value and summary. ``icon``: a
    leading Slack emoji code (chat apps draw it; a log file would show it as text)."""
    shown = ":white_check_mark:" if event.kind == "resolved" else ":rotating_light:"
    labels = ", ".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
    summary = event.evidence.get("summary") or ""
    return (
        f"{shown + ' ' if icon else ''}"
        f"[{event.kind.upper()}] {event.rule.name} ({event.rule.severity}) on "
        f"{event.model} v{event.version}{' ' + labels if labels else ''}: value "
        f"{event.evidence.get('value')} {event.rule.op} {event.evidence.get('threshold')}"
        f"{' - ' + summary if summary else ''}"
        f"{' runbook: ' + event.rule.runbook if event.rule.runbook else ''}"
    )
