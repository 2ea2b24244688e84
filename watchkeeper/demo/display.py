"""What the demo shows while it runs: a live view (progress, incidents, alerts as they
fire and resolve), or with ``--headless`` one line per event."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.plan import MODEL, Plan
from watchkeeper.demo.results import AlertSeen, Detection, duration_text, match_alerts, when

__all__ = ["Status", "attribute", "poll", "watch"]


@dataclass
class Status:
    """What the display shows; filled by the main loop."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    promoted: str | None = None
    promoted_at: float | None = None

    def event(self, at: float, text: str) -> None:
        """A line for the screen, about the simulated time ``at`` (thread-safe)."""
        self.events.append((at, text))


def _alert_key(a: dict[str, Any]) -> tuple[Any, ...]:
    return (a["id"], a["state"])


def _incident_table(detections: list[Detection], now: float | None) -> Table:
    table = Table(title="incidents", expand=False)
    for name in ("#", "incident", "injected at", "detected at", "alert", "delay"):
        table.add_column(name, no_wrap=name != "incident")
    for d in detections:
        injected = d.injected_at
        started = now is None or now >= injected
        if d.detected_by is not None:
            detected, alert = when(d.detected_at), f"[green]{d.detected_by.name}[/green]"
            extra = [a.name for a in d.alerts if a is not d.detected_by]
            if extra:
                alert += " + " + ", ".join(dict.fromkeys(extra))
        elif started:
            detected, alert = "[yellow]watching…[/yellow]", ""
        else:
            detected, alert = "", "[dim]scheduled[/dim]"
        table.add_row(
            str(d.incident.number),
            d.incident.short or d.incident.title,
            when(injected),
            detected,
            alert,
            duration_text(d.delay),
        )
    return table


def attribute(p: Plan, status: Status) -> tuple[list[Detection], list[AlertSeen]]:
    seen = [AlertSeen.from_api(a) for a in status.alerts if a["model"] == MODEL]
    return match_alerts(
        p.scenario.incidents,
        seen,
        start=p.start,
        window_seconds=p.window,
        recovered_at=status.promoted_at,
    )


def poll(api: httpx.Client, status: Status) -> list[dict[str, Any]]:
    """Refresh the alerts from ``GET /v1/alerts``; returns the changes."""
    try:
        doc = api.get("/v1/alerts", params={"model": MODEL}).json()
    except (httpx.HTTPError, ValueError):
        return []
    before = {_alert_key(a) for a in status.alerts}
    status.alerts = sorted(doc.get("alerts", []), key=lambda a: (a["started_at"], a["id"]))
    changes = [a for a in status.alerts if _alert_key(a) not in before]
    for a in status.alerts:
        action = (a.get("evidence") or {}).get("action") or {}
        if action.get("promoted") and status.promoted is None:
            status.promoted = str(action["promoted"])
            status.promoted_at = float(action.get("finished_at") or a["started_at"])
    return changes


def _progress_line(p: Plan, now: float, width: int) -> str:
    """``Tue 14:00  window 7/48  1. covariate drift (loan_amount)``, cut to ``width``
    characters (a long line would squeeze the progress bar to nothing)."""
    w = (now - p.start) / p.window
    active = p.scenario.active(w)
    doing = ", ".join(f"{i.number}. {i.short or i.title}" for i in active) or "normal traffic"
    line = (
        f"{when(now)}  window {min(p.scenario.windows, int(w) + 1)}/{p.scenario.windows}  {doing}"
    )
    return line if len(line) <= width else line[: max(1, width - 1)] + "…"


def watch(
    p: Plan,
    clock: AcceleratedClock,
    api: httpx.Client,
    thread: threading.Thread,
    status: Status,
    console: Console,
    *,
    headless: bool,
    waiting: Callable[[], bool] = lambda: False,
) -> None:
    """Follow the replay until it ends: a live view, or (headless) one line per event.
    ``waiting()``: whether the replay is waiting for the collector (said on the bar)."""
    bar = 24
    progress = Progress(
        TextColumn("[bold]replay[/bold]"),
        BarColumn(bar_width=bar),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    )
    task = progress.add_task("", total=p.end - p.start)
    shown_events = 0
    injected: set[int] = set()

    # an alert is stamped at its window's end but seen once the window has closed, a grace
    # period later: lines wait that long (simulated) so they come out in time order
    horizon = p.grace + 2 * p.window
    held: list[tuple[float, str]] = []

    def lines(final: bool = False) -> list[str]:
        """The events that can no longer be preceded by another, in simulated-time order
        (with ``final``, every event left)."""
        nonlocal shown_events
        out: list[tuple[float, str]] = []
        now = clock.now()
        for incident in p.scenario.incidents:
            at = p.start + incident.start * p.window
            if now >= at and incident.number not in injected:
                injected.add(incident.number)
                out.append((at, f"[bold]incident {incident.number}[/bold]: {incident.title}"))
        for a in poll(api, status):
            seen = AlertSeen.from_api(a)
            if a["state"] == "firing":
                summary = (a.get("evidence") or {}).get("summary", "")
                out.append((seen.started_at, f"[red]alert[/red] {seen.name}: {summary}"))
            elif a["state"] == "resolved":
                out.append((seen.resolved_at or now, f"[green]resolved[/green] {seen.name}"))
        events = status.events[shown_events:]
        shown_events += len(events)
        held.extend(out + events)
        held.sort(key=lambda e: e[0])
        cut = len(held) if final else sum(1 for t, _ in held if t <= now - horizon)
        ready = held[:cut]
        del held[:cut]
        return [f"{when(t)}  {text}" for t, text in ready]

    def view() -> Group:
        now = clock.now()
        note = " (waiting for the collector)" if waiting() else ""
        room = console.width - bar - len("replay  100% ") - len(note) - 2
        progress.update(
            task,
            completed=min(now, p.end) - p.start,
            description=_progress_line(p, now, room) + note,
        )
        detections, _ = attribute(p, status)
        return Group(progress, _incident_table(detections, now))

    if headless:
        while thread.is_alive():
            for line in lines():
                console.print(line)
            thread.join(0.5)
        for line in lines(final=True):
            console.print(line)
        return
    with Live(view(), console=console, refresh_per_second=4, transient=True) as live:
        while thread.is_alive():
            for line in lines():
                live.console.print(line)
            live.update(view())
            thread.join(0.25)
        for line in lines(final=True):
            live.console.print(line)
