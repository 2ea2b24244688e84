"""Prometheus exposition of the monitors: the latest closed window as gauges, plus counters.

:class:`MonitorCollector` is a ``prometheus_client`` custom collector: on each scrape it
reads the metric points of every monitor's latest closed window from the store (cached
until a newer window closes) and yields them under the Prometheus names of the catalogue
(:mod:`watchkeeper.metrics`): gauges (:data:`EXPORTED`) and summaries (:data:`SUMMARIES`).
Labels are bounded: ``model``, ``version`` and only the point labels the catalogue lists
(feature names come from the schema and are capped at ``MAX_FEATURES``; quantiles,
methods and metric names are fixed sets). Ids, raw values, classes and user tags are
never labels.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from watchkeeper.metrics import METRICS, metric

__all__ = [
    "COUNTERS",
    "EXPORTED",
    "MAX_FEATURES",
    "REASONS",
    "SUMMARIES",
    "WINDOW_START",
    "MonitorCollector",
]

MAX_FEATURES = 500


def _summaries() -> dict[str, tuple[str, str, str, str, str | None]]:
    """Prometheus summary name -> (help, quantile point, count point, sum point, the
    point label that splits it into series or ``None``), from the catalogue."""
    by_prometheus = {spec.prometheus: spec.name for spec in METRICS if spec.prometheus}
    out: dict[str, tuple[str, str, str, str, str | None]] = {}
    for spec in METRICS:
        if spec.prometheus is None or "quantile" not in spec.labels:
            continue
        split = [label for label in spec.labels if label != "quantile"]
        out[spec.prometheus] = (
            spec.help,
            spec.name,
            by_prometheus[f"{spec.prometheus}_count"],
            by_prometheus[f"{spec.prometheus}_sum"],
            split[0] if split else None,
        )
    return out


SUMMARIES = _summaries()
"""Prometheus summary -> (help, quantile point, count point, sum point, split label)."""
_IN_SUMMARIES = {name for _help, *names, _split in SUMMARIES.values() for name in names}

EXPORTED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    spec.name: (spec.prometheus, spec.help, spec.prometheus_labels)
    for spec in METRICS
    if spec.prometheus is not None and spec.name not in _IN_SUMMARIES
}
"""Point name -> (Prometheus name, help, labels of the gauge): every catalogued point
exported as a gauge."""
WINDOW_START = "watchkeeper_window_start_timestamp_seconds"
"""The gauge of the start of each monitor's latest closed window (not a metric point)."""
CACHE_SECONDS = 5.0
"""How long a scrape reuses the latest window's points before reading them again."""

COUNTERS = {
    "predictions": ("watchkeeper_predictions", "Predictions received."),
    "labels": ("watchkeeper_labels", "Labels received."),
    "signals": ("watchkeeper_signals", "Custom metric values and events received."),
    "rejected_rows": (
        "watchkeeper_rejected_rows",
        "Rows not taken, by reason: future, past or bad_timestamp (event time outside the "
        "bounds at ingestion), unreadable (a batch the monitor rejected).",
    ),
    "rejected_signals": (
        "watchkeeper_rejected_signals",
        "Custom metric values and events not taken (event time outside the bounds), by reason.",
    ),
    "clamped_predictions": (
        "watchkeeper_clamped_rows",
        "Rows stamped after now + max_future_skew, taken at that bound.",
    ),
    "clamped_signals": (
        "watchkeeper_clamped_signals",
        "Custom metric values and events taken at the future bound.",
    ),
    "late_dropped_rows": (
        "watchkeeper_late_dropped_rows",
        "Rows dropped as too late for any window (older than window_retention).",
    ),
    "unknown_label_ids": (
        "watchkeeper_unknown_label_ids",
        "Labels whose id matches no kept prediction.",
    ),
}
REASONS = {
    "rejected_rows": ("bad_timestamp", "future", "past", "unreadable"),
    "rejected_signals": ("bad_timestamp", "future", "past"),
}
"""The counters of :data:`COUNTERS` split by a ``reason`` label, and their reasons (each
exposed from zero, so a rate over them is defined from the start)."""


