"""Figures out: a monitor's metric points as a pandas DataFrame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchkeeper.errors import ConfigError
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.store import MetricPoint, Store
from watchkeeper.units import parse_duration, to_epoch

__all__ = ["metrics_frame"]


def metrics_frame(
    store: Store,
    model: str,
    config: MonitorConfig,
    name: str | None,
    since: Any,
    until: Any,
    window: str | float | None,
    version: str,
    labels: Mapping[str, Any],
) -> Any:
    """Metric points of closed windows as a DataFrame (see ``Monitor.metrics``).

    Raises
    ------
    ConfigError
        ``window`` is not one of the analysed window sizes, or a time cannot be read.
    """
    import pandas as pd

    seconds = config.window_seconds if window is None else parse_duration(window, "window")
    if seconds not in config.sizes:
        sizes = ", ".join(f"{s:g} s" for s in config.sizes)
        raise ConfigError(
            f"window: {window!r} is not analysed; expected one of: {sizes}",
            field="window",
            value=window,
            expected=sizes,
        )
    points = store.query_points(
        model,
        name,
        version=None if version == "*" else version,
        window_seconds=seconds,
        since=None if since is None else to_epoch(since, "since"),
        until=None if until is None else to_epoch(until, "until"),
        labels={k: str(v) for k, v in labels.items()},
    )
    return _frame(pd, points)


def _frame(pd: Any, points: list[MetricPoint]) -> Any:
    label_names = sorted({k for p in points for k in p.labels})
    data: dict[str, list[Any]] = {
        "window_start": [p.window_start for p in points],
        "window_end": [p.window_start + p.window_seconds for p in points],
        "version": [p.version for p in points],
        "name": [p.name for p in points],
        "value": [p.value for p in points],
        "reference_id": [p.reference_id for p in points],
    }
    for label in label_names:
        data[label] = [p.labels.get(label) for p in points]
    frame = pd.DataFrame(data)
    for col in ("window_start", "window_end"):
        frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    frame["reference_id"] = frame["reference_id"].astype("Int64")
    return frame
