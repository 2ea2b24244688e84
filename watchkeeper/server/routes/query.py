"""Reads: the configured models and their metric points."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query

from watchkeeper.exporters.prometheus import REASONS
from watchkeeper.server.deps import ServiceDep
from watchkeeper.server.errors import HTTPProblem
from watchkeeper.server.params import split_labels

__all__ = ["router"]

router = APIRouter(tags=["query"])


@router.get("/v1/models")
def list_models(service: ServiceDep) -> dict[str, Any]:
    """Every configured model, its version, window, schema and what it dropped."""
    out = []
    for name, m in service.monitors.items():
        out.append(
            {
                "model": name,
                "version": m.version,
                "window_seconds": m.window_seconds,
                "schema": m.schema.to_dict() if m.schema else None,
                "last_closed_window": m.last_closed,
                "dropped": _dropped(service.counts, name),
            }
        )
    return {"models": out}


def _dropped(counts: Mapping[tuple[str, ...], float], model: str) -> dict[str, Any]:
    """What the model did not take since the collector started: rows and signals
    rejected for their event time (by reason), rows clamped to the future bound, rows
    too late for any window, labels of unknown ids."""
    return {
        "rejected_rows": {
            r: int(counts.get(("rejected_rows", model, r), 0)) for r in REASONS["rejected_rows"]
        },
        "rejected_signals": {
            r: int(counts.get(("rejected_signals", model, r), 0))
            for r in REASONS["rejected_signals"]
        },
        "clamped_rows": int(counts.get(("clamped_predictions", model), 0)),
        "late_dropped_rows": int(counts.get(("late_dropped_rows", model), 0)),
        "unknown_label_ids": int(counts.get(("unknown_label_ids", model), 0)),
    }


@router.get("/v1/models/{model}/metrics")
def get_metrics(
    model: str,
    service: ServiceDep,
    metric: str | None = None,
    since: float | None = None,
    until: float | None = None,
    window: str | None = None,
    version: str | None = None,
    label: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Metric points; ``label=feature:age`` filters (repeatable); times are epoch s."""
    monitor = service.monitor(model)
    try:
        labels = split_labels(label or [])
    except ValueError as exc:
        raise HTTPProblem(
            422, "query.label", f"{exc.args[0]!r} is not key:value", "key:value"
        ) from None
    for name, value in (("since", since), ("until", until)):
        if value is not None and not math.isfinite(value):
            raise HTTPProblem(422, f"query.{name}", f"{value!r}", "a finite epoch time")
    frame = monitor.metrics(
        metric, since=since, until=until, window=window, version=version, **labels
    )
    points = []
    for row in frame.to_dict("records"):
        value = row.pop("value")
        point = {
            "window_start": row.pop("window_start").timestamp(),
            "window_end": row.pop("window_end").timestamp(),
            "version": row.pop("version"),
            "name": row.pop("name"),
            "value": None if value is None or math.isnan(value) else value,
            "reference_id": None
            if row.get("reference_id") is None or str(row["reference_id"]) == "<NA>"
            else int(row["reference_id"]),
            "labels": {
                k: v for k, v in row.items() if k != "reference_id" and v is not None and v == v
            },
        }
        points.append(point)
    return {"model": model, "points": points}
