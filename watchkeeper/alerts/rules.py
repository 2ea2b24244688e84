"""Alert rules: a condition over watchkeeper's metric points, held for a while.

A rule, as written in the config YAML::

    - name: FeatureDrifting
      metric: feature_drifted          # a metric point name (watchkeeper.metrics)
      labels: {feature: "*"}           # matchers: exact, "*" any, "~regex"
      over: 2                          # the last N closed windows ...
      aggregate: min                   # ... reduced by last, avg, min, max or sum
      op: ">="
      threshold: 1                     # or baseline: {over: 60, aggregate: avg, factor: 1.5}
      when: {metric: label_coverage, op: ">", threshold: 0.3}   # optional guard
      for: 0s                          # condition true this long before firing
      repeat: 4h                       # remind while it keeps firing (0: never)
      severity: warning
      summary: "{feature} drifted for 2 windows"
      runbook: https://wiki/runbooks/drift

One alert per rule and label set (``feature="*"`` gives one per feature). Errors name the
rule and the field: ``rules[2] (FeatureDrifting).op: expected one of: <, <=, ...``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.errors import RuleError
from watchkeeper.metrics import POINT_NAMES
from watchkeeper.units import parse_duration

__all__ = ["AGGREGATES", "OPS", "Baseline", "Guard", "Rule", "parse_rules"]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "last": lambda v: v[-1],
    "avg": lambda v: sum(v) / len(v),
    "min": min,
    "max": max,
    "sum": sum,
}
SEVERITIES = ("info", "warning", "critical")
RULE_KEYS = {
    "name",
    "metric",
    "labels",
    "over",
    "aggregate",
    "op",
    "threshold",
    "baseline",
    "when",
    "for",
    "resolve_after",
    "repeat",
    "severity",
    "summary",
    "runbook",
    "model",
    "action",
}


@dataclass(frozen=True)
class Guard:
    """Only evaluate the rule while another metric satisfies ``op threshold``."""

    metric: str
    op: str
    threshold: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """Compare with ``factor`` x the metric's own aggregate over the ``over`` windows
    before the evaluated ones (e.g. 1.5 x the last hour's mean)."""

    over: int
    aggregate: str = "avg"
    factor: float = 1.0


@dataclass(frozen=True)
class Rule:
    """One validated alert rule (see the module docstring for the fields)."""

    name: str
    metric: str
    op: str
    threshold: float | None = None
    baseline: Baseline | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    over: int = 1
    aggregate: str = "last"
    when: Guard | None = None
    for_seconds: float = 0.0
    resolve_after_seconds: float = 0.0
    repeat_seconds: float = 0.0
    severity: str = "warning"
    summary: str = ""
    runbook: str = ""
    model: str = "*"
    action: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a point's labels satisfy every matcher of the rule."""
        return _matches(self.labels, labels)

    def holds(self, value: float, baseline: float | None = None) -> bool:
        """Whether ``value`` breaches the rule (NaN never does)."""
        bound = self.threshold if self.baseline is None else baseline
        if bound is None or math.isnan(value) or math.isnan(bound):
            return False
        return bool(OPS[self.op](value, bound))


def _matches(matchers: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    for key, pattern in matchers.items():
        value = labels.get(key)
        if pattern == "*":
            if value is None:
                return False
        elif pattern.startswith("~"):
            if value is None or re.fullmatch(pattern[1:], value) is None:
                return False
        elif value != pattern:
            return False
    return True


def _duration(value: Any, where: str) -> float:
    return parse_duration(value, where, error=RuleError)


def _number(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise RuleError(
        f"{where}: expected a number, got {value!r}", field=where, value=value, expected="a number"
    )


def _choice(value: Any, options: Sequence[str], where: str) -> str:
    if value not in options:
        raise RuleError(
            f"{where}: expected one of: {', '.join(options)}, got {value!r}",
            field=where,
            value=value,
            expected=", ".join(options),
        )
    return str(value)


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise RuleError(
            f"{where}: expected a mapping of label to pattern, got {value!r}",
            field=where,
            value=value,
            expected="label: pattern",
        )
    for key, pattern in value.items():
        if pattern.startswith("~"):
            try:
                re.compile(pattern[1:])
            except re.error as exc:
                raise RuleError(
                    f"{where}.{key}: bad regular expression {pattern!r} ({exc})",
                    field=f"{where}.{key}",
                    value=pattern,
                    expected="a valid regular expression",
                ) from exc
    return {str(k): v for k, v in value.items()}


def parse_rules(doc: Any, known_metrics: Collection[str] = POINT_NAMES) -> list[Rule]:
    """Validate a list of rule mappings.

    ``known_metrics`` is the set of metric point names a rule may use: by default every
    name of the catalogue (:data:`watchkeeper.metrics.POINT_NAMES`).

    Examples
    --------
    >>> [r.name for r in parse_rules([{"name": "Slow", "metric": "error_rate", "op": ">",
    ...                                "threshold": 0.05, "for": "5m"}])]
    ['Slow']
    >>> parse_rules([{"name": "Bad", "metric": "error_rate", "op": "=>", "threshold": 1}])
    Traceback (most recent call last):
    ...
    watchkeeper.errors.RuleError: rules[0] (Bad).op: expected one of: >, >=, <, <=, ==, !=, got '=>'
    """
    if not isinstance(doc, list):
        raise RuleError(
            f"rules: expected a list of rules, got {doc!r}",
            field="rules",
            value=doc,
            expected="a list",
        )
    rules: list[Rule] = []
    names: set[str] = set()
    for i, spec in enumerate(doc):
        if not isinstance(spec, Mapping):
            raise RuleError(
                f"rules[{i}]: expected a mapping, got {spec!r}",
                field=f"rules[{i}]",
                value=spec,
                expected="a mapping",
            )
        name = spec.get("name")
        where = f"rules[{i}] ({name})"
        if not isinstance(name, str) or not name:
            raise RuleError(
                f"rules[{i}].name: expected a non-empty name, got {name!r}",
                field=f"rules[{i}].name",
                value=name,
                expected="a name",
            )
        if name in names:
            raise RuleError(
                f"{where}.name: declared twice; expected unique names",
                field=f"{where}.name",
                value=name,
                expected="unique",
            )
        names.add(name)
        for key in spec:
            if key not in RULE_KEYS:
                known = ", ".join(sorted(RULE_KEYS))
                raise RuleError(
                    f"{where}.{key}: unknown field; expected one of: {known}",
                    field=f"{where}.{key}",
                    value=key,
                    expected=known,
                )
        metric = spec.get("metric")
        if not isinstance(metric, str) or metric not in known_metrics:
            expected = ", ".join(sorted(known_metrics))
            raise RuleError(
                f"{where}.metric: unknown metric {metric!r}; expected {expected}",
                field=f"{where}.metric",
                value=metric,
                expected=expected,
            )
        op = _choice(spec.get("op"), list(OPS), f"{where}.op")
        threshold = spec.get("threshold")
        baseline = None
        if "baseline" in spec:
            b = spec["baseline"]
            if not isinstance(b, Mapping):
                raise RuleError(
                    f"{where}.baseline: expected a mapping, got {b!r}",
                    field=f"{where}.baseline",
                    value=b,
                    expected="a mapping",
                )
            baseline = Baseline(
                over=_count(b.get("over", 60), f"{where}.baseline.over"),
                aggregate=_choice(
                    b.get("aggregate", "avg"), list(AGGREGATES), f"{where}.baseline.aggregate"
                ),
                factor=_number(b.get("factor", 1.0), f"{where}.baseline.factor"),
            )
        elif threshold is None:
            raise RuleError(
                f"{where}.threshold: expected a number (or a baseline), got None",
                field=f"{where}.threshold",
                value=None,
                expected="a number",
            )
        guard = None
        if "when" in spec:
            w = spec["when"]
            if not isinstance(w, Mapping) or not isinstance(w.get("metric"), str):
                raise RuleError(
                    f"{where}.when: expected {{metric, op, threshold}}, got {w!r}",
                    field=f"{where}.when",
                    value=w,
                    expected="metric, op, threshold",
                )
            guard = Guard(
                metric=w["metric"],
                op=_choice(w.get("op"), list(OPS), f"{where}.when.op"),
                threshold=_number(w.get("threshold"), f"{where}.when.threshold"),
                labels=_labels(w.get("labels"), f"{where}.when.labels"),
            )
        rules.append(
            Rule(
                name=name,
                metric=metric,
                op=op,
                threshold=None if threshold is None else _number(threshold, f"{where}.threshold"),
                baseline=baseline,
                labels=_labels(spec.get("labels"), f"{where}.labels"),
                over=_count(spec.get("over", 1), f"{where}.over"),
                aggregate=_choice(
                    spec.get("aggregate", "last"), list(AGGREGATES), f"{where}.aggregate"
                ),
                when=guard,
                for_seconds=_duration(spec.get("for", 0), f"{where}.for"),
                resolve_after_seconds=_duration(
                    spec.get("resolve_after", 0), f"{where}.resolve_after"
                ),
                repeat_seconds=_duration(spec.get("repeat", 0), f"{where}.repeat"),
                severity=_choice(spec.get("severity", "warning"), SEVERITIES, f"{where}.severity"),
                summary=str(spec.get("summary", "")),
                runbook=str(spec.get("runbook", "")),
                model=str(spec.get("model", "*")),
                action=None if spec.get("action") is None else str(spec["action"]),
            )
        )
    return rules


def _count(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise RuleError(
        f"{where}: expected a whole number of windows >= 1, got {value!r}",
        field=where,
        value=value,
        expected="an integer >= 1",
    )
