"""The alert rules as Prometheus alerting rules over the names ``/metrics`` exposes.

``watchkeeper export prometheus-rules --config watchkeeper.yaml`` writes a rule file for
teams that alert from Prometheus and Alertmanager. Windows become ranges (``over`` N
windows of size ``window`` -> ``min_over_time(...[N*window])``), a baseline becomes an
``offset`` comparison, a guard an ``and on(model, version)`` clause. Rules on points
that ``/metrics`` does not export (tagged custom series, events, class frequencies,
confusion cells) are skipped and listed in a comment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from watchkeeper.alerts.rules import Rule
from watchkeeper.exporters.prometheus import EXPORTED, SUMMARIES
from watchkeeper.metrics import metric

__all__ = ["prometheus_rules", "promql"]

_SUMMARIES = {quantiles: prom for prom, (_help, quantiles, *_rest) in SUMMARIES.items()}
"""Quantile point -> its Prometheus summary (a rule on it matches the ``quantile`` label)."""
_RANGE_FN = {
    "avg": "avg_over_time",
    "min": "min_over_time",
    "max": "max_over_time",
    "sum": "sum_over_time",
    "last": "last_over_time",
}


def _selector(point: str, labels: dict[str, str], model: str) -> str | None:
    matchers: list[str] = []
    if point in _SUMMARIES:
        name = _SUMMARIES[point]
    elif point in EXPORTED:
        name, _help, kept = EXPORTED[point]
        shared = metric(point).prometheus_metric
        if shared is not None:
            matchers.append(f'metric="{shared}"')
        for key in labels:
            if key not in kept:
                return None  # a label /metrics does not carry
    else:
        return None
    if model != "*":
        matchers.append(f'model="{model}"')
    for key, pattern in sorted(labels.items()):
        if pattern == "*":
            matchers.append(f'{key}!=""')
        elif pattern.startswith("~"):
            matchers.append(f'{key}=~"{pattern[1:]}"')
        else:
            matchers.append(f'{key}="{pattern}"')
    return f"{name}{{{', '.join(matchers)}}}" if matchers else name


def _duration(seconds: float) -> str:
    return f"{round(seconds)}s"


def promql(rule: Rule, window_seconds: float) -> str | None:
    """The rule's condition in PromQL, or ``None`` when ``/metrics`` lacks its metric."""
    selector = _selector(rule.metric, dict(rule.labels), rule.model)
    if selector is None:
        return None
    value = selector
    if rule.over > 1 or rule.aggregate != "last":
        span = _duration(rule.over * window_seconds)
        value = f"{_RANGE_FN[rule.aggregate]}({selector}[{span}])"
    if rule.baseline is not None:
        b = rule.baseline
        span = _duration(b.over * window_seconds)
        offset = _duration(rule.over * window_seconds)
        bound = f"{b.factor:g} * {_RANGE_FN[b.aggregate]}({selector}[{span}] offset {offset})"
    else:
        bound = f"{rule.threshold:g}"
    expr = f"{value} {rule.op} {bound}"
    if rule.when is not None:
        guard = _selector(rule.when.metric, dict(rule.when.labels), rule.model)
        if guard is None:
            return None
        expr = f"({expr}) and on(model, version) ({guard} {rule.when.op} {rule.when.threshold:g})"
    return expr


def _template(text: str) -> str:
    """``{feature}`` and ``{value:.1%}`` placeholders in Prometheus's template language."""

    def swap(m: re.Match[str]) -> str:
        name = m.group(1)
        return "{{ $value }}" if name == "value" else "{{ $labels." + name + " }}"

    return re.sub(r"\{(\w+)(?::[^}]*)?\}", swap, text)


def prometheus_rules(
    rules: Sequence[Rule], window_seconds: float = 60.0
) -> tuple[dict[str, Any], list[str]]:
    """A Prometheus rule file (as a mapping, ready for YAML), and the names of the rules
    it could not express."""
    out: list[dict[str, Any]] = []
    skipped: list[str] = []
    for rule in rules:
        expr = promql(rule, window_seconds)
        if expr is None:
            skipped.append(rule.name)
            continue
        annotations = {
            "summary": _template(rule.summary or f"{rule.name} on {{{{ $labels.model }}}}")
        }
        if rule.runbook:
            annotations["runbook_url"] = rule.runbook
        out.append(
            {
                "alert": rule.name,
                "expr": expr,
                "for": _duration(rule.for_seconds),
                "labels": {"severity": rule.severity},
                "annotations": annotations,
            }
        )
    return {"groups": [{"name": "watchkeeper", "rules": out}]}, skipped
