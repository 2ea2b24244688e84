"""Prometheus exposition of the monitors: the latest closed window as gauges, plus counters.

:class:`MonitorCollector` is a ``prometheus_client`` custom collector: on each scrape it
reads the metric points of every monitor's latest closed window from the store (cached
until a newer window closes) and yields them under the names in :data:`EXPORTED`.
Labels are bounded: ``model``, ``version`` and only the point labels listed per name
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

__all__ = ["COUNTERS", "EXPORTED", "MAX_FEATURES", "MonitorCollector"]

MAX_FEATURES = 500
PERFORMANCE = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
               "mae", "rmse", "mape", "r2")  # fmt: skip

EXPORTED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "requests": ("watchkeeper_window_predictions", "Predictions in the latest closed window.", ()),
    "throughput_per_second": (
        "watchkeeper_throughput_per_second", "Predictions per second in the latest window.", ()),
    "error_rate": ("watchkeeper_error_ratio", "Share of predictions logged with an error.", ()),
    "errors": ("watchkeeper_window_errors", "Predictions with an error, by kind.", ("kind",)),
    "feature_drift": (
        "watchkeeper_feature_drift_score", "Drift statistic of a feature vs the reference.",
        ("feature", "method")),
    "feature_drift_threshold": (
        "watchkeeper_feature_drift_threshold", "Natural-spread threshold of the statistic.",
        ("feature", "method")),
    "feature_drifted": (
        "watchkeeper_feature_drifted", "1 when the feature's drift verdict is on.",
        ("feature", "method")),
    "missing_ratio": (
        "watchkeeper_feature_missing_ratio", "Share of missing values.", ("feature",)),
    "type_errors": (
        "watchkeeper_feature_type_errors", "Values of the wrong type in the window.", ("feature",)),
    "out_of_range_share": (
        "watchkeeper_feature_out_of_range_ratio", "Share outside the reference's range.",
        ("feature",)),
    "new_category_share": (
        "watchkeeper_feature_new_category_ratio", "Share of categories unseen in the reference.",
        ("feature",)),
    "dataset_drift_share": (
        "watchkeeper_dataset_drift_share", "Share of features drifted in the window.", ()),
    "output_drift": (
        "watchkeeper_output_drift_score", "Drift statistic of an output vs the reference.",
        ("output", "method")),
    "output_drifted": (
        "watchkeeper_output_drifted", "1 when the output's drift verdict is on.",
        ("output", "method")),
    "empty_output_ratio": (
        "watchkeeper_output_empty_ratio", "Share of empty or missing outputs.", ("output",)),
    "label_coverage": (
        "watchkeeper_label_coverage_ratio", "Share of the window's predictions with a label.", ()),
    "labelled_rows": ("watchkeeper_labelled_rows", "Labelled predictions in the window.", ()),
    **{
        name: ("watchkeeper_performance", "Performance from labels, by metric.", ("metric",))
        for name in PERFORMANCE
    },
    **{
        f"estimated_{name}": (
            "watchkeeper_estimated_performance", "Performance estimated from scores.",
            ("metric",))
        for name in ("accuracy", "precision", "recall", "f1")
    },
    "custom_metric": (
        "watchkeeper_custom_metric", "A log_metric series (untagged) by name and statistic.",
        ("metric", "stat")),
}  # fmt: skip
"""Point name -> (Prometheus name, help, point labels kept)."""
CACHE_SECONDS = 5.0
"""How long a scrape reuses the latest window's points before reading them again."""

SUMMARIES = {
    # Prometheus summary: quantile points, and the points giving its count and sum
    "watchkeeper_latency_seconds": (
        "Prediction latency in the latest closed window (quantiles from a sketch).",
        "latency_seconds", "latency_count", "latency_sum_seconds", None),
    "watchkeeper_output_value": (
        "Distribution of a numeric output in the latest closed window.",
        "output_quantile", "output_count", "output_mean", "output"),
}  # fmt: skip

COUNTERS = {
    "predictions": ("watchkeeper_predictions", "Predictions received."),
    "labels": ("watchkeeper_labels", "Labels received."),
    "signals": ("watchkeeper_signals", "Custom metric values and events received."),
    "rejected_rows": ("watchkeeper_rejected_rows", "Rows in batches the monitor rejected."),
}


class MonitorCollector(Collector):
    """Yield every monitor's latest closed window and the collector's counters.

    Parameters
    ----------
    monitors
        ``{model: Monitor}``.
    counts
        Returns ``{(counter, model): value}`` for :data:`COUNTERS`.
    """

    def __init__(
        self,
        monitors: Mapping[str, Any],
        counts: Callable[[], Mapping[tuple[str, str], float]] = dict,
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
                    total = sums[0].value * (n if s_name == "output_mean" else 1.0)
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
            "watchkeeper_window_start_timestamp_seconds",
            "Start of the latest closed window (Unix time).",
            labels=["model", "version"],
        )
        for model, monitor in self.monitors.items():
            if monitor.last_closed is not None:
                window.add_metric([model, monitor.version], monitor.last_closed)
            features = {spec.name for spec in (monitor.schema or [])}
            features = set(sorted(features)[:MAX_FEATURES])
            for point in self._points(monitor):
                spec = EXPORTED.get(point.name)
                if spec is None or math.isnan(point.value):
                    continue
                prom, help_text, kept = spec
                if point.labels.get("feature", "") not in features | {""}:
                    continue
                if not set(point.labels) <= set(kept):
                    continue  # e.g. a tagged custom series: its tags are not labels here
                labels = dict(point.labels)
                if kept == ("metric",):
                    labels["metric"] = point.name.removeprefix("estimated_")
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
            counter = CounterMetricFamily(prom, help_text, labels=["model", "version"])
            for model, monitor in self.monitors.items():
                counter.add_metric([model, monitor.version], counts.get((key, model), 0.0))
            yield counter
