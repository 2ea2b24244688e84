"""The collector's YAML configuration, validated at start with errors naming the key.

Example (``watchkeeper init`` writes a commented one)::

    store: sqlite:///watchkeeper.db
    wal_dir: watchkeeper-wal
    api_keys: [change-me]
    models:
      churn:
        reference: data/reference.parquet
        window: 1m
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import MonitorConfig

__all__ = ["ModelConfig", "ServerConfig", "load_config", "parse_config"]

MODEL_KEYS = {
    "version",
    "reference",
    "schema",
    "window",
    "grace",
    "rollups",
    "outputs",
    "task",
    "positive",
    "drift",
    "column_methods",
    "retention",
    "window_retention",
}
TOP_KEYS = {
    "store",
    "wal_dir",
    "api_keys",
    "writer",
    "limits",
    "models",
    "tick_seconds",
    "fsync",
    "rules",
    "notifiers",
    "actions",
}
LIMIT_KEYS = {"max_body_bytes", "max_rows_per_batch"}


@dataclass(frozen=True)
class ModelConfig:
    """One monitored model: everything is passed to :class:`~watchkeeper.Monitor`."""

    name: str
    version: str = "1"
    reference: str | None = None
    schema: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """The model's settings as written in the file (window, grace, drift, ...)."""
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    """The same settings validated once, as the Monitor takes them."""


@dataclass(frozen=True)
class ServerConfig:
    """The whole collector configuration."""

    models: dict[str, ModelConfig]
    store: str = "sqlite:///watchkeeper.db"
    wal_dir: str = "watchkeeper-wal"
    api_keys: tuple[str, ...] = ()
    writer: str = "collector"
    max_body_bytes: int = 10_000_000
    max_rows_per_batch: int = 100_000
    tick_seconds: float = 1.0
    fsync: bool = True
    rules: tuple[Any, ...] = ()
    actions: dict[str, Any] = field(default_factory=dict)
    notifiers: tuple[dict[str, Any], ...] = ()


def _error(key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        f"{key}: expected {expected}, got {value!r}", field=key, value=value, expected=expected
    )


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    for key in keys:
        if key not in allowed:
            raise _error(f"{where}{key}", key, "one of: " + ", ".join(sorted(allowed)))


