"""The catalogue of metric points: every name the analysis writes per window, once.

Each :class:`MetricSpec` says what a point is (its name, health family, the label names it
carries, its unit, one sentence of help) and how ``/metrics`` exports it (its Prometheus
name, or ``None`` when it is not exported). The analysis writes only these names; the
Prometheus exporter, the rule export, the Grafana dashboard, the alert rules and engine
and the dashboard's views read them from here, so adding a metric is one entry below
(plus the code that computes it).

Prometheus conventions the exporter follows:

- a point exported as a gauge keeps its labels (plus ``model`` and ``version``);
- points sharing one Prometheus name (performance by metric) set ``prometheus_metric``,
  the value of that family's ``metric`` label;
- a point with a ``quantile`` label is exported as a Prometheus summary named
  ``prometheus``; the points exported as ``<prometheus>_count`` and ``<prometheus>_sum``
  give its count and sum (a ``_mean`` point is multiplied by the count).

Examples
--------
>>> spec = metric("feature_drift")
>>> spec.family, spec.labels, spec.prometheus
('inputs', ('feature', 'method'), 'watchkeeper_feature_drift_score')
>>> metric("estimated_f1").prometheus_labels
('metric',)
>>> "latency_seconds" in POINT_NAMES
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from watchkeeper.errors import ConfigError

__all__ = [
    "DATASET_DRIFT",
    "FAMILIES",
    "FEATURE_DRIFT",
    "INSTANCE_LABEL",
    "METRICS",
    "MULTIVARIATE_DRIFT",
    "OUTPUT_DRIFT",
    "POINT_NAMES",
    "SATURATION",
    "SATURATION_STATS",
    "DriftPoints",
    "Family",
    "MetricSpec",
    "Unit",
    "family_of",
    "metric",
]

Family = Literal["software", "inputs", "outputs", "performance"]
"""The health families of the dashboard. Custom metrics and events count as software
signals (they are what the service reports about itself); rejected values as inputs."""
FAMILIES: tuple[Family, ...] = get_args(Family)

Unit = Literal["count", "ratio", "seconds", "per_second", "boolean", "1", "bytes"]
"""``ratio`` is a share in [0, 1]; ``boolean`` is 0 or 1; ``1`` is a statistic, score or
value in the unit of the column it describes."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric point name, as the analysis writes it and ``/metrics`` exports it.

    Parameters
    ----------
    name
        The point's name in the store, in alert rules and in the HTTP API.
    family
        Which health family it belongs to (:data:`FAMILIES`).
    labels
        The label names every point of this name carries (their values are free).
    unit
        What the value measures (:data:`Unit`).
    prometheus
        The Prometheus name ``/metrics`` exports it under, or ``None`` when it is not
        exported (unbounded labels, or nothing a scrape needs).
    help
        One sentence; for an exported point, its Prometheus help text.
    tagged
        The point also carries the user's tags as further labels (custom series).
    prometheus_metric
        The value of the ``metric`` label telling apart the points that share one
        Prometheus name (performance by metric), else ``None``.
    """

    name: str
    family: Family
    labels: tuple[str, ...]
    unit: Unit
    prometheus: str | None
    help: str
    tagged: bool = False
    prometheus_metric: str | None = None

    def __post_init__(self) -> None:
        for field, value, allowed in (
            ("family", self.family, FAMILIES),
            ("unit", self.unit, get_args(Unit)),
        ):
            if value not in allowed:
                raise ConfigError(
                    f"{self.name}.{field}: expected one of: {', '.join(allowed)}, got {value!r}",
                    field=f"{self.name}.{field}",
                    value=value,
                    expected=", ".join(allowed),
                )
        if self.prometheus_metric is not None and (
            self.prometheus is None or "metric" in self.labels
        ):
            raise ConfigError(
                f"{self.name}.prometheus_metric: needs a Prometheus name and no 'metric' label",
                field=f"{self.name}.prometheus_metric",
                value=self.prometheus_metric,
                expected="an exported point without a 'metric' label",
            )

    @property
    def prometheus_labels(self) -> tuple[str, ...]:
        """The label names of the exported series, besides ``model`` and ``version``."""
        return (*self.labels, "metric") if self.prometheus_metric else self.labels


_F = ("feature",)
_FM = ("feature", "method")
_O = ("output",)
_OM = ("output", "method")
_IS = ("instance_id", "stat")
_PERF = "Performance from labels, by metric."
_EST = "Performance estimated from scores."
_S = ("segment_column", "segment")
_SEG_PERF = "Performance from labels per segment, by metric."

# fmt: off
METRICS: tuple[MetricSpec, ...] = (
    # software: the four golden signals, custom metrics and events
    MetricSpec("requests", "software", (), "count", "watchkeeper_window_predictions",
               "Predictions in the latest closed window."),
    MetricSpec("throughput_per_second", "software", (), "per_second",
               "watchkeeper_throughput_per_second", "Predictions per second in the latest window."),
    MetricSpec("latency_seconds", "software", ("quantile",), "seconds",
               "watchkeeper_latency_seconds",
               "Prediction latency in the latest closed window (quantiles from a sketch)."),
    MetricSpec("latency_count", "software", (), "count", "watchkeeper_latency_seconds_count",
               "Predictions with a latency in the window (the latency summary's count)."),
    MetricSpec("latency_sum_seconds", "software", (), "seconds", "watchkeeper_latency_seconds_sum",
               "Total latency of the window's predictions (the latency summary's sum)."),
    MetricSpec("errors", "software", ("kind",), "count", "watchkeeper_window_errors",
               "Predictions with an error, by kind."),
    MetricSpec("error_rate", "software", (), "ratio", "watchkeeper_error_ratio",
               "Share of predictions logged with an error."),
    MetricSpec("tagged_requests", "software", (), "count", None,
               "Predictions per distinct set of tags (the tags are its labels).", tagged=True),
    MetricSpec("custom_metric", "software", ("metric", "stat"), "1", "watchkeeper_custom_metric",
               "A log_metric series (untagged) by name and statistic.", tagged=True),
    MetricSpec("event_count", "software", ("event",), "count", None,
               "Events logged in the window, by name."),
    # software: saturation of the service process, sampled by the SDK (watchkeeper.sdk.resources)
    MetricSpec("process_cpu_utilisation", "software", _IS, "ratio",
               "watchkeeper_process_cpu_utilisation_ratio",
               "CPU time of the service process over wall time x the cores it may use."),
    MetricSpec("process_memory_rss_bytes", "software", _IS, "bytes",
               "watchkeeper_process_resident_memory_bytes",
               "Resident memory of the service process."),
    MetricSpec("process_open_fds", "software", _IS, "count", "watchkeeper_process_open_fds",
               "Open file descriptors (handles on Windows) of the service process."),
    MetricSpec("process_threads", "software", _IS, "count", "watchkeeper_process_threads",
               "Threads of the service process."),
    MetricSpec("process_gc_pause_ratio", "software", _IS, "ratio",
               "watchkeeper_process_gc_pause_ratio",
               "Share of wall time the service process spent in Python garbage collection."),
    MetricSpec("process_gc_pause_seconds", "software", _IS, "seconds",
               "watchkeeper_process_gc_pause_seconds",
               "Longest Python garbage-collection pause of a sampling interval."),
    MetricSpec("event_loop_lag_seconds", "software", _IS, "seconds",
               "watchkeeper_event_loop_lag_seconds",
               "Delay before the service's asyncio event loop ran a callback sent to it."),
    MetricSpec("in_flight_requests", "software", _IS, "count",
               "watchkeeper_in_flight_requests",
               "Requests being handled by the service, averaged over a sampling interval."),
    MetricSpec("request_queue_seconds", "software", _IS, "seconds",
               "watchkeeper_request_queue_seconds",
               "Mean wait of a sampling interval's requests between the proxy's "
               "X-Request-Start and the service."),
    # inputs: data quality per feature
    MetricSpec("missing_ratio", "inputs", _F, "ratio", "watchkeeper_feature_missing_ratio",
               "Share of missing values."),
    MetricSpec("type_errors", "inputs", _F, "count", "watchkeeper_feature_type_errors",
               "Values of the wrong type in the window."),
    MetricSpec("mean", "inputs", _F, "1", None,
               "Mean of a numeric feature, or of a text feature's length."),
    MetricSpec("std", "inputs", _F, "1", None, "Standard deviation of a numeric feature."),
    MetricSpec("out_of_range_share", "inputs", _F, "ratio",
               "watchkeeper_feature_out_of_range_ratio", "Share outside the reference's range."),
    MetricSpec("new_category_share", "inputs", _F, "ratio",
               "watchkeeper_feature_new_category_ratio",
               "Share of categories unseen in the reference."),
    MetricSpec("new_categories", "inputs", _F, "count", None,
               "Distinct categories unseen in the reference."),
    MetricSpec("cardinality", "inputs", _F, "count", None,
               "Distinct values of a categorical feature (from a sketch)."),
    MetricSpec("empty_ratio", "inputs", _F, "ratio", None, "Share of empty texts."),
    MetricSpec("rejected_values", "inputs", ("column", "problem"), "count", None,
               "Values validation rejected, by column and problem."),
    # inputs: drift per feature and of the dataset
    MetricSpec("feature_drift", "inputs", _FM, "1", "watchkeeper_feature_drift_score",
               "Drift statistic of a feature vs the reference."),
    MetricSpec("feature_drift_threshold", "inputs", _FM, "1",
               "watchkeeper_feature_drift_threshold", "Natural-spread threshold of the statistic."),
    MetricSpec("feature_drift_p_value", "inputs", _FM, "ratio", None,
               "P-value of the feature's drift test, adjusted for multiple testing."),
    MetricSpec("feature_drifted", "inputs", _FM, "boolean", "watchkeeper_feature_drifted",
               "1 when the feature's drift verdict is on."),
    MetricSpec("dataset_drift_share", "inputs", (), "ratio", "watchkeeper_dataset_drift_share",
               "Share of features drifted in the window."),
    MetricSpec("drifted_features", "inputs", (), "count", None,
               "Features drifted in the window."),
    MetricSpec("dataset_drifted", "inputs", (), "boolean", None,
               "1 when the share of drifted features reaches the dataset's threshold."),
    MetricSpec("multivariate_drift", "inputs", ("method",), "1",
               "watchkeeper_multivariate_drift_score",
               "Multivariate drift statistic vs the reference (pca: mean reconstruction "
               "error; domain_classifier: cross-validated AUC)."),
    MetricSpec("multivariate_drift_threshold", "inputs", ("method",), "1",
               "watchkeeper_multivariate_drift_threshold",
               "No-drift bound of the multivariate statistic at the false-alarm rate."),
    MetricSpec("multivariate_drift_p_value", "inputs", ("method",), "ratio", None,
               "P-value of the multivariate drift test."),
    MetricSpec("multivariate_drifted", "inputs", ("method",), "boolean",
               "watchkeeper_multivariate_drifted",
               "1 when the multivariate drift verdict is on."),
    MetricSpec("embedding_drift", "inputs", ("feature",), "1", None,
               "MMD² of an embedding column's descriptors (norm, projections) vs the "
               "reference."),
    MetricSpec("embedding_drift_threshold", "inputs", ("feature",), "1", None,
               "No-drift bound of the embedding MMD² (its permutation null's quantile)."),
    MetricSpec("embedding_drifted", "inputs", ("feature",), "boolean",
               "watchkeeper_embedding_drifted",
               "1 when the embedding column's drift verdict is on."),
    MetricSpec("root_cause_score", "inputs", ("feature",), "ratio",
               "watchkeeper_root_cause_score",
               "A feature's part in the window's multivariate drift (drift x impact)."),
    # outputs
    MetricSpec("output_quantile", "outputs", ("output", "quantile"), "1",
               "watchkeeper_output_value",
               "Distribution of a numeric output in the latest closed window."),
    MetricSpec("output_mean", "outputs", _O, "1", "watchkeeper_output_value_sum",
               "Mean of a numeric output (times the count, the output summary's sum)."),
    MetricSpec("output_count", "outputs", _O, "count", "watchkeeper_output_value_count",
               "Numeric values of an output in the window (the output summary's count)."),
    MetricSpec("class_frequency", "outputs", ("output", "class"), "ratio", None,
               "Share of each predicted class (the most frequent ones, the rest as other)."),
    MetricSpec("empty_output_ratio", "outputs", _O, "ratio", "watchkeeper_output_empty_ratio",
               "Share of empty or missing outputs."),
    MetricSpec("output_drift", "outputs", _OM, "1", "watchkeeper_output_drift_score",
               "Drift statistic of an output vs the reference."),
    MetricSpec("output_drift_threshold", "outputs", _OM, "1", None,
               "Natural-spread threshold of the output's statistic."),
    MetricSpec("output_drift_p_value", "outputs", _OM, "ratio", None,
               "P-value of the output's drift test, adjusted for multiple testing."),
    MetricSpec("output_drifted", "outputs", _OM, "boolean", "watchkeeper_output_drifted",
               "1 when the output's drift verdict is on."),
    # performance from labels, joined to predictions by id
    MetricSpec("accuracy", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="accuracy"),
    MetricSpec("precision", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="precision"),
    MetricSpec("recall", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="recall"),
    MetricSpec("f1", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="f1"),
    MetricSpec("roc_auc", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="roc_auc"),
    MetricSpec("log_loss", "performance", (), "1", "watchkeeper_performance", _PERF,
               prometheus_metric="log_loss"),
    MetricSpec("confusion", "performance", ("actual", "predicted"), "count", None,
               "Labelled predictions per pair of actual and predicted class."),
    MetricSpec("mae", "performance", (), "1", "watchkeeper_performance", _PERF,
               prometheus_metric="mae"),
    MetricSpec("rmse", "performance", (), "1", "watchkeeper_performance", _PERF,
               prometheus_metric="rmse"),
    MetricSpec("mape", "performance", (), "ratio", "watchkeeper_performance", _PERF,
               prometheus_metric="mape"),
    MetricSpec("r2", "performance", (), "1", "watchkeeper_performance", _PERF,
               prometheus_metric="r2"),
    MetricSpec("labelled_rows", "performance", (), "count", "watchkeeper_labelled_rows",
               "Labelled predictions in the window."),
    MetricSpec("label_coverage", "performance", (), "ratio", "watchkeeper_label_coverage_ratio",
               "Share of the window's predictions with a label."),
    # performance estimated from the score's distribution while labels are late
    MetricSpec("estimated_accuracy", "performance", (), "ratio",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="accuracy"),
    MetricSpec("estimated_precision", "performance", (), "ratio",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="precision"),
    MetricSpec("estimated_recall", "performance", (), "ratio",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="recall"),
    MetricSpec("estimated_f1", "performance", (), "ratio",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="f1"),
    # segments (MonitorConfig.segments): the segment label holds the top-K values + other
    MetricSpec("segment_rows", "inputs", _S, "count", "watchkeeper_segment_predictions",
               "Predictions in the window per segment (top values of a segment column)."),
    MetricSpec("segment_drift_share", "inputs", _S, "ratio", "watchkeeper_segment_drift_share",
               "Share of features drifted within a segment vs the same segment's reference."),
    MetricSpec("segment_drifted_features", "inputs", _S, "count", None,
               "Features drifted within a segment."),
    MetricSpec("segment_drifted", "inputs", _S, "boolean", "watchkeeper_segment_drifted",
               "1 when a feature drifted within the segment (corrected over segments)."),
    MetricSpec("segment_labelled_rows", "performance", _S, "count",
               "watchkeeper_segment_labelled_rows", "Labelled predictions per segment."),
    MetricSpec("segment_accuracy", "performance", _S, "ratio", "watchkeeper_segment_performance",
               _SEG_PERF, prometheus_metric="accuracy"),
    MetricSpec("segment_mae", "performance", _S, "1", "watchkeeper_segment_performance",
               _SEG_PERF, prometheus_metric="mae"),
    MetricSpec("segment_performance_drop", "performance", _S, "1",
               "watchkeeper_segment_performance_drop",
               "How much worse a segment performs than its baseline (> 0 is worse)."),
    MetricSpec("segment_performance_drop_low", "performance", _S, "1", None,
               "Lower bound of the drop's 95% interval (what the ranking sorts on)."),
    MetricSpec("segment_performance_drop_high", "performance", _S, "1", None,
               "Upper bound of the drop's 95% interval."),
    MetricSpec("segment_flagged", "performance", _S, "boolean", "watchkeeper_segment_flagged",
               "1 when the segment's drop is significant (corrected over segments)."),
    MetricSpec("segment_rank", "performance", _S, "1", None,
               "Rank of the segment among its column's segments, 1 the weakest."),
    MetricSpec("segment_confusion", "performance", (*_S, "actual", "predicted"), "count", None,
               "Labelled predictions of a segment per pair of actual and predicted class."),
    # estimated performance of any task with its interval, the self-check, and the
    # relative judgement (watchkeeper.monitor.estimation)
    MetricSpec("estimated_roc_auc", "performance", (), "ratio",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="roc_auc"),
    MetricSpec("estimated_mae", "performance", (), "1",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="mae"),
    MetricSpec("estimated_rmse", "performance", (), "1",
               "watchkeeper_estimated_performance", _EST, prometheus_metric="rmse"),
    MetricSpec("estimated_bound", "performance", ("metric", "bound"), "1",
               "watchkeeper_estimated_performance_bound",
               "Interval of the estimated performance: its lower and upper bound."),
    MetricSpec("estimate_error", "performance", ("metric",), "1",
               "watchkeeper_estimate_error",
               "Realised minus estimated performance, once labels cover the window."),
    MetricSpec("estimate_outside", "performance", ("metric",), "boolean",
               "watchkeeper_estimate_outside",
               "1 when the realised performance fell outside the estimate's interval."),
    MetricSpec("performance_drop", "performance", ("metric", "basis"), "1",
               "watchkeeper_performance_drop",
               "Change of performance in the worse direction against the model's normal."),
    MetricSpec("performance_degraded", "performance", ("metric", "basis"), "boolean",
               "watchkeeper_performance_degraded",
               "1 when the drop is larger than its floor and significant for the window."),
    MetricSpec("accuracy_degraded", "performance", (), "boolean",
               "watchkeeper_accuracy_degraded",
               "performance_degraded of the realised accuracy, unlabelled (LowAccuracy)."),
)
# fmt: on
"""Every metric point, grouped by family in the order the analysis writes them."""

SATURATION = (
    "process_cpu_utilisation",
    "process_memory_rss_bytes",
    "process_open_fds",
    "process_threads",
    "process_gc_pause_ratio",
    "process_gc_pause_seconds",
    "event_loop_lag_seconds",
    "in_flight_requests",
    "request_queue_seconds",
)
"""The saturation points: one per resource of a service process, labelled with the
process (``instance_id``) and ``stat`` (``mean`` or ``max`` of the window's samples). A
service sends samples under these names as ``log_metric`` values tagged ``instance_id``
(the SDK does it by itself, :mod:`watchkeeper.sdk.resources`); the collector keeps them
per instance, not as custom metrics."""
INSTANCE_LABEL = "instance_id"
"""The tag (and point label) naming the service process a saturation sample comes from.
Not ``instance``: Prometheus sets that label on every series it scrapes."""
SATURATION_STATS = ("mean", "max")
"""The statistics of a window's samples each saturation point is written for."""

_BY_NAME = {spec.name: spec for spec in METRICS}
POINT_NAMES = frozenset(_BY_NAME)
"""Every metric point name the analysis writes (what alert rules may refer to)."""


@dataclass(frozen=True)
class DriftPoints:
    """The names of the four points that state one column's drift verdict."""

    statistic: str
    threshold: str
    p_value: str
    drifted: str


FEATURE_DRIFT = DriftPoints(
    "feature_drift", "feature_drift_threshold", "feature_drift_p_value", "feature_drifted"
)
OUTPUT_DRIFT = DriftPoints(
    "output_drift", "output_drift_threshold", "output_drift_p_value", "output_drifted"
)
DATASET_DRIFT = frozenset({"dataset_drift_share", "dataset_drifted", "drifted_features"})
"""The dataset-level drift points (share, verdict and count of drifted features)."""
MULTIVARIATE_DRIFT = frozenset(
    {"multivariate_drift", "multivariate_drift_threshold", "multivariate_drifted"}
)
"""The multivariate drift points (statistic, threshold and verdict, by method)."""


def metric(name: str) -> MetricSpec:
    """The catalogue's entry for a point name.

    Raises
    ------
    ConfigError
        For a name not in the catalogue; the message lists the known names.

    Examples
    --------
    >>> metric("error_rate").unit
    'ratio'
    >>> metric("latency")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: metric: unknown metric point 'latency'; expected one of: ...
    """
    spec = _BY_NAME.get(name)
    if spec is None:
        known = ", ".join(sorted(POINT_NAMES))
        raise ConfigError(
            f"metric: unknown metric point {name!r}; expected one of: {known}",
            field="metric",
            value=name,
            expected=known,
        )
    return spec


def family_of(name: str) -> Family:
    """Which health family a metric point belongs to (``inputs`` for a name not in the
    catalogue, ``performance`` for any ``estimated_*`` name).

    >>> family_of("error_rate"), family_of("feature_drift"), family_of("estimated_f1")
    ('software', 'inputs', 'performance')
    """
    spec = _BY_NAME.get(name)
    if spec is not None:
        return spec.family
    return "performance" if name.startswith("estimated_") else "inputs"
