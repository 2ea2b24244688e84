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

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import MonitorConfig
from watchkeeper.service.allocator import AllocatorConfig
from watchkeeper.service.example import EXAMPLE
from watchkeeper.service.idempotency import IDEMPOTENCY_KEY_AGE, IDEMPOTENCY_KEYS
from watchkeeper.units import parse_duration

__all__ = [
    "EXAMPLE",
    "ModelConfig",
    "ServerConfig",
    "is_version_name",
    "load_config",
    "parse_config",
]

MAX_NAME_LENGTH = 100
"""Characters in a model or version name, at most (they name files)."""

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
    "max_future_skew",
    "protected_series",
    "max_past_age",
    "future_rows",
    "multivariate",
    "reservoir_size",
    "segments",
    "segment_top_k",
    "label",
}
EVENT_TIME_KEYS = ("max_past_age", "future_rows")
"""Model keys read here (event-time bounds at ingestion), not by the MonitorConfig;
``max_future_skew`` is read by both (the Monitor bounds its watermark with it)."""
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
    "allocator",
}
LIMIT_KEYS = {
    "max_body_bytes",
    "max_rows_per_batch",
    "max_columns_per_batch",
    "max_schema_columns",
    "max_queued_bytes",
    "max_model_queued_bytes",
    "idempotency_keys",
    "idempotency_key_age",
}


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
    max_past_age: float | None = None
    """Seconds an event time may be behind the clock; ``None``: the model's
    ``window_retention`` (older rows could not be folded into a window anyway)."""
    future_rows: str = "clamp"
    """``clamp``: a row stamped after the bound is stamped at it (counted as clamped);
    ``reject``: it is dropped with its reason."""
    label: str | None = None
    """The reference file's column of ground truth: the collector profiles the reference
    without it and fits the performance estimator on it (``Monitor.fit_estimator``)."""

    @property
    def max_future_skew(self) -> float:
        """Seconds an event time may be ahead of the collector's clock (``5m``; ``inf``
        when the model sets ``max_future_skew: null``); later rows are clamped or
        rejected, so no row moves the watermark further ahead."""
        return self.monitor.max_future_skew_seconds

    @property
    def past_age_seconds(self) -> float:
        """``max_past_age``, or the window retention when it is not set."""
        if self.max_past_age is not None:
            return self.max_past_age
        return self.monitor.window_retention_seconds


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
    max_columns_per_batch: int = 1_000
    """Feature and output columns in one batch, at most (422 beyond)."""
    max_schema_columns: int = 1_000
    """Columns a schemaless model adopts from its first batch, at most (422 beyond)."""
    max_queued_bytes: int = 256_000_000
    """Bytes of writes waiting to be applied, all models, before a write gets 429."""
    max_model_queued_bytes: int = 64_000_000
    """The same for one model: one stalled model does not take the others' room."""
    tick_seconds: float = 1.0
    fsync: bool = True
    ack_timeout_seconds: float = 30.0
    """Seconds a write waits to be applied before it is answered 503 (it is kept, and
    a retry with the same idempotency key gets its answer)."""
    rules: tuple[Any, ...] = ()
    actions: dict[str, Any] = field(default_factory=dict)
    notifiers: tuple[dict[str, Any], ...] = ()
    idempotency_keys: int = IDEMPOTENCY_KEYS
    """Idempotency keys remembered, at most (the oldest go first; a retry of a forgotten
    key counts again). Each costs ~0.3 KB: ~30 MB at this bound."""
    idempotency_key_age_seconds: float = IDEMPOTENCY_KEY_AGE
    """Seconds an idempotency key is remembered, at most (``limits.idempotency_key_age``)."""
    allocator: AllocatorConfig = field(default_factory=AllocatorConfig)
    """How ``malloc`` holds memory (:mod:`watchkeeper.service.allocator`)."""


def _error(key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        f"{key}: expected {expected}, got {value!r}", field=key, value=value, expected=expected
    )


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    for key in keys:
        if key not in allowed:
            raise _error(f"{where}{key}", key, "one of: " + ", ".join(sorted(allowed)))


NAME_FORM = "a name of letters, digits, '-' and '_'"
VERSION_FORM = f"{NAME_FORM} and '.', at most {MAX_NAME_LENGTH} characters"


def _is_name(name: str, *, dots: bool = False) -> bool:
    plain = name.replace("-", "").replace("_", "")
    if dots:
        plain = plain.replace(".", "")
    return 0 < len(name) <= MAX_NAME_LENGTH and plain.isascii() and plain.isalnum()


def is_version_name(version: str) -> bool:
    """Whether ``version`` can name a model version (it names files too).

    >>> is_version_name("2.1-rc1"), is_version_name("../x"), is_version_name("v" * 300)
    (True, False, False)
    """
    return _is_name(version, dots=True) and not version.startswith(".")


