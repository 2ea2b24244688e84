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
    "METRICS",
    "OUTPUT_DRIFT",
    "POINT_NAMES",
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

Unit = Literal["count", "ratio", "seconds", "per_second", "boolean", "1"]
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
_PERF = "Performance from labels, by metric."
_EST = "Performance estimated from scores."

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
