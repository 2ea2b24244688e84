"""Alerts of a running collector: ``alerts`` lists them, ``silence`` holds them back."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli._console import console, error_console
from watchkeeper.cli._http import api_client

__all__ = ["alerts", "silence"]


def alerts(
    url: Annotated[str, typer.Option(help="Collector URL")] = "http://127.0.0.1:8000",
    model: Annotated[str | None, typer.Option(help="Only this model")] = None,
    state: Annotated[str | None, typer.Option(help="firing or resolved")] = None,
) -> None:
    """List alerts (newest first) and pending ones from a running collector."""
    import datetime as dt

    import httpx

    params = {k: v for k, v in (("model", model), ("state", state)) if v}
    try:
        with api_client(url, None) as client:
            doc = client.get("/v1/alerts", params=params).raise_for_status().json()
    except httpx.HTTPError as exc:
        error_console.print(f"error: {url}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    table = Table(title=f"alerts at {url}")
    for name in ("id", "state", "rule", "model", "labels", "since", "value", "summary"):
        table.add_column(name, no_wrap=name in ("id", "state", "rule", "model"))

    def when(t: float | None) -> str:
        return "" if t is None else dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")

    for a in doc["alerts"]:
        state_text = a["state"] + (" (silenced)" if a["silenced"] else "")
        colour = "red" if a["state"] == "firing" else "green"
        table.add_row(
            str(a["id"]),
            f"[{colour}]{state_text}[/{colour}]",
            a["rule"],
            a["model"],
            ", ".join(f"{k}={v}" for k, v in a["labels"].items()),
            when(a["started_at"]),
            str(a["evidence"].get("value")),
            str(a["evidence"].get("summary", "")),
        )
    for p in doc["pending"]:
        labels = ", ".join(f"{k}={v}" for k, v in p["labels"].items())
        table.add_row("", "[yellow]pending[/yellow]", p["rule"], p["model"], labels, "", "", "")
    console.print(table)


def silence(
    match: Annotated[list[str], typer.Option(help="label=value (repeat for several)")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 2h")] = "1h",
    comment: Annotated[str, typer.Option(help="Why")] = "",
    url: Annotated[str, typer.Option(help="Collector URL")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(help="API key for writes")] = None,
) -> None:
    """Hold back notifications of matching alerts for a while."""
    import httpx

    matchers = {}
    for item in match:
        key, sep, value = item.partition("=")
        if not sep or not key:
            error_console.print(f"error: --match {item!r}: expected label=value", markup=False)
            raise typer.Exit(2)
        matchers[key] = value
    body = {"matchers": matchers, "duration": duration, "comment": comment}
    try:
        with api_client(url, api_key) as client:
            r = client.post("/v1/silences", json=body)
    except httpx.HTTPError as exc:
        error_console.print(f"error: {url}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    if r.status_code != 200:
        error_console.print(f"error: {r.status_code}: {r.text}", markup=False, highlight=False)
        raise typer.Exit(2)
    import datetime as dt

    doc = r.json()
    until = dt.datetime.fromtimestamp(float(doc["ends_at"]), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    matched = ", ".join(f"{k}={v}" for k, v in matchers.items())
    console.print(
        f"silence {doc['id']} until {until} UTC: {matched}", markup=False, highlight=False
    )
