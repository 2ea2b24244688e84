"""The one parser of durations and instants, used by every layer that reads time.

- durations: ``"30s"``, ``"1.5m"``, ``"2h"``, ``"1d"``, ``"1w"``, a number of seconds or a
  :class:`datetime.timedelta` (:func:`parse_duration`); a model's ``window``, a rule's
  ``for``, an action's ``cooldown`` and a silence's ``duration`` accept the same forms;
- instants: a datetime (naive means UTC), ISO text, ``numpy.datetime64`` or epoch
  seconds (:func:`to_epoch`);
- per-row event times of a batch (:func:`to_timestamps`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from typing import Any

import numpy as np

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.types import FloatArray

__all__ = ["DURATION_FORMS", "parse_duration", "to_epoch", "to_timestamps"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
DURATION_FORMS = "a duration such as '30s', '5m', '1h', '1d', '1w' or seconds"
"""What :func:`parse_duration` accepts, as error messages say it."""


def parse_duration(value: Any, field: str, *, error: type[WatchkeeperError] = ConfigError) -> float:
    """Seconds in a duration: ``"30s"``, ``"1m"``, ``"2h"``, ``"1d"``, ``"1w"``, a number
    or a timedelta; ``error`` is the exception raised for anything else (a rule file
    raises :class:`~watchkeeper.errors.RuleError`).

    Examples
    --------
    >>> parse_duration("5m", "window"), parse_duration(90, "grace")
    (300.0, 90.0)
    >>> parse_duration("soon", "window")
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: window: expected a duration such as '30s', '5m', '1h', '1d', '1w' or seconds, got 'soon'
    """  # noqa: E501
    seconds = math.nan
    try:
        if isinstance(value, dt.timedelta):
            seconds = value.total_seconds()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str) and len(value) < 64 and (m := _DURATION.match(value)):
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
    except OverflowError:  # an integer of hundreds of digits
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        shown = _shown(value)
        raise error(
            f"{field}: expected {DURATION_FORMS}, got {shown!r}",
            field=field,
            value=shown,
            expected=DURATION_FORMS,
        )
    return seconds


def _shown(value: Any) -> Any:
    """The value for an error message; a long string or huge integer is not repeated
    (an int of over 4,300 digits cannot even be printed)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return "<an integer too large>"
    if isinstance(value, str) and len(value) > 64:
        return value[:32] + "…"
    return value


def to_epoch(value: Any, field: str) -> float:
    """Epoch seconds of a datetime (naive means UTC), pandas Timestamp, ISO text or number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):
            if math.isfinite(value):
                return float(value)
    if isinstance(value, str) and len(value) < 64:
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[ns]").astype(np.int64)) / 1e9
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return float(value.timestamp())
    shown = _shown(value)
    raise ConfigError(
        f"{field}: expected a time (datetime, ISO text or epoch seconds), got {shown!r}",
        field=field,
        value=shown,
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