class MonitorCollector(Collector):
    """Yield every monitor's latest closed window and the collector's counters.

    Parameters
    ----------
    monitors
        ``{model: Monitor}``.
    counts
        Returns ``{(counter, model): value}`` for :data:`COUNTERS`, and
        ``{(counter, model, reason): value}`` for those of :data:`REASONS`.
    """

    def __init__(
        self,
        monitors: Mapping[str, Any],
        counts: Callable[[], Mapping[tuple[str, ...], float]] = dict,
    ) -> None:
        self.monitors = monitors
        self.counts = counts
        self._cache: dict[str, tuple[float, list[Any], float]] = {}
        self._lock = threading.Lock()

    def _points(self, monitor: Any) -> list[Any]:
        start = monitor.last_closed
        if start is None:
            return []
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(monitor.model)
            # the same window, read recently: late labels rewrite its performance points,
            # so a cached window is re-read after CACHE_SECONDS
            if cached is not None and cached[0] == start and now - cached[2] < CACHE_SECONDS:
                return cached[1]
        points: list[Any] = monitor.store.query_points(
            monitor.model,
            version=monitor.version,
            window_seconds=monitor.window_seconds,
            since=start,
            until=start + monitor.window_seconds,
        )
        with self._lock:
            self._cache[monitor.model] = (start, points, now)
        return points

    def _summaries(self) -> Iterator[Metric]:
        for prom, (help_text, q_name, n_name, s_name, key) in SUMMARIES.items():
            extra = [key] if key else []
            family = SummaryMetricFamily(prom, help_text, labels=["model", "version", *extra])
            for model, monitor in self.monitors.items():
                points = self._points(monitor)
                groups = sorted({p.labels.get(key, "") if key else "" for p in points
                                 if p.name == q_name})  # fmt: skip
                for group in groups:
                    picked = [p for p in points if not key or p.labels.get(key) == group]
                    counts = [p for p in picked if p.name == n_name]
                    sums = [p for p in picked if p.name == s_name]
                    if not counts or not sums:
                        continue
                    n = counts[0].value
                    # a mean point (an output's) gives the summary's sum as mean x count
                    total = sums[0].value * (n if s_name.endswith("_mean") else 1.0)
                    if math.isnan(n) or math.isnan(total):
                        continue
                    values = [model, monitor.version, *([group] if key else [])]
                    family.add_metric(values, count_value=n, sum_value=total)
                    names = ["model", "version", *extra]
                    for q in picked:
                        if q.name == q_name and not math.isnan(q.value):
                            labels = dict(zip(names, values, strict=True))
                            labels["quantile"] = q.labels["quantile"]
                            family.add_sample(prom, labels, q.value)
            yield family

    def describe(self) -> list[Metric]:
        return []  # collected lazily: registering must not query the store

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        window = GaugeMetricFamily(
            WINDOW_START,
            "Start of the latest closed window (Unix time).",
            labels=["model", "version"],
        )
        for model, monitor in self.monitors.items():
            if monitor.last_closed is not None:
                window.add_metric([model, monitor.version], monitor.last_closed)
            # a feature label is a column or the raw column of descriptors (embedding drift)
            features = {n for spec in (monitor.schema or []) for n in (spec.name, spec.source) if n}
            features = set(sorted(features)[:MAX_FEATURES])
            for point in self._points(monitor):
                exported = EXPORTED.get(point.name)
                if exported is None or math.isnan(point.value):
                    continue
                prom, help_text, kept = exported
                if point.labels.get("feature", "") not in features | {""}:
                    continue
                spec = metric(point.name)
                if not set(point.labels) <= set(spec.labels):
                    continue  # e.g. a tagged custom series: its tags are not labels here
                labels = dict(point.labels)
                if spec.prometheus_metric is not None:
                    labels["metric"] = spec.prometheus_metric
                family = families.get(prom)
                if family is None:
                    family = families[prom] = GaugeMetricFamily(
                        prom, help_text, labels=["model", "version", *kept]
                    )
                family.add_metric(
                    [model, monitor.version, *(labels.get(k, "") for k in kept)], point.value
                )
        yield window
        yield from families.values()
        yield from self._summaries()
        counts = self.counts()
        for key, (prom, help_text) in COUNTERS.items():
            reasons = REASONS.get(key)
            names = ["model", "version"] if reasons is None else ["model", "version", "reason"]
            counter = CounterMetricFamily(prom, help_text, labels=names)
            for model, monitor in self.monitors.items():
                if reasons is None:
                    counter.add_metric([model, monitor.version], counts.get((key, model), 0.0))
                    continue
                for reason in reasons:
                    value = counts.get((key, model, reason), 0.0)
                    counter.add_metric([model, monitor.version, reason], value)
            yield counter