def _positive_int(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _error(key, value, "an integer >= 1")
    return value


def _monitor_config(where: str, options: Mapping[str, Any]) -> MonitorConfig:
    """A model's settings validated once; an error names the key in the file."""
    try:
        return MonitorConfig.from_options(**options)
    except WatchkeeperError as exc:
        key = f"{where}.{exc.field}" if exc.field else where
        raise ConfigError(
            f"{key}: {exc.message}", field=key, value=exc.value, expected=exc.expected
        ) from exc


def parse_config(doc: Any, *, base: Path | None = None) -> ServerConfig:
    """Validate a parsed YAML document; relative paths are resolved against ``base``.

    Examples
    --------
    >>> cfg = parse_config({"models": {"churn": {"window": "5m"}}})
    >>> cfg.models["churn"].options["window"], cfg.store
    ('5m', 'sqlite:///watchkeeper.db')
    >>> parse_config({"models": {"churn": {"windw": "5m"}}})
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: models.churn.windw: expected one of: column_methods, drift, grace, outputs, positive, reference, retention, rollups, schema, task, version, window, window_retention, got 'windw'
    """  # noqa: E501
    if not isinstance(doc, Mapping):
        raise _error("config", doc, "a mapping at the top level")
    _unknown(doc, TOP_KEYS, "")
    models_doc = doc.get("models")
    if not isinstance(models_doc, Mapping) or not models_doc:
        raise _error("models", models_doc, "a mapping of model name to settings")
    models = {}
    for name, spec in models_doc.items():
        where = f"models.{name}"
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
            raise _error(where, name, "a name of letters, digits, '-' and '_'")
        spec = spec or {}
        if not isinstance(spec, Mapping):
            raise _error(where, spec, "a mapping of settings")
        _unknown(spec, MODEL_KEYS, where + ".")
        reference = spec.get("reference")
        if reference is not None:
            if not isinstance(reference, str):
                raise _error(f"{where}.reference", reference, "a file path")
            path = Path(reference)
            if base is not None and not path.is_absolute():
                path = base / path
            if not path.exists():
                raise _error(f"{where}.reference", reference, "an existing data file")
            reference = str(path)
        schema = spec.get("schema")
        if schema is not None and not isinstance(schema, Mapping):
            raise _error(f"{where}.schema", schema, "a mapping of column to kind")
        options = {k: v for k, v in spec.items() if k not in ("version", "reference", "schema")}
        version = spec.get("version", "1")
        models[name] = ModelConfig(
            name,
            str(version),
            reference,
            dict(schema or {}) or None,
            options,
            _monitor_config(where, options),
        )
    keys = doc.get("api_keys") or []
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise _error("api_keys", keys, "a list of non-empty strings")
    limits = doc.get("limits") or {}
    if not isinstance(limits, Mapping):
        raise _error("limits", limits, "a mapping")
    _unknown(limits, LIMIT_KEYS, "limits.")
    tick = doc.get("tick_seconds", 1.0)
    if not isinstance(tick, int | float) or isinstance(tick, bool) or tick <= 0:
        raise _error("tick_seconds", tick, "a number > 0")
    wal_dir = str(doc.get("wal_dir", "watchkeeper-wal"))
    if base is not None and not Path(wal_dir).is_absolute():
        wal_dir = str(base / wal_dir)
    store = doc.get("store", "sqlite:///watchkeeper.db")
    if not isinstance(store, str):
        raise _error("store", store, "a database URL")
    if store.startswith("sqlite:///") and base is not None:
        path = Path(store.removeprefix("sqlite:///"))
        if not path.is_absolute():
            store = f"sqlite:///{base / path}"
    fsync = doc.get("fsync", True)
    if not isinstance(fsync, bool):
        raise _error("fsync", fsync, "true or false")
    from watchkeeper.alerts.rules import parse_rules
    from watchkeeper.metrics import POINT_NAMES

    rules = tuple(parse_rules(doc.get("rules") or [], known_metrics=set(POINT_NAMES)))
    notifiers = doc.get("notifiers") or []
    if not isinstance(notifiers, list) or not all(isinstance(n, Mapping) for n in notifiers):
        raise _error("notifiers", notifiers, "a list of notifier mappings")
    from watchkeeper.alerts.actions import parse_actions

    actions = parse_actions(doc.get("actions"))
    for rule in rules:
        if rule.action is not None and rule.action not in actions:
            raise _error(
                f"rules ({rule.name}).action",
                rule.action,
                "one of the actions: " + (", ".join(actions) or "none declared"),
            )
    return ServerConfig(
        actions=actions,
        rules=rules,
        notifiers=tuple(dict(n) for n in notifiers),
        models=models,
        store=store,
        wal_dir=wal_dir,
        api_keys=tuple(keys),
        writer=str(doc.get("writer", "collector")),
        max_body_bytes=_positive_int(
            limits.get("max_body_bytes", 10_000_000), "limits.max_body_bytes"
        ),
        max_rows_per_batch=_positive_int(
            limits.get("max_rows_per_batch", 100_000), "limits.max_rows_per_batch"
        ),
        tick_seconds=float(tick),
        fsync=fsync,
    )


def load_config(path: str | os.PathLike[str]) -> ServerConfig:
    """Read and validate a YAML config file (paths inside are relative to it)."""
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise _error("config", str(path), "an existing YAML file") from exc
    except yaml.YAMLError as exc:
        raise _error("config", str(path), f"valid YAML ({exc})") from exc
    return parse_config(doc, base=path.parent)


EXAMPLE = """\
# watchkeeper collector configuration (watchkeeper serve --config THIS_FILE)

# Where windows, metric points, references, predictions and labels are kept.
# SQLite file (default) or PostgreSQL: postgresql+psycopg://user@host:5432/db
store: sqlite:///watchkeeper.db

# Write-ahead log: a batch is acknowledged once it is here (fsync'd); replayed at start.
wal_dir: watchkeeper-wal

# Write endpoints need one of these keys (header X-API-Key or Authorization: Bearer).
# Leave empty to accept writes from anyone who can reach the port.
api_keys: []

# This collector's name among several writing to one store (partials merge on read).
writer: collector

limits:
  max_body_bytes: 10000000     # larger bodies get 413
  max_rows_per_batch: 100000   # larger batches get 422

models:
  churn:
    version: "1"
    # reference: reference.parquet   # what normal looks like (features and outputs)
    schema:                          # or declare the columns instead of a reference
      age: numeric
      plan: categorical
      prediction: {kind: categorical, role: output}
    window: 1m                       # tumbling window
    grace: 15s                       # wait for late rows
    rollups: [1h, 1d]                # coarser windows merged from finer ones
    retention: 7d                    # predictions kept for late labels

# Where alerts go: webhook (Alertmanager's JSON, so existing receivers work), slack,
# email (host, port, from, to) or log.
notifiers:
  - {type: log}
  # - {type: webhook, url: "http://127.0.0.1:9000/alerts"}

# Alert rules, evaluated as windows close. Fields: metric, labels (exact, "*" any,
# "~regex"), over (last N windows) + aggregate (last/avg/min/max/sum), op, threshold or
# baseline, when (a guard), for (held this long before firing), resolve_after, severity,
# summary ({label} and {value} are filled in), runbook.
rules:
  # golden signals
  - name: HighErrorRate
    metric: error_rate
    op: ">"
    threshold: 0.05
    for: 5m
    severity: critical
    summary: "error rate {value:.1%} above 5% for 5 minutes"
  - name: SlowPredictions
    metric: latency_seconds
    labels: {quantile: "0.99"}
    op: ">"
    threshold: 0.5
    for: 5m
    summary: "p99 latency {value:.3f} s above 0.5 s"
  - name: TrafficDrop
    metric: requests
    over: 5
    aggregate: avg
    op: "<"
    baseline: {over: 60, aggregate: avg, factor: 0.5}
    summary: "traffic {value:.0f}/window, under half the mean of the 60 windows before"
  - name: ServerLoad                 # saturation: log_metric("server_load", load)
    metric: custom_metric
    labels: {metric: server_load, stat: max}
    op: ">"
    threshold: 0.91
    for: 2m
    summary: "server load {value:.2f} above 0.91"
  # inputs
  - name: FeatureDrifting
    metric: feature_drifted
    labels: {feature: "*"}
    over: 2
    aggregate: min
    op: ">="
    threshold: 1
    summary: "{feature} drifted for 2 windows in a row"
  - name: DatasetDrift
    metric: dataset_drift_share
    over: 2                          # two windows: one false alarm among few features
    aggregate: min                   # would otherwise be a third of them
    op: ">"
    threshold: 0.3
    summary: "{value:.0%} of features drifted"
  - name: FeatureMissing
    metric: missing_ratio
    labels: {feature: "*"}
    op: ">"
    threshold: 0.2
    summary: "{feature} missing in {value:.0%} of rows"
  # outputs
  - name: EmptyOutputs
    metric: empty_output_ratio
    labels: {output: "*"}
    op: ">"
    threshold: 0.1
    summary: "{value:.0%} of {output} outputs are empty"
  # performance, once enough labels arrived
  - name: LowAccuracy
    metric: accuracy
    op: "<"
    threshold: 0.8
    when: {metric: label_coverage, op: ">", threshold: 0.3}
    summary: "accuracy {value:.2f} below 0.8"
"""
