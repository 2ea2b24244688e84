"""The Grafana dashboard's panels: one :class:`Panel` per chart, grouped by family.

Each panel holds its PromQL queries, built from the catalogue's Prometheus names
(:mod:`watchkeeper.metrics`) and the exporter's counters, never from string literals.
Every watchkeeper query is filtered by ``model=~"$model", version=~"$version"``; the
middleware's metrics carry no model label, so their queries are filtered by the scrape
``job``. :mod:`watchkeeper.exporters.grafana` assembles these panels into a dashboard.

Examples
--------
>>> FAMILIES[0][1][0].targets[0][0]
'watchkeeper_latency_seconds{model=~"$model", version=~"$version"}'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from watchkeeper.exporters.prometheus import COUNTERS, WINDOW_START
from watchkeeper.metrics import metric

__all__ = ["DATASOURCE", "FAMILIES", "MV", "Panel", "counter", "prom"]

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
MV = 'model=~"$model", version=~"$version"'
"""The matchers every watchkeeper query carries."""
JOB = 'job=~"$job"'
"""The matcher of the middleware's queries (its metrics carry no model label)."""
RATE = "$__rate_interval"

Source = Literal["watchkeeper", "middleware", "rules"]


@dataclass(frozen=True)
class Panel:
    """One panel of the dashboard.

    Parameters
    ----------
    title
        Panel title (unique in the dashboard).
    targets
        ``(PromQL, legend)`` pairs, one query each.
    unit
        Grafana unit id: ``s``, ``reqps``, ``percentunit`` (a 0-1 ratio), ``short``…
    kind
        Grafana panel type.
    source
        Where the series come from: ``watchkeeper`` (the ``/metrics`` of ``watchkeeper
        serve``), ``middleware`` (a model server with ``WatchkeeperMiddleware``) or
        ``rules`` (Prometheus evaluating the exported alerting rules).
    description
        Shown in the panel's info tooltip.
    width
        Of the dashboard's 24 columns.
    """

    title: str
    targets: tuple[tuple[str, str], ...]
    unit: str = "short"
    kind: Literal["timeseries", "stat", "table", "state-timeline"] = "timeseries"
    source: Source = "watchkeeper"
    description: str = ""
    width: int = 8


def prom(point: str) -> str:
    """The Prometheus name ``/metrics`` exports a catalogued metric point under."""
    name = metric(point).prometheus
    if name is None:
        raise ValueError(f"{point}: not exported to Prometheus (see watchkeeper.metrics)")
    return name


def counter(key: str) -> str:
    """The sample name of one of the collector's counters."""
    return COUNTERS[key][0] + "_total"


def _selector(name: str, matchers: Sequence[str]) -> str:
    return name + "{" + ", ".join(matchers) + "}"


def _wk(name: str, *matchers: str) -> str:
    """A watchkeeper selector filtered by the dashboard's model and version."""
    return _selector(name, (MV, *matchers))


def _svc(name: str, *matchers: str) -> str:
    """A middleware selector filtered by the dashboard's scrape job."""
    return _selector(name, (JOB, *matchers))


def _by_model(how: str, selector: str) -> str:
    """The sum or max of a per-instance series over a model's replicas."""
    return f"{how} by (model, version) ({selector})"


def _rate(selector: str, by: str = "model, version") -> str:
    """Per-second rate of a counter, summed by ``by`` (over everything when empty)."""
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({selector}[{RATE}]))"


def _latency_quantile(q: float) -> str:
    buckets = _svc("http_request_duration_seconds_bucket")
    return f"histogram_quantile({q}, {_rate(buckets, 'le, route')})"


FEATURE = 'feature=~"$feature"'
FIRING = 'alertstate="firing"'
PER_MODEL = "{{model}}/{{version}}"
_5XX = _rate(_svc("http_request_count_total", 'status=~"5.."'), by="")
_ALL = _rate(_svc("http_request_count_total"), by="")

