"""The JSON the dashboard's pages fetch: every model's health, series of metric points
for charts, and a feature's reference-vs-current distribution (computed in
:mod:`watchkeeper.server.views`). A query parameter they cannot use is a 422 of the
:class:`~watchkeeper.server.errors.BadQuery` shape, which the pages show.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from watchkeeper.jsonable import json_ready
from watchkeeper.server import views
from watchkeeper.server.deps import ServiceDep
from watchkeeper.server.errors import BadQuery
from watchkeeper.server.params import chosen_version, split_labels
from watchkeeper.service import Service

__all__ = ["router"]

router = APIRouter(tags=["dashboard"])

_SERIES_LIMIT = 40
"""Names per ``/series`` request: enough for any page, bounded for the server."""
_LABEL_WINDOWS = 120
"""Base windows searched, newest first, for one with labels (error analysis)."""


def _resolve(
    service: Service, model: str, name: str, since: float | None, until: float | None
) -> views.TimeRange:
    monitor = service.monitor(model)  # unknown model: 404 through the app's handler
    try:
        return views.time_range(monitor, name, since, until, now=service.clock.now())
    except ValueError as exc:
        raise BadQuery(str(exc)) from exc


def _range_json(rng: views.TimeRange) -> dict[str, Any]:
    return {
        "name": rng.name,
        "since": rng.since,
        "until": rng.until,
        "window_seconds": rng.window_seconds,
    }


@router.get("/v1/overview")
def overview(service: ServiceDep, range: str = "1d") -> dict[str, Any]:
    """Every model: version, health per family (software, inputs, outputs,
    performance: ``ok``, ``warn`` (pending alert), ``alert`` (firing), ``none`` (no
    data)), firing alerts, and sparklines of traffic, p99 latency, error rate and
    dataset drift share over the range."""
    out = []
    for name in sorted(service.monitors):
        rng = _resolve(service, name, range, None, None)
        out.append({**views.model_health(service, name, rng), "range": _range_json(rng)})
    return {"models": out}


@router.get("/v1/models/{model}/series")
def get_series(
    model: str,
    service: ServiceDep,
    name: Annotated[list[str] | None, Query()] = None,
    range: str = "1d",
    since: float | None = None,
    until: float | None = None,
    version: str | None = None,
    label: Annotated[list[str] | None, Query()] = None,
    latest: int = 0,
) -> Response:
    """Series of metric points for charts: one per name, version and label set, as
    parallel arrays ``t`` (window starts, epoch s) and ``v``. ``version`` empty or
    ``*`` means every version; ``latest=N`` keeps only the range's last N windows."""
    names = name or []
    if not names or len(names) > _SERIES_LIMIT:
        raise BadQuery(f"name: expected 1 to {_SERIES_LIMIT} metric names, got {len(names)}")
    rng = _resolve(service, model, range, since, until)
    if latest > 0:  # only the range's last `latest` windows
        since = max(rng.since, rng.until - latest * rng.window_seconds)
        rng = views.TimeRange(rng.name, since, rng.until, rng.window_seconds)
    try:
        labels = split_labels(label or [])
    except ValueError as exc:
        raise BadQuery(f"label: {exc.args[0]!r} is not key:value") from None
    data = views.series(
        service.monitor(model), names, rng, version=chosen_version(version), labels=labels
    )
    body = {"model": model, "range": _range_json(rng), "series": data}
    # tens of thousands of floats: json.dumps directly is ~10x faster than FastAPI's
    # generic encoder (values are finite or None already)
    return Response(json.dumps(body, allow_nan=False), media_type="application/json")


@router.get("/v1/models/{model}/features/{feature:path}/distribution")
def get_distribution(
    model: str,
    feature: str,
    service: ServiceDep,
    range: str = "1d",
    since: float | None = None,
    until: float | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Reference vs current shares of rows per reference bin (numeric) or category,
    the current side merged over the range's stored windows (the last 48)."""
    rng = _resolve(service, model, range, since, until)
    data = views.distribution(service.monitor(model), feature, rng, version=chosen_version(version))
    return {"model": model, "range": _range_json(rng), **json_ready(data)}


@router.get("/v1/models/{model}/causes")
def get_causes(
    model: str,
    service: ServiceDep,
    range: str = "1d",
    since: float | None = None,
    until: float | None = None,
    version: str | None = None,
    window: float | None = None,
) -> dict[str, Any]:
    """Why did it change: the multivariate verdicts and the root-cause ranking of the
    newest base window of the range that has them (``window``: that window's start)."""
    from watchkeeper.monitor.multivariate import latest_findings

    rng = _resolve(service, model, range, since, until)
    m = service.monitor(model)
    lo, hi = (window, window + m.window_seconds) if window is not None else (rng.since, rng.until)
    found = latest_findings(service.store, model, version or m.version, m.window_seconds, lo, hi)
    return {"model": model, "range": _range_json(rng), "findings": json_ready(found)}


@router.get("/v1/models/{model}/features/{feature:path}/examples")
def get_examples(
    model: str,
    feature: str,
    service: ServiceDep,
    range: str = "1d",
    since: float | None = None,
    until: float | None = None,
    version: str | None = None,
    window: float | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Example rows of the newest base window of the range (``window``: that window's
    start) whose ``feature`` is outside what the reference saw, from the window's row
    sample (kept when the model keeps one: ``reservoir_size``)."""
    from watchkeeper.monitor.examples import example_rows
    from watchkeeper.monitor.window import merged_state
    from watchkeeper.store import WindowKey

    rng = _resolve(service, model, range, since, until)
    m = service.monitor(model)
    ver, size = version or m.version, m.window_seconds
    lo, hi = (window, window + size) if window is not None else (rng.since, rng.until)
    starts = service.store.window_starts(model, ver, size, lo, hi)
    out: dict[str, Any] = {"reason": "", "rows": [], "matching": 0, "sampled": 0}
    state = merged_state(service.store, WindowKey(model, ver, starts[-1], size)) if starts else None
    if state is not None and m.reference is not None:
        out = example_rows(state, m.reference, feature, limit)
    start = starts[-1] if starts else None
    return {"model": model, "feature": feature, "window_start": start, **json_ready(out)}


@router.get("/v1/models/{model}/misclassified")
def get_misclassified(
    model: str,
    service: ServiceDep,
    range: str = "1d",
    since: float | None = None,
    until: float | None = None,
    version: str | None = None,
    window: float | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Error analysis: sampled rows of the newest base window of the range with labels
    (``window``: that window's start) that the model got wrong (classification) or
    furthest off (regression), each with its label."""
    from watchkeeper.monitor.examples import misclassified_rows
    from watchkeeper.monitor.window import merged_state
    from watchkeeper.store import WindowKey

    rng = _resolve(service, model, range, since, until)
    m = service.monitor(model)
    ver, size = version or m.version, m.window_seconds
    lo, hi = (window, window + size) if window is not None else (rng.since, rng.until)
    out: dict[str, Any] = {"kind": "", "rows": [], "matching": 0, "labelled": 0}
    start = None
    # the newest windows only: each costs a query, and labels arrive within hours
    for begin in reversed(service.store.window_starts(model, ver, size, lo, hi)[-_LABEL_WINDOWS:]):
        labelled = service.store.labelled(model, ver, begin, begin + size)
        state = merged_state(service.store, WindowKey(model, ver, begin, size))
        if labelled.ids and state is not None:
            out, start = misclassified_rows(state, labelled, m.task, limit), begin
            break
    return {"model": model, "window_start": start, **json_ready(out)}
