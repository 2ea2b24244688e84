"""Metric points in SQL: rows to write, the shared query filters, rows read back.

NaN values are stored as NULL (SQLite has no NaN) and read back as NaN. Labels are
stored as canonical JSON (:func:`~watchkeeper.store.base.labels_key`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from watchkeeper.store import _tables as t
from watchkeeper.store.base import MetricPoint, SeriesRow, labels_key

__all__ = ["filtered", "labels_match", "nan", "num", "point_rows", "points", "series"]


def num(value: float | None) -> float | None:
    """``value`` as stored: NaN becomes NULL."""
    return None if value is None or math.isnan(value) else float(value)


def nan(value: float | None) -> float:
    """A stored ``value`` read back: NULL becomes NaN."""
    return math.nan if value is None else float(value)


def point_rows(points: Sequence[MetricPoint], *, now: float) -> list[dict[str, Any]]:
    """The ``wk_points`` rows for ``points``, computed at ``now``."""
    return [
        {
            "model": p.model,
            "name": p.name,
            "window_seconds": p.window_seconds,
            "window_start": p.window_start,
            "version": p.version,
            "labels": labels_key(p.labels),
            "value": num(p.value),
            "reference_id": p.reference_id,
            "computed_at": now,
        }
        for p in points
    ]


def points(rows: Sequence[Any], labels: Mapping[str, str] | None) -> list[MetricPoint]:
    """The points of ``wk_points`` rows whose labels include ``labels``."""
    parsed: dict[str, dict[str, str]] = {}
    out = []
    for r in rows:
        point_labels = parsed.get(r.labels)
        if point_labels is None:
            point_labels = parsed[r.labels] = json.loads(r.labels)
        if labels_match(point_labels, labels):
            out.append(
                MetricPoint(
                    r.model,
                    r.version,
                    r.window_start,
                    r.window_seconds,
                    r.name,
                    nan(r.value),
                    dict(point_labels),
                    r.reference_id,
                )
            )
    return out


def series(rows: Sequence[Any], labels: Mapping[str, str] | None) -> list[SeriesRow]:
    """The series rows whose labels include ``labels``, in the order read."""
    if not labels:
        return [tuple(r) for r in rows]
    ok = {text: labels_match(json.loads(text), labels) for text in {r.labels for r in rows}}
    return [tuple(r) for r in rows if ok[r.labels]]


def filtered(
    q: Any,
    version: str | None,
    window_seconds: float | None,
    since: float | None,
    until: float | None,
    labels: Mapping[str, str] | None,
) -> Any:
    """Narrow a points query by the filters every point query shares. Each label pair is
    a substring of the canonical JSON followed by "," or "}": the index narrows, and
    :func:`labels_match` on the parsed labels decides."""
    p = t.points.c
    if version is not None:
        q = q.where(p.version == version)
    if window_seconds is not None:
        q = q.where(p.window_seconds == window_seconds)
    if since is not None:
        q = q.where(p.window_start >= since)
    if until is not None:
        q = q.where(p.window_start < until)
    for k, v in (labels or {}).items():
        pair = json.dumps({k: v}, separators=(",", ":"))[1:-1]
        q = q.where(
            sa.or_(
                p.labels.contains(pair + ",", autoescape=True),
                p.labels.contains(pair + "}", autoescape=True),
            )
        )
    return q


def labels_match(found: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    """Whether ``found`` has every pair of ``wanted``."""
    return all(found.get(k) == v for k, v in (wanted or {}).items())