SOFTWARE = (
    Panel(
        "Latency p50 / p95 / p99",
        ((_wk(prom("latency_seconds")), PER_MODEL + " p{{quantile}}"),),
        unit="s",
        description="Prediction latency quantiles in the latest closed window.",
    ),
    Panel(
        "Traffic",
        (
            (_wk(prom("throughput_per_second")), PER_MODEL + " in window"),
            (_rate(_wk(counter("predictions"))), PER_MODEL + " predictions received"),
            (_rate(_wk(counter("labels"))), PER_MODEL + " labels received"),
        ),
        unit="reqps",
        description="Predictions per second in the latest closed window, and what the "
        "collector receives now.",
    ),
    Panel(
        "Error rate",
        ((_wk(prom("error_rate")), PER_MODEL),),
        unit="percentunit",
        description="Share of the window's predictions logged with an error.",
    ),
    Panel(
        "Errors by kind",
        ((_wk(prom("errors")), PER_MODEL + " {{kind}}"),),
        description="Predictions logged with an error in the latest closed window.",
    ),
    Panel(
        "Server load (custom metric)",
        ((_wk(prom("custom_metric"), 'metric="server_load"', 'stat="max"'), PER_MODEL),),
        description="Saturation as the service reports it: the highest "
        '`log_metric("server_load", …)` value in the latest closed window (the ServerLoad '
        "rule fires above 0.91).",
    ),
    Panel(
        "Service CPU per instance",
        (
            (_wk(prom("process_cpu_utilisation"), 'stat="mean"'), PER_MODEL + " {{instance_id}}"),
            (
                _by_model("max", _wk(prom("process_cpu_utilisation"), 'stat="max"')),
                PER_MODEL + " busiest sample",
            ),
        ),
        unit="percentunit",
        description="CPU of each process serving the model, as a share of the cores it may "
        "use (sampled by the SDK; the HighCpu rule fires above 90% for 5 minutes).",
    ),
    Panel(
        "Service memory per instance",
        (
            (_wk(prom("process_memory_rss_bytes"), 'stat="max"'), PER_MODEL + " {{instance_id}}"),
            (
                _by_model("sum", _wk(prom("process_memory_rss_bytes"), 'stat="mean"')),
                PER_MODEL + " all replicas",
            ),
        ),
        unit="bytes",
        description="Resident memory of each process serving the model, and of all its "
        "replicas together (sampled by the SDK; the MemoryGrowth rule compares it with the "
        "hour before).",
    ),
    Panel(
        "Latest window age",
        ((f"time() - {_wk(WINDOW_START)}", PER_MODEL),),
        unit="s",
        kind="stat",
        description="Seconds since the start of the latest closed window: it grows when "
        "traffic stops or the collector stalls.",
    ),
)
MODEL_SERVICE = (
    Panel(
        "Requests by route and status",
        ((_rate(_svc("http_request_count_total"), by="route, status"), "{{route}} {{status}}"),),
        unit="reqps",
        source="middleware",
    ),
    Panel(
        "Request latency p50 / p95 / p99",
        tuple((_latency_quantile(q), "{{route}} p" + f"{q:g}") for q in (0.5, 0.95, 0.99)),
        unit="s",
        source="middleware",
    ),
    Panel(
        "Server errors (5xx share)",
        ((f"({_5XX} or vector(0)) / {_ALL}", "5xx share"),),
        unit="percentunit",
        source="middleware",
    ),
    Panel(
        "Unhandled exceptions",
        (
            (
                _rate(_svc("http_request_exceptions_total"), by="route, exception"),
                "{{route}} {{exception}}",
            ),
        ),
        unit="reqps",
        source="middleware",
    ),
    Panel(
        "Requests in flight (saturation)",
        ((f"sum by (job, instance) ({_svc('http_requests_in_flight')})", "{{instance}}"),),
        source="middleware",
    ),
)
INPUTS = (
    Panel(
        "Feature drift score vs threshold",
        (
            (_wk(prom("feature_drift"), FEATURE), "{{feature}} ({{method}})"),
            (_wk(prom("feature_drift_threshold"), FEATURE), "{{feature}} threshold"),
        ),
        description="The drift statistic against its natural spread at this sample size.",
    ),
    Panel(
        "Drift verdict per feature",
        ((_wk(prom("feature_drifted"), FEATURE), "{{feature}}"),),
        kind="state-timeline",
    ),
    Panel(
        "Dataset drift share",
        ((_wk(prom("dataset_drift_share")), PER_MODEL),),
        unit="percentunit",
        description="Share of the features drifted in the window.",
    ),
    Panel(
        "Multivariate drift verdict",
        ((_wk(prom("multivariate_drifted")), PER_MODEL + " {{method}}"),),
        kind="state-timeline",
        description="The rows as a whole against the reference (PCA reconstruction error; "
        "domain classifier), for models with multivariate drift on.",
    ),
    Panel(
        "Root causes of the multivariate drift",
        ((_wk(prom("root_cause_score"), FEATURE), "{{feature}}"),),
        unit="percentunit",
        description="Each feature's part in the window's multivariate drift (drift x impact).",
    ),
    Panel(
        "Missing values per feature",
        ((_wk(prom("missing_ratio"), FEATURE), "{{feature}}"),),
        unit="percentunit",
    ),
    Panel(
        "Out-of-range values per feature",
        ((_wk(prom("out_of_range_share"), FEATURE), "{{feature}}"),),
        unit="percentunit",
        description="Share of a numeric feature outside the reference's [min, max].",
    ),
    Panel(
        "New categories per feature",
        ((_wk(prom("new_category_share"), FEATURE), "{{feature}}"),),
        unit="percentunit",
        description="Share of a categorical feature's values unseen in the reference.",
    ),
    Panel(
        "Type errors per feature",
        ((_wk(prom("type_errors"), FEATURE), "{{feature}}"),),
    ),
    Panel(
        "Rejected rows",
        ((_rate(_wk(counter("rejected_rows"))), PER_MODEL),),
        unit="reqps",
        description="Rows per second in batches the monitor rejected.",
    ),
)
OUTPUTS = (
    Panel(
        "Output quantiles",
        ((_wk(prom("output_quantile")), "{{output}} q{{quantile}}"),),
    ),
    Panel(
        "Empty outputs",
        ((_wk(prom("empty_output_ratio")), "{{output}}"),),
        unit="percentunit",
        description="Share of empty or missing outputs.",
    ),
    Panel(
        "Output drift score",
        ((_wk(prom("output_drift")), "{{output}} ({{method}})"),),
    ),
)
PERFORMANCE = (
    Panel(
        "Performance from labels",
        ((_wk(prom("accuracy")), "{{metric}}"),),
        description="Labels are joined to predictions by id whenever they arrive.",
    ),
    Panel(
        "Label coverage",
        ((_wk(prom("label_coverage")), PER_MODEL),),
        unit="percentunit",
        description="Share of the window's predictions that have a label.",
    ),
    Panel(
        "Estimated performance",
        ((_wk(prom("estimated_accuracy")), "{{metric}}"),),
        description="Estimated from calibrated scores while labels are late.",
    ),
)
ALERTING = (
    Panel(
        "Firing alerts",
        ((_wk("ALERTS", FIRING), ""),),
        kind="table",
        source="rules",
        width=16,
    ),
    Panel(
        "Firing alerts by rule",
        (
            (
                f"count by (alertname, severity) ({_wk('ALERTS', FIRING)})",
                "{{alertname}} ({{severity}})",
            ),
        ),
        source="rules",
    ),
)

FAMILIES: tuple[tuple[str, tuple[Panel, ...]], ...] = (
    ("Software: the four golden signals (per window)", SOFTWARE),
    ("Software: the model service (WatchkeeperMiddleware, by scrape job)", MODEL_SERVICE),
    ("Inputs: drift and data quality (per window)", INPUTS),
    ("Outputs (per window)", OUTPUTS),
    ("Performance (per window)", PERFORMANCE),
    ("Alerts (Prometheus evaluating watchkeeper export prometheus-rules)", ALERTING),
)
"""Row title -> its panels, in dashboard order."""
