"""Custom metrics, events and saturation samples folded into their windows.

A metric named after a saturation point is a sample of the service instance its
``instance_id`` tag names (:mod:`watchkeeper.monitor.saturation`). Samples are passive:
they do not move event time (a process whose clock is off closes no window early), and
alone they do not fix the schema of a model without one (it is inferred from the first
predictions): while it is unknown they are not kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from watchkeeper.errors import ConfigError
from watchkeeper.monitor.saturation import INSTANCE_LABEL, is_saturation
from watchkeeper.schema import Schema
from watchkeeper.store import labels_key
from watchkeeper.units import to_epoch

if TYPE_CHECKING:
    from watchkeeper.monitor.ingest import Ingestion

__all__ = ["fold_signals"]


def fold_signals(
    ingestion: Ingestion,
    metrics: Sequence[tuple[str, float, Mapping[str, str] | None, Any]],
    events: Sequence[tuple[str, Any]],
    seq: int | None,
) -> None:
    """Fold custom metrics ``(name, value, tags, time)`` and events ``(name, time)`` into
    the windows of ``ingestion``; a bad entry raises before anything is folded."""

    now = ingestion.now()
    limit = now + ingestion.windows.config.max_future_skew_seconds
    protected = ingestion.windows.config.protected_series
    items: dict[float, list[tuple[str, str, float]]] = {}
    ahead: list[float] = []
    newest = -math.inf
    resources = 0
    for name, value, tags, timestamp in metrics:
        ts = _signal_time(timestamp, now)
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(
                f"log_metric {name!r}: expected a finite number, got {value!r}",
                field="value",
                value=value,
                expected="a finite number",
            )
        key = labels_key({"metric": str(name), **{str(k): str(v) for k, v in (tags or {}).items()}})
        if ts > limit:
            ahead.append(ts)
            continue
        if is_saturation(str(name)):  # kind: the point; key: the instance
            instance = str((tags or {}).get(INSTANCE_LABEL, ""))
            entry = (str(name), instance, number)
            items.setdefault(ingestion.windows.start_of(ts), []).append(entry)
            resources += 1
            continue  # a sample does not move event time: it closes no window
        kind = "protected" if str(name) in protected else "metric"
        items.setdefault(ingestion.windows.start_of(ts), []).append((kind, key, number))
        newest = max(newest, ts)
    for name, timestamp in events:
        ts = _signal_time(timestamp, now)
        if ts > limit:
            ahead.append(ts)
            continue
        items.setdefault(ingestion.windows.start_of(ts), []).append(("event", str(name), 1.0))
        newest = max(newest, ts)
    if ahead:
        ingestion.issues.from_future(len(ahead), max(ahead), now, limit - now, call="log_signals")
    if items and ingestion.baseline.schema is None and ingestion.has_buffered_rows():
        ingestion.drain()  # buffered rows fix the schema first
    if items and ingestion.baseline.schema is None:
        if resources == sum(map(len, items.values())):
            return  # saturation alone: the first predictions fix the schema
        ingestion.baseline.adopt_schema(Schema(()), now=now)
    for start, entries in sorted(items.items()):
        state = ingestion.target(start, len(entries), seq)
        if state is None:
            continue
        for kind, key, number in entries:
            if kind == "event":
                state.add_event(key)
            elif is_saturation(kind):
                state.resources.add(key, kind, number)
            else:
                state.add_custom(key, number, protected=kind == "protected")
    if newest > -math.inf:
        ingestion.on_time(newest)


def _signal_time(timestamp: Any, now: float) -> float:
    """The event time of a custom metric or event (``None``: now; ``+inf``: beyond any
    bound, so it is rejected as from the future rather than failing the call)."""
    if timestamp is None:
        return now
    if isinstance(timestamp, float) and timestamp == math.inf:
        return math.inf
    return to_epoch(timestamp, "timestamp")
