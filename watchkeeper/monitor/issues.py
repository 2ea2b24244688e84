"""What went wrong with the data: rejected calls, rows too late to count, bad values."""

from __future__ import annotations

import collections
import logging
from typing import Any

from watchkeeper.errors import WatchkeeperError

__all__ = ["RECENT_ISSUES", "Issues"]

log = logging.getLogger("watchkeeper.monitor")

RECENT_ISSUES = 100
"""Data-quality issues and rejected calls kept in ``recent``."""


class Issues:
    """Counters and the recent log of a monitor's rejected calls and data problems.

    Each entry of :attr:`recent` is ``{"time", "call", "column", "problem", "reason"}``.

    Examples
    --------
    >>> issues = Issues()
    >>> issues.reject("log", ValueError("bad"), now=5.0)
    >>> issues.rejected_calls, issues.recent[-1]["problem"]
    (1, 'ValueError')
    """

    def __init__(self, maxlen: int = RECENT_ISSUES) -> None:
        self.rejected_calls = 0
        """Calls that could not be read at all (nothing of them was recorded)."""
        self.late_dropped = 0
        """Rows and signals dropped for windows past ``window_retention``."""
        self.future_rejected = 0
        """Rows and signals rejected for an event time beyond the clock +
        ``max_future_skew``."""
        self.analysis_errors = 0
        """Window analyses that failed (their states are kept)."""
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=maxlen)

    def reject(self, where: str, exc: Exception, *, now: float) -> None:
        """Count a call that recorded nothing; an unexpected error is logged with its trace."""
        self.rejected_calls += 1
        self.add(now, where, getattr(exc, "field", None), type(exc).__name__, str(exc))
        if not isinstance(exc, WatchkeeperError):
            log.exception("watchkeeper: %s failed; the data was not recorded", where)

    def too_late(self, start: float, n: int, retention_seconds: float) -> None:
        """Count ``n`` rows dropped because the window at ``start`` is past retention."""
        self.late_dropped += n
        self.add(
            start,
            "log",
            None,
            "too_late",
            f"{n} rows for the window at {start:.0f} s, older than "
            f"window_retention ({retention_seconds:g} s); dropped",
        )

    def from_future(
        self, n: int, newest: float, now: float, skew_seconds: float, *, call: str = "log"
    ) -> None:
        """Count ``n`` rows or signals rejected for event times up to ``newest``, beyond
        the clock (``now``) + ``max_future_skew``."""
        self.future_rejected += n
        self.add(
            now,
            call,
            "timestamps",
            "future",
            f"{n} rows stamped up to {newest:.6g}, beyond the clock ({now:.6g}) + "
            f"max_future_skew ({skew_seconds:g} s); rejected",
        )

    def add(self, time: float, call: str, column: str | None, problem: str, reason: str) -> None:
        """Append one entry to :attr:`recent`."""
        self.recent.append(
            {"time": time, "call": call, "column": column, "problem": problem, "reason": reason}
        )
