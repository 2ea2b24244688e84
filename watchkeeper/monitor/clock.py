"""Clocks: where "now" comes from. Passed in, so tests and replays control time."""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` in epoch seconds."""

    def now(self) -> float:
        """The current time, epoch seconds."""


class SystemClock:
    """Wall-clock time (``time.time``)."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to.

    Examples
    --------
    >>> clock = ManualClock(100.0)
    >>> clock.advance(60).now()
    160.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> ManualClock:
        """Move forward by ``seconds``; returns self."""
        with self._lock:
            self._now += float(seconds)
        return self

    def set(self, now: float) -> ManualClock:
        """Jump to ``now`` (epoch seconds); returns self."""
        with self._lock:
            self._now = float(now)
        return self
