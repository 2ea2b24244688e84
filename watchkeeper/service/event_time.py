"""Event times bounded against the server's clock, decided once and replayed the same.

A row stamped far in the future would move a model's watermark past every later row
(each then dropped as too late); one stamped ``1e300`` cannot even be a window. So at
ingestion the collector takes the bounds ``[now - max_past_age, now + max_future_skew]``
of its clock, writes them in the log record's header, and drops the rows outside them
with a reason per row. The filter runs on the bounds in the header, never on the clock,
so replaying the log after a restart keeps exactly the rows the first pass kept.

Reasons: ``future`` (after the upper bound), ``past`` (before the lower one) and
``bad_timestamp`` (not a readable time: a huge number, unparseable text). A row without
a time is stamped by the monitor with its clock and is always kept. A model's
``future_rows: clamp`` policy keeps future rows instead, stamped at the upper bound
(counted as clamped): a client whose clock runs ahead still counts, in the newest
window, and still cannot move the watermark further than the bound.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from watchkeeper import wire
from watchkeeper.errors import WatchkeeperError
from watchkeeper.units import to_epoch

__all__ = ["FIRST_SHOWN", "Bounds", "Rejected", "keep_rows", "keep_signals", "reason_of"]

FIRST_SHOWN = 5
"""Rejected rows listed by index in a response (the rest are counted)."""


@dataclass(frozen=True)
class Bounds:
    """The event times accepted by one write, epoch seconds (inclusive); ``clamp``:
    future times are moved to ``not_after`` instead of being rejected."""

    not_before: float
    not_after: float
    clamp: bool = False


@dataclass(frozen=True)
class Rejected:
    """Rows (or signal entries) a write dropped: how many, why, and the first few.

    Examples
    --------
    >>> r = Rejected.of(["future", None, "past", "future"])
    >>> r.count, dict(r.reasons), r.first
    (3, {'future': 2, 'past': 1}, ((0, 'future'), (2, 'past'), (3, 'future')))
    """

    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    first: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, reasons: Sequence[str | None]) -> Rejected:
        """From one reason (or ``None``: kept) per row."""
        counted = collections.Counter(r for r in reasons if r is not None)
        first = tuple((i, r) for i, r in enumerate(reasons) if r is not None)[:FIRST_SHOWN]
        return cls(sum(counted.values()), dict(sorted(counted.items())), first)

    def to_dict(self) -> dict[str, Any]:
        """The response's ``rejected`` member."""
        return {
            "count": self.count,
            "reasons": dict(self.reasons),
            "first": [{"row": i, "reason": r} for i, r in self.first],
        }


def reason_of(value: Any, bounds: Bounds) -> str | None:
    """Why a row with this event time is dropped, or ``None`` if it is kept.

    Examples
    --------
    >>> b = Bounds(100.0, 200.0)
    >>> [reason_of(v, b) for v in (None, 150, 250, 50, 1e300, 10**400, "soon")]
    [None, None, 'future', 'past', 'future', 'bad_timestamp', 'bad_timestamp']
    """
    if value is None:
        return None
    try:
        t = to_epoch(value, "timestamp")
    except (WatchkeeperError, OverflowError, ValueError):
        return "bad_timestamp"
    if math.isnan(t):
        return "bad_timestamp"
    if t > bounds.not_after:
        return "future"
    if t < bounds.not_before:
        return "past"
    return None


def _reasons(times: Sequence[Any], bounds: Bounds) -> list[str | None]:
    """:func:`reason_of` for every time; plain numbers (the usual body) at once."""
    if all(t is None or type(t) is float or type(t) is int for t in times):
        try:
            arr = np.asarray(times, dtype=np.float64)  # None becomes nan: kept
        except OverflowError:  # an integer beyond float: the row by row path says so
            return [reason_of(t, bounds) for t in times]
        out: list[str | None] = [None] * len(arr)
        given = np.fromiter((t is not None for t in times), dtype=bool, count=len(arr))
        bad = np.isinf(arr) | (np.isnan(arr) & given)  # 1e400 parses as inf
        outside = bad | (arr > bounds.not_after) | (arr < bounds.not_before)
        for i in np.flatnonzero(outside).tolist():
            out[i] = "bad_timestamp" if bad[i] else reason_of(times[i], bounds)
        return out
    return [reason_of(t, bounds) for t in times]


def _clamped(
    times: Sequence[Any], reasons: list[str | None], bounds: Bounds
) -> tuple[list[Any], Rejected]:
    """Future times moved to the upper bound (their reasons cleared), and how many."""
    if not bounds.clamp or "future" not in reasons:
        return list(times), Rejected()
    clamped = Rejected.of(["future" if r == "future" else None for r in reasons])
    out = [bounds.not_after if r == "future" else t for t, r in zip(times, reasons, strict=True)]
    for i, r in enumerate(reasons):
        if r == "future":
            reasons[i] = None
    return out, clamped


def keep_rows(batch: wire.Batch, bounds: Bounds) -> tuple[wire.Batch, Rejected, Rejected]:
    """The batch without the rows outside ``bounds`` (future ones stamped at the bound
    under ``clamp``), what was dropped and what was clamped."""
    if batch.timestamps is None:
        return batch, Rejected(), Rejected()
    reasons = _reasons(batch.timestamps, bounds)
    times, clamped = _clamped(batch.timestamps, reasons, bounds)
    if clamped.count:
        batch = dataclasses.replace(batch, timestamps=times)
    rejected = Rejected.of(reasons)
    if not rejected.count:
        return batch, rejected, clamped
    keep = [i for i, r in enumerate(reasons) if r is None]
    return _take(batch, keep), rejected, clamped


def _pick(values: Any, keep: list[int]) -> Any:
    if values is None:
        return None
    if isinstance(values, list):
        return [values[i] for i in keep]
    return values.take(keep) if hasattr(values, "take") else [values[i] for i in keep]


def _take(batch: wire.Batch, keep: list[int]) -> wire.Batch:
    return dataclasses.replace(
        batch,
        features={k: _pick(v, keep) for k, v in batch.features.items()},
        outputs=None
        if batch.outputs is None
        else {k: _pick(v, keep) for k, v in batch.outputs.items()},
        n_rows=len(keep),
        ids=_pick(batch.ids, keep),
        timestamps=_pick(batch.timestamps, keep),
        latency=_pick(batch.latency, keep),
        errors=_pick(batch.errors, keep),
        row_tags=_pick(batch.row_tags, keep),
    )


def keep_signals(
    signals: wire.SignalBatch, bounds: Bounds
) -> tuple[wire.SignalBatch, Rejected, Rejected]:
    """The metrics and events within ``bounds`` (entries numbered metrics first, then
    events; future ones stamped at the bound under ``clamp``), what was dropped and what
    was clamped."""
    n_metrics = len(signals.metrics)
    times = [m[3] for m in signals.metrics] + [e[1] for e in signals.events]
    reasons = [reason_of(t, bounds) for t in times]
    times, clamped = _clamped(times, reasons, bounds)
    rejected = Rejected.of(reasons)
    if not rejected.count and not clamped.count:
        return signals, rejected, clamped
    metrics = [
        (name, value, tags, times[i])
        for i, (name, value, tags, _t) in enumerate(signals.metrics)
        if reasons[i] is None
    ]
    events = [
        (name, times[n_metrics + i])
        for i, (name, _t) in enumerate(signals.events)
        if reasons[n_metrics + i] is None
    ]
    return wire.SignalBatch(metrics, events), rejected, clamped
