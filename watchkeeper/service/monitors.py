"""Building a model's :class:`~watchkeeper.monitor.Monitor` from the collector's config,
at start and when a new version is promoted.

Both take the model's settings as validated once by the config
(:class:`~watchkeeper.monitor.MonitorConfig`); they differ only in where the reference
comes from and in how an error is named: at start it names the key in the config file
(``models.churn.reference``).
"""

from __future__ import annotations

from typing import Any

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import Clock
from watchkeeper.schema import Schema
from watchkeeper.service.config import ModelConfig
from watchkeeper.store import Store

__all__ = ["open_monitor", "promoted_monitor"]


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
        reference: Any = model.reference
        labels = None
        if model.label is not None and model.reference is not None:
            reference, labels = _split_label(model.reference, model.label)
        monitor = Monitor(
            name,
            model.version,
            schema=Schema.from_dict(model.schema) if model.schema else None,
            reference=reference,
            store=store,
            clock=clock,
            writer=writer,
            config=model.monitor,
        )
        if labels is not None:
            try:
                monitor.fit_estimator(reference, labels)
            except WatchkeeperError as exc:
                monitor.close()
                raise ConfigError(
                    exc.message, field="label", value=exc.value, expected=exc.expected
                ) from exc
        return monitor
    except WatchkeeperError as exc:  # name the key in the config file
        key = f"models.{name}.{exc.field}" if exc.field else f"models.{name}"
        raise ConfigError(
            f"{key}: {exc.message}", field=key, value=exc.value, expected=exc.expected
        ) from exc


def _split_label(path: str, label: str) -> tuple[Any, Any]:
    """The reference file without its ground-truth column, and that column."""
    from pathlib import Path

    from watchkeeper.tables import read_table

    frame = read_table(Path(path))
    if label not in frame.columns:
        raise ConfigError(
            f"label: no column {label!r} in {path}; expected one of: "
            + ", ".join(map(str, frame.columns)),
            field="label",
            value=label,
            expected="a column of the reference file",
        )
    return frame.drop(columns=[label]), frame[label].to_numpy()


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
        config=model.monitor,
    )
