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

The panels and their queries are declared in :mod:`~watchkeeper.exporters._grafana_panels`;
this module assembles them with the variables and the layout into Grafana's JSON.

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
from typing import Any

from watchkeeper.exporters._grafana_panels import (
    DATASOURCE,
    FAMILIES,
    MV,
    Panel,
    counter,
    prom,
)

__all__ = ["FAMILIES", "SCHEMA_VERSION", "Panel", "grafana_dashboard", "panel_queries"]

SCHEMA_VERSION = 39
"""Grafana's dashboard schema version, as Grafana 10.3 to 11 write it (a later Grafana
migrates it when it loads the dashboard)."""


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
        _variable("model", "Model", f"label_values({counter('predictions')}, model)", regex),
        _variable(
            "version",
            "Version",
            f'label_values({counter("predictions")}{{model=~"$model"}}, version)',
        ),
        _variable(
            "feature",
            "Feature",
            f"label_values({prom('missing_ratio')}{{{MV}}}, feature)",
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
