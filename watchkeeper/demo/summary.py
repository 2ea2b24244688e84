"""The demo's outcome: the table printed at the end, and the same facts as JSON."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from watchkeeper.demo.display import Status
from watchkeeper.demo.loadgen import LoadGenerator
from watchkeeper.demo.plan import MODEL, Plan
from watchkeeper.demo.results import AlertSeen, Detection, duration_text, when

__all__ = ["print_results", "summarise"]


def _retraining(status: Status) -> dict[str, Any] | None:
    for a in status.alerts:
        action = (a.get("evidence") or {}).get("action")
        if action:
            out = dict(action)
            stdout = str(out.pop("stdout", "") or "").strip().splitlines()
            out.pop("stderr", None)
            with contextlib.suppress(ValueError, IndexError):
                out["result"] = json.loads(stdout[-1])
            out["alert"] = AlertSeen.from_api(a).name
            return out
    return None


def _mean_accuracy(api: httpx.Client, version: str, since: float, until: float) -> float | None:
    """Mean accuracy of a version's windows (``GET /v1/models/{model}/metrics``)."""
    params: dict[str, str | float] = {
        "metric": "accuracy",
        "version": version,
        "since": since,
        "until": until,
    }
    try:
        points = api.get(f"/v1/models/{MODEL}/metrics", params=params).json()["points"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    values = [p["value"] for p in points if p["value"] is not None]
    return sum(values) / len(values) if values else None


def summarise(
    p: Plan,
    detections: list[Detection],
    false_alarms: list[AlertSeen],
    status: Status,
    api: httpx.Client,
    gen: LoadGenerator,
) -> dict[str, Any]:
    retraining = _retraining(status)
    concept = p.scenario.incident("concept_drift")
    drift_at = p.start + concept.start * p.window
    before = _mean_accuracy(api, "1", p.start, drift_at)
    during = _mean_accuracy(api, "1", drift_at, p.end)
    after = _mean_accuracy(api, "2", drift_at, p.end)
    promoted = status.promoted
    ok = all(d.ok for d in detections) and not false_alarms and promoted == "2"
    return {
        "ok": ok,
        "window_seconds": p.window,
        "grace_seconds": p.grace,
        "start": p.start,
        "end": p.end,
        "speed": p.speed,
        "incidents": [d.to_dict(p.window) for d in detections],
        "false_alarms": [
            {"alert": a.name, "started_at": a.started_at, "evidence": dict(a.evidence)}
            for a in false_alarms
        ],
        "alerts": [
            {
                "alert": AlertSeen.from_api(a).name,
                "state": a["state"],
                "started_at": a["started_at"],
                "resolved_at": a["resolved_at"],
            }
            for a in status.alerts
        ],
        "promoted_version": promoted,
        "promoted_at": status.promoted_at,
        "retraining": retraining,
        "accuracy": {"v1_before_drift": before, "v1_after_drift": during, "v2": after},
        "traffic": {
            "requests": gen.stats.requests,
            "failed_requests": gen.stats.failed,
            "rows": gen.stats.rows,
            "labels": gen.stats.labels,
        },
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_results(
    console: Console,
    p: Plan,
    detections: list[Detection],
    false_alarms: list[AlertSeen],
    summary: dict[str, Any],
) -> None:
    table = Table(title="watchkeeper demo: incidents and their alerts")
    for name in ("incident", "injected at", "detected at", "alert", "delay"):
        table.add_column(name)
    for d in detections:
        if d.detected_by is None:
            alert = "[red]not detected[/red]"
            if d.alerts:
                alert += " (" + ", ".join(a.name for a in d.alerts) + ")"
        else:
            alert = d.detected_by.name
            extra = [a.name for a in d.alerts if a is not d.detected_by]
            if extra:
                alert += " + " + ", ".join(dict.fromkeys(extra))
        table.add_row(
            f"{d.incident.number}. {d.incident.short or d.incident.title}",
            when(d.injected_at),
            when(d.detected_at),
            alert,
            duration_text(d.delay)
            + ("" if d.detected_by else f" (> {duration_text(d.max_delay_seconds)})"),
        )
    console.print(table)
    r = summary.get("retraining") or {}
    result = r.get("result") or {}
    acc = summary["accuracy"]
    if summary["promoted_version"]:
        console.print(
            f"retraining: {r.get('alert')} started it at {when(r.get('started_at'))}; version "
            f"{summary['promoted_version']} trained on {result.get('trained_rows', '?')} "
            f"recent labelled applications (held-out accuracy "
            f"{_fmt(result.get('holdout_accuracy'))}), promoted at "
            f"{when(summary['promoted_at'])}"
        )
    else:
        console.print(
            f"[red]retraining: no version promoted[/red] ({r.get('status', 'not started')})"
        )
    console.print(
        f"accuracy: v1 {_fmt(acc['v1_before_drift'])} before the concept drift, "
        f"{_fmt(acc['v1_after_drift'])} after it; v2 {_fmt(acc['v2'])}"
    )
    if false_alarms:
        console.print(
            "[red]false alarms (alerts no incident explains):[/red] "
            + ", ".join(f"{a.name} at {when(a.started_at)}" for a in false_alarms)
        )
    else:
        console.print("false alarms (alerts no incident explains): none")
    pacing = summary.get("pacing") or {}
    if pacing.get("holds"):
        console.print(
            f"pacing: the replay waited {pacing['holds']} times for the collector, "
            f"{pacing['held_seconds']:.0f} s in all (a busy machine: slower, not wrong)"
        )
    t = summary["traffic"]
    console.print(
        f"traffic: {t['requests']:,} requests ({t['rows']:,} applications, "
        f"{t['failed_requests']} failed), {t['labels']:,} outcomes; "
        f"windows of {duration_text(p.window)}, grace {duration_text(p.grace)}"
    )
    console.print(
        "[green]all incidents detected[/green]" if summary["ok"] else "[red]demo failed[/red]"
    )