def _positive_int(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _error(key, value, "an integer >= 1")
    return value


def protected_series(model: str, rules: tuple[Any, ...]) -> tuple[str, ...]:
    """Custom metric names the model's alert rules name (``metric: custom_metric`` with
    a plain ``labels: {metric: server_load}`` matcher): kept ahead of the monitor's cap
    on series per window, so junk names cannot push them out of alerting.

    >>> from watchkeeper.alerts.rules import parse_rules
    >>> rules = parse_rules([{"name": "Load", "metric": "custom_metric", "op": ">",
    ...     "threshold": 1, "labels": {"metric": "server_load"}}])
    >>> protected_series("churn", tuple(rules))
    ('server_load',)
    """
    names = set()
    for rule in rules:
        name = rule.labels.get("metric")
        if rule.metric != "custom_metric" or not isinstance(name, str):
            continue
        if rule.model not in ("*", model) or name == "*" or name.startswith("~"):
            continue
        names.add(name)
    return tuple(sorted(names))


def _protect(mc: ModelConfig, rules: tuple[Any, ...]) -> ModelConfig:
    """The model's MonitorConfig with the rules' custom series protected too."""
    names = protected_series(mc.name, rules)
    if not names:
        return mc
    merged = tuple(sorted({*mc.monitor.protected_series, *names}))
    return dataclasses.replace(mc, monitor=dataclasses.replace(mc.monitor, protected_series=merged))


def _limit(limits: Mapping[str, Any], key: str, default: int) -> int:
    return _positive_int(limits.get(key, default), f"limits.{key}")


def _allocator(doc: Any) -> AllocatorConfig:
    """The ``allocator`` mapping: each setting an integer >= 1, or null for glibc's own."""
    if doc is None:
        return AllocatorConfig()
    if not isinstance(doc, Mapping):
        raise _error("allocator", doc, "a mapping")
    _unknown(doc, {"mmap_threshold", "arenas"}, "allocator.")
    values = {}
    for key in ("mmap_threshold", "arenas"):
        value = doc.get(key, getattr(AllocatorConfig, key))
        values[key] = None if value is None else _positive_int(value, f"allocator.{key}")
    return AllocatorConfig(**values)


def _monitor_config(where: str, options: Mapping[str, Any]) -> MonitorConfig:
    """A model's settings validated once; an error names the key in the file."""
    try:
        return MonitorConfig.from_options(**options)
    except WatchkeeperError as exc:
        key = f"{where}.{exc.field}" if exc.field else where
        message = exc.message.removeprefix(f"{exc.field}: ") if exc.field else exc.message
        raise ConfigError(
            f"{key}: {message}", field=key, value=exc.value, expected=exc.expected
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
    watchkeeper.errors.ConfigError: models.churn.windw: expected one of: column_methods, drift, future_rows, grace, label, max_future_skew, max_past_age, multivariate, outputs, positive, protected_series, reference, reservoir_size, retention, rollups, schema, segment_top_k, segments, task, version, window, window_retention, got 'windw'
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
        if not isinstance(name, str) or not _is_name(name):
            raise _error(where, name, NAME_FORM)
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
        if not isinstance(version, str | int) or not is_version_name(str(version)):
            raise _error(f"{where}.version", version, VERSION_FORM)
        label = options.get("label")
        if label is not None and (not isinstance(label, str) or not label or reference is None):
            raise _error(f"{where}.label", label, "a column name of the model's reference file")
        monitor_options = {
            k: v for k, v in options.items() if k not in EVENT_TIME_KEYS and k != "label"
        }
        past = options.get("max_past_age")
        future_rows = options.get("future_rows", "clamp")
        if future_rows not in ("clamp", "reject"):
            raise _error(f"{where}.future_rows", future_rows, "clamp or reject")
        models[name] = ModelConfig(
            name,
            str(version),
            reference,
            dict(schema or {}) or None,
            options,
            _monitor_config(where, monitor_options),
            max_past_age=None if past is None else parse_duration(past, f"{where}.max_past_age"),
            future_rows=future_rows,
            label=label,
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
    models = {name: _protect(mc, rules) for name, mc in models.items()}
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
        max_columns_per_batch=_limit(limits, "max_columns_per_batch", 1_000),
        max_schema_columns=_limit(limits, "max_schema_columns", 1_000),
        max_queued_bytes=_limit(limits, "max_queued_bytes", 256_000_000),
        max_model_queued_bytes=_limit(limits, "max_model_queued_bytes", 64_000_000),
        tick_seconds=float(tick),
        fsync=fsync,
        idempotency_keys=_limit(limits, "idempotency_keys", IDEMPOTENCY_KEYS),
        idempotency_key_age_seconds=parse_duration(
            limits.get("idempotency_key_age", IDEMPOTENCY_KEY_AGE), "limits.idempotency_key_age"
        ),
        allocator=_allocator(doc.get("allocator")),
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
