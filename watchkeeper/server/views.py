"""What the dashboard shows, as JSON: series of metric points, model health, and a
feature's reference-vs-current distribution.

The pages (``server/routes/pages.py``) fetch these from ``/v1/...`` like any other client,
so everything a chart plots can also be read with ``curl``. Times are epoch seconds of
event time; a range ends at the model's latest closed window (not the wall clock), so a
replayed or delayed stream still shows its data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchkeeper.metrics import FAMILIES, family_of
from watchkeeper.monitor import Monitor, merged_state
from watchkeeper.monitor.window import WindowState, merge_states
from watchkeeper.profile import CategoricalProfile, NumericProfile
from watchkeeper.report import build
from watchkeeper.service import Service
from watchkeeper.store.base import MetricPoint, WindowKey

__all__ = [
    "FAMILIES",
    "RANGES",
    "TimeRange",
    "distribution",
    "family_of",
    "model_health",
    "series",
    "time_range",
]

RANGES = {"1h": 3600.0, "1d": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""The range picker's choices; ``custom`` takes ``since`` and ``until``."""
MAX_POINTS_PER_SERIES = 1500
"""Above this many windows in a range, charts use the smallest rollup that fits."""


@dataclass(frozen=True)
class TimeRange:
    """A resolved range picker choice: ``[since, until)`` of window starts."""

    name: str
    since: float
    until: float
    window_seconds: float


def latest_end(monitor: Monitor) -> float | None:
    """End of the model's latest closed window (this process's, else the store's)."""
    if monitor.last_closed is not None:
        return monitor.last_closed + monitor.window_seconds
    points = monitor.store.query_points(
        monitor.model, "requests", window_seconds=monitor.window_seconds
    )
    return points[-1].window_start + points[-1].window_seconds if points else None


def time_range(
    monitor: Monitor,
    name: str = "1d",
    since: float | None = None,
    until: float | None = None,
    *,
    now: float,
) -> TimeRange:
    """Resolve the picker: a named range ends at the latest closed window (or ``now``
    before the first); ``custom`` needs ``since`` (``until`` defaults like a named one).
    The window size is the base window, or the smallest rollup keeping a series under
    ``MAX_POINTS_PER_SERIES`` points."""
    if name not in RANGES and name != "custom":
        raise ValueError(f"range: expected one of {', '.join([*RANGES, 'custom'])}, got {name!r}")
    end = until if until is not None else (latest_end(monitor) or now)
    if name == "custom":
        if since is None:
            raise ValueError("since: a custom range needs since (epoch seconds)")
        start = since
    else:
        start = end - RANGES[name]
    if not (math.isfinite(start) and math.isfinite(end)) or start >= end:
        raise ValueError(f"since, until: expected since < until, got {start!r}, {end!r}")
    seconds = monitor.window_seconds
    for size in sorted(monitor.rollup_seconds):
        if (end - start) / seconds <= MAX_POINTS_PER_SERIES:
            break
        seconds = size
    return TimeRange(name, start, end, seconds)


