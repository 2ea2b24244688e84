"""Durations ("1m", "1h"), instants (datetime, ISO text, epoch) and per-row timestamps."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from typing import Any

import numpy as np

from watchkeeper.errors import ConfigError
from watchkeeper.types import FloatArray

__all__ = ["parse_duration", "to_epoch", "to_timestamps"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: str | float | int | dt.timedelta, field: str) -> float:
    """Seconds in a duration: ``"30s"``, ``"1m"``, ``"2h"``, ``"1d"``, a number or a timedelta.

    Examples
    --------
    >>> parse_duration("5m", "window"), parse_duration(90, "grace")
    (300.0, 90.0)
    >>> parse_duration("soon", "window")
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: window: expected a duration such as '1m', '1h' or seconds, got 'soon'
    """  # noqa: E501
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(
            f"{field}: expected a duration such as '1m', '1h' or seconds, got {value!r}",
            field=field,
            value=value,
            expected="a duration such as '1m', '1h' or seconds",
        )
    return seconds


def to_epoch(value: Any, field: str) -> float:
    """Epoch seconds of a datetime (naive means UTC), pandas Timestamp, ISO text or number."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[ns]").astype(np.int64)) / 1e9
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())
    raise ConfigError(
        f"{field}: expected a time (datetime, ISO text or epoch seconds), got {value!r}",
        field=field,
        value=value,
        expected="datetime, ISO text or epoch seconds",
    )


def to_timestamps(value: Any, n: int, now: float) -> FloatArray:
    """One event time per row, epoch seconds; missing or unreadable times become ``now``.

    ``value`` is ``None`` (every row now), one time for all rows, or one per row
    (numbers, datetimes, ``datetime64`` values, a pandas Series).
    """
    if value is None:
        return np.full(n, now)
    if not isinstance(value, str | dt.datetime | np.datetime64) and np.ndim(value) == 0:
        try:
            return np.full(n, to_epoch(value, "timestamps"))
        except ConfigError:
            return np.full(n, now)
    if isinstance(value, str | dt.datetime | np.datetime64):
        return np.full(n, to_epoch(value, "timestamps"))
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise ConfigError(
            f"timestamps: {arr.size} values for {n} rows; expected one per row",
            field="timestamps",
            value=arr.size,
            expected=str(n),
        )
    if np.issubdtype(arr.dtype, np.datetime64):
        ns = arr.astype("datetime64[ns]")
        out = ns.astype(np.int64).astype(np.float64) / 1e9
        out[np.isnat(ns)] = now
        return out
    if arr.dtype.kind in "iuf":
        out = arr.astype(np.float64)
    else:
        out = np.empty(n)
        for i, v in enumerate(arr.tolist()):
            try:
                out[i] = to_epoch(v, "timestamps")
            except ConfigError:
                out[i] = math.nan
    out[~np.isfinite(out)] = now
    return out
