"""A Grafana dashboard over the names ``/metrics`` exposes, built as plain JSON.

``watchkeeper export grafana-dashboard`` writes it for teams that already run Prometheus
and Grafana; ``deploy/grafana/`` provisions it. The dashboard has a ``datasource``
variable (any Prometheus); ``model``, ``version``, ``feature`` and ``job`` variables read
from the series themselves; and one row per family of signals, in the order of the
built-in dashboard:

- software (the four golden signals): latency p50/p95/p99, traffic, error rate and
  errors by kind, the age of the latest closed window;
- the model service: request rate by route and status, request latency, 5xx share,
  unhandled exceptions and requests in flight (saturation), from a model server
  instrumented with :class:`~watchkeeper.sdk.middleware.WatchkeeperMiddleware`;
- inputs: drift score and threshold, drift verdict per feature, dataset drift share,
  missing values, out-of-range values, new categories, type errors, rejected rows;
- outputs: score quantiles, empty outputs, output drift;
- performance: metrics from labels, label coverage, estimated performance;
- alerts: ``ALERTS`` from a Prometheus evaluating the rules of
  ``watchkeeper export prometheus-rules``.

watchkeeper's names come from the catalogue (:mod:`watchkeeper.metrics`) and the
exporter's counters, not from string literals. Every watchkeeper query is filtered by
``model=~"$model", version=~"$version"``. The middleware's metrics carry no model label:
those panels are filtered by the scrape ``job`` instead (``$job``). The gauges hold the
latest *closed* window, so a panel moves once per window, a window's length after the
traffic it shows.

Custom metrics appear as ``watchkeeper_custom_metric{metric, stat}`` (untagged series;
``server_load`` has a panel). What is not here, because ``/metrics`` does not carry it:
tagged custom series, events, class frequencies and confusion cells; the built-in
dashboard shows those.

Examples
--------
>>> dash = grafana_dashboard(models=["churn"])
>>> dash["templating"]["list"][1]["regex"]
'/^(?:churn)$/'
>>> title, expr = panel_queries(dash)[0]
>>> title
'Latency p50 / p95 / p99'
>>> expr
'watchkeeper_latency_seconds{model=~"$model", version=~"$version"}'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from watchkeeper.exporters.prometheus import COUNTERS, WINDOW_START
from watchkeeper.metrics import metric

__all__ = ["FAMILIES", "SCHEMA_VERSION", "Panel", "grafana_dashboard", "panel_queries"]

SCHEMA_VERSION = 39
"""Grafana's dashboard schema version, as Grafana 10.3 to 11 write it (a later Grafana
migrates it when it loads the dashboard)."""

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


def _prom(point: str) -> str:
    """The Prometheus name ``/metrics`` exports a catalogued metric point under."""
    name = metric(point).prometheus
    if name is None:
        raise ValueError(f"{point}: not exported to Prometheus (see watchkeeper.metrics)")
    return name


def _counter(key: str) -> str:
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
        ((_wk(_prom("latency_seconds")), PER_MODEL + " p{{quantile}}"),),
        unit="s",
        description="Prediction latency quantiles in the latest closed window.",
    ),
    Panel(
        "Traffic",
        (
            (_wk(_prom("throughput_per_second")), PER_MODEL + " in window"),
            (_rate(_wk(_counter("predictions"))), PER_MODEL + " predictions received"),
            (_rate(_wk(_counter("labels"))), PER_MODEL + " labels received"),
        ),
        unit="reqps",
        description="Predictions per second in the latest closed window, and what the "
        "collector receives now.",
    ),
    Panel(
        "Error rate",
        ((_wk(_prom("error_rate")), PER_MODEL),),
        unit="percentunit",
        description="Share of the window's predictions logged with an error.",
    ),
    Panel(
        "Errors by kind",
        ((_wk(_prom("errors")), PER_MODEL + " {{kind}}"),),
        description="Predictions logged with an error in the latest closed window.",
    ),
    Panel(
        "Server load (custom metric)",
        ((_wk(_prom("custom_metric"), 'metric="server_load"', 'stat="max"'), PER_MODEL),),
        description="Saturation as the service reports it: the highest "
        '`log_metric("server_load", …)` value in the latest closed window (the ServerLoad '
        "rule fires above 0.91).",
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
            (_wk(_prom("feature_drift"), FEATURE), "{{feature}} ({{method}})"),
            (_wk(_prom("feature_drift_threshold"), FEATURE), "{{feature}} threshold"),
        ),
        description="The drift statistic against its natural spread at this sample size.",
    ),
    Panel(
        "Drift verdict per feature",
        ((_wk(_prom("feature_drifted"), FEATURE), "{{feature}}"),),
        kind="state-timeline",
    ),
    Panel(
        "Dataset drift share",
        ((_wk(_prom("dataset_drift_share")), PER_MODEL),),
        unit="percentunit",
        description="Share of the features drifted in the window.",
    ),
    Panel(
        "Missing values per feature",
        ((_wk(_prom("missing_ratio"), FEATURE), "{{feature}}"),),
        unit="percentunit",
    ),
    Panel(
        "Out-of-range values per feature",
        ((_wk(_prom("out_of_range_share"), FEATURE), "{{feature}}"),),
        unit="percentunit",
        description="Share of a numeric feature outside the reference's [min, max].",
    ),
    Panel(
        "New categories per feature",
        ((_wk(_prom("new_category_share"), FEATURE), "{{feature}}"),),
        unit="percentunit",
        description="Share of a categorical feature's values unseen in the reference.",
    ),
    Panel(
        "Type errors per feature",
        ((_wk(_prom("type_errors"), FEATURE), "{{feature}}"),),
    ),
    Panel(
        "Rejected rows",
        ((_rate(_wk(_counter("rejected_rows"))), PER_MODEL),),
        unit="reqps",
        description="Rows per second in batches the monitor rejected.",
    ),
)
OUTPUTS = (
    Panel(
        "Output quantiles",
        ((_wk(_prom("output_quantile")), "{{output}} q{{quantile}}"),),
    ),
    Panel(
        "Empty outputs",
        ((_wk(_prom("empty_output_ratio")), "{{output}}"),),
        unit="percentunit",
        description="Share of empty or missing outputs.",
    ),
    Panel(
        "Output drift score",
        ((_wk(_prom("output_drift")), "{{output}} ({{method}})"),),
    ),
)
PERFORMANCE = (
    Panel(
        "Performance from labels",
        ((_wk(_prom("accuracy")), "{{metric}}"),),
        description="Labels are joined to predictions by id whenever they arrive.",
    ),
    Panel(
        "Label coverage",
        ((_wk(_prom("label_coverage")), PER_MODEL),),
        unit="percentunit",
        description="Share of the window's predictions that have a label.",
    ),
    Panel(
        "Estimated performance",
        ((_wk(_prom("estimated_accuracy")), "{{metric}}"),),
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


def _variable(name: str, label: str, query: str, regex: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "regex": regex,
        "refresh": 2,  # on time range change: new models and versions appear
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {},
        "options": [],
        "sort": 1,
        "hide": 0,
    }


def _templating(models: Sequence[str] | None) -> list[dict[str, Any]]:
    regex = ""
    if models:
        regex = "/^(?:" + "|".join(re.escape(m) for m in models) + ")$/"
    datasource = {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "regex": "",
        "current": {},
        "options": [],
        "hide": 0,
        "refresh": 1,
        "multi": False,
        "includeAll": False,
    }
    return [
        datasource,
        _variable("model", "Model", f"label_values({_counter('predictions')}, model)", regex),
        _variable(
            "version",
            "Version",
            f'label_values({_counter("predictions")}{{model=~"$model"}}, version)',
        ),
        _variable(
            "feature",
            "Feature",
            f"label_values({_prom('missing_ratio')}{{{MV}}}, feature)",
        ),
        _variable(
            "job",
            "Model service (scrape job)",
            "label_values(http_request_count_total, job)",
        ),
    ]


_OPTIONS: dict[str, dict[str, Any]] = {
    "timeseries": {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    },
    "stat": {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
    },
    "state-timeline": {
        "mergeValues": True,
        "showValue": "auto",
        "alignValue": "left",
        "rowHeight": 0.9,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "single", "sort": "none"},
    },
    "table": {"showHeader": True, "cellHeight": "sm"},
}

_VERDICT = [
    {
        "type": "value",
        "options": {
            "0": {"index": 0, "text": "no drift", "color": "green"},
            "1": {"index": 1, "text": "drift", "color": "red"},
        },
    }
]


def _panel_json(panel: Panel, panel_id: int, grid: dict[str, int]) -> dict[str, Any]:
    table = panel.kind == "table"
    targets = []
    for i, (expr, legend) in enumerate(panel.targets):
        target: dict[str, Any] = {
            "datasource": DATASOURCE,
            "refId": chr(ord("A") + i),
            "expr": expr,
            "legendFormat": legend or "__auto",
            "range": not table,
            "instant": table,
        }
        if table:
            target["format"] = "table"
        targets.append(target)
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.unit == "percentunit":
        defaults.update(min=0, max=1)
    if panel.kind == "state-timeline":
        defaults["mappings"] = _VERDICT
    doc: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": _OPTIONS[panel.kind],
        "targets": targets,
    }
    if table:  # one line per alert: its labels, not the sample's time and value
        hidden = {"Time": True, "Value": True, "__name__": True, "alertstate": True}
        doc["transformations"] = [{"id": "organize", "options": {"excludeByName": hidden}}]
    return doc


def _layout(families: Sequence[tuple[str, Sequence[Panel]]]) -> list[dict[str, Any]]:
    """Rows and panels left to right, wrapping at Grafana's 24 columns."""
    height = 8
    out: list[dict[str, Any]] = []
    y = 0
    for title, panels in families:
        out.append(
            {
                "id": len(out) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        y += 1
        x = 0
        for panel in panels:
            if x + panel.width > 24:
                x, y = 0, y + height
            grid = {"h": height, "w": panel.width, "x": x, "y": y}
            out.append(_panel_json(panel, len(out) + 1, grid))
            x += panel.width
        y += height
    return out


def grafana_dashboard(
    *, title: str = "watchkeeper", models: list[str] | None = None
) -> dict[str, Any]:
    """The dashboard as a JSON-ready dict (Grafana's dashboard model).

    Parameters
    ----------
    title
        Dashboard title; its uid is derived from it, so that two exports with different
        titles can live side by side.
    models
        Offer only these models in the ``model`` variable (default: every model
        Prometheus has seen).

    Returns
    -------
    dict
        Write it with ``json.dumps``; provision it from a file, or import it in the UI and
        pick the Prometheus data source.
    """
    uid = re.sub(r"[^a-z0-9-]+", "-", title.lower()).strip("-")[:40] or "watchkeeper"
    return {
        "uid": uid,
        "title": title,
        "description": "ML model monitoring from watchkeeper's /metrics "
        "(generated by watchkeeper export grafana-dashboard).",
        "tags": ["watchkeeper", "ml-monitoring"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": _templating(models)},
        "panels": _layout(FAMILIES),
    }


def _all_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row holds its panels


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """Every query of the dashboard as ``(panel title, PromQL)``, in dashboard order."""
    return [
        (panel["title"], target["expr"])
        for panel in _all_panels(dashboard)
        for target in panel.get("targets", [])
    ]