def series(
    monitor: Monitor,
    names: Iterable[str],
    rng: TimeRange,
    *,
    version: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Points of each name grouped into series (one per name and label set), as
    parallel arrays: ``{"name", "labels", "version", "t": [window starts], "v": [...]}``.
    ``version=None`` means every version (a promotion shows as a new series)."""
    rows = monitor.store.query_series(
        monitor.model,
        list(names),
        version=version,
        window_seconds=rng.window_seconds,
        since=rng.since,
        until=rng.until,
        labels=labels,
    )
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, ver, labels_json, start, value in rows:
        s = out.get((name, ver, labels_json))
        if s is None:
            s = out[(name, ver, labels_json)] = {"name": name, "version": ver, "t": [], "v": []}
            s["labels"] = json.loads(labels_json)
        s["t"].append(start)
        s["v"].append(value)
    return list(out.values())


def _latest(points: Sequence[MetricPoint]) -> float | None:
    for p in reversed(points):
        if not math.isnan(p.value):
            return p.value
    return None


def model_health(c: Service, model: str, rng: TimeRange) -> dict[str, Any]:
    """Health per family for the overview: ``alert`` when a rule on that family fires,
    ``warn`` when one is pending, ``ok`` with data, ``none`` without; plus sparklines."""
    monitor = c.monitor(model)
    rules = {r.name: r.metric for r in c.alerts.rules}
    families = {f: "none" for f in FAMILIES}
    sparks = series(
        monitor,
        ["throughput_per_second", "latency_seconds", "error_rate", "dataset_drift_share"],
        rng,
        version=monitor.version,
    )
    sparks = [
        s for s in sparks if s["name"] != "latency_seconds" or s["labels"] == {"quantile": "0.99"}
    ]
    present = {family_of(s["name"]) for s in sparks if any(v is not None for v in s["v"])}
    for name in ("label_coverage", "empty_output_ratio", "missing_ratio"):
        if family_of(name) not in present and monitor.store.query_points(
            model, name, window_seconds=rng.window_seconds, since=rng.since, until=rng.until
        ):
            present.add(family_of(name))
    for family in present:
        families[family] = "ok"
    firing = []
    for m, rule, labels, state in c.alerts.active():
        if m != model or rule not in rules:
            continue
        family = family_of(rules[rule])
        rank = {"none": 0, "ok": 1, "warn": 2, "alert": 3}
        wanted = "alert" if state == "firing" else "warn"
        if rank[wanted] > rank[families[family]]:
            families[family] = wanted
        if state == "firing":
            firing.append({"rule": rule, "labels": dict(labels), "family": family})
    return {
        "model": model,
        "version": monitor.version,
        "window_seconds": monitor.window_seconds,
        "last_window_end": latest_end(monitor),
        "families": families,
        "firing": firing,
        "sparklines": sparks,
    }


def _stored_states(monitor: Monitor, rng: TimeRange, version: str, limit: int) -> list[WindowState]:
    store, seconds = monitor.store, monitor.window_seconds
    starts = store.window_starts(monitor.model, version, seconds, rng.since, rng.until)
    out = []
    for start in starts[-limit:]:
        merged = merged_state(store, WindowKey(monitor.model, version, start, seconds))
        if merged is not None:
            out.append(merged)
    return out


def distribution(
    monitor: Monitor, feature: str, rng: TimeRange, *, version: str | None = None, limit: int = 48
) -> dict[str, Any]:
    """Reference vs current distribution of one column (a feature or an output): shares
    of rows per reference bin (numeric) or per category, over the last ``limit`` stored
    windows of the range (window states are kept for ``window_retention``)."""
    ctx = monitor.reference
    version = version or monitor.version
    ref = ctx.profile.columns.get(feature) if ctx is not None else None
    states = _stored_states(monitor, rng, version, limit)
    merged = merge_states(states)
    cur = merged.profile.columns.get(feature) if merged is not None else None
    out: dict[str, Any] = {
        "feature": feature,
        "windows": len(states),
        "kind": None,
        "reference": None,
        "current": None,
    }
    dist = build.distribution(ref, cur) if ref is not None else None
    if dist is not None:
        out["kind"] = dist.kind
        out["bins"] = list(dist.labels)
        out["reference"] = list(dist.reference)
        if dist.edges is not None and isinstance(ref, NumericProfile):
            out["edges"] = list(dist.edges)  # slots: below edges[0], the bins, above edges[-1]
            out["reference_range"] = [ref.min, ref.max]
        if cur is not None:
            out["current"] = list(dist.current)
            out["current_missing"] = cur.missing
            out["current_count"] = cur.count
        if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            out["new_categories"] = [
                {"value": v, "count": n} for v, n in cur.top_other(10) if v not in ref.counts
            ]
    return out
