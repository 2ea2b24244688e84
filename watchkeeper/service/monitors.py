"""Building a model's :class:`~watchkeeper.monitor.Monitor` from the collector's config,
at start and when a new version is promoted.

Both paths read a model's options the same way (one :func:`drift_config` for its
``drift:`` mapping); they differ only in where the reference comes from and in how an
error is named: at start it names the key in the config file (``models.churn.window``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import Clock
from watchkeeper.schema import Schema
from watchkeeper.service.config import ModelConfig
from watchkeeper.stats import DriftConfig
from watchkeeper.store import Store

__all__ = ["drift_config", "monitor_options", "open_monitor", "promoted_monitor"]


def drift_config(spec: Any) -> DriftConfig:
    """``drift:`` settings of a model (the fields of :class:`DriftConfig`).

    Raises
    ------
    ConfigError
        Naming ``drift.<key>`` for an unknown or bad setting.

    Examples
    --------
    >>> drift_config({"method": "psi"}).method
    'psi'
    >>> drift_config({"methd": "psi"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: drift.methd: unknown setting; expected one of: ...
    """
    if not isinstance(spec, dict):
        raise ConfigError(
            f"drift: expected a mapping of settings, got {spec!r}",
            field="drift",
            value=spec,
            expected="a mapping",
        )
    known = {f.name for f in dataclasses.fields(DriftConfig)}
    for key in spec:
        if key not in known:
            raise ConfigError(
                f"drift.{key}: unknown setting; expected one of: {', '.join(sorted(known))}",
                field=f"drift.{key}",
                value=key,
                expected=", ".join(sorted(known)),
            )
    try:
        return DriftConfig(**spec)
    except ConfigError as exc:
        raise ConfigError(
            f"drift.{exc.field}: {exc.message}",
            field=f"drift.{exc.field}",
            value=exc.value,
            expected=exc.expected,
        ) from exc


def monitor_options(model: ModelConfig) -> dict[str, Any]:
    """The model's settings as :class:`Monitor` keyword arguments."""
    options = dict(model.options)
    if "drift" in options:
        options["drift"] = drift_config(options["drift"])
    return options


def open_monitor(
    name: str, model: ModelConfig, *, store: Store, clock: Clock, writer: str
) -> Monitor:
    """The monitor of a configured model, as the collector starts.

    Raises
    ------
    ConfigError
        Naming the key in the config file (``models.<name>.<key>``).
    """
    try:
        return Monitor(
            name,
            model.version,
            schema=Schema.from_dict(model.schema) if model.schema else None,
            reference=model.reference,
            store=store,
            clock=clock,
            writer=writer,
            **monitor_options(model),
        )
    except WatchkeeperError as exc:  # name the key in the config file
        key = f"models.{name}.{exc.field}" if exc.field else f"models.{name}"
        raise ConfigError(
            f"{key}: {exc.message}", field=key, value=exc.value, expected=exc.expected
        ) from exc


def promoted_monitor(
    name: str,
    model: ModelConfig,
    old: Monitor,
    version: str,
    reference: str | None,
    *,
    store: Store,
    clock: Clock,
    writer: str,
) -> Monitor:
    """The monitor of ``version`` of model ``name`` replacing ``old``, whose windows are
    flushed first.

    The reference comes from the data file ``reference`` when given, else it is the old
    version's (then the schema follows it); without either the old schema is kept.
    """
    old.flush()
    ref: Any = reference
    if ref is None and old.reference is not None:
        ref = old.reference.profile
    return Monitor(
        name,
        version,
        schema=None if ref is not None else old.schema,
        reference=ref,
        store=store,
        clock=clock,
        writer=writer,
        **monitor_options(model),
    )
