"""The middleware's requests between two saturation samples: in flight over time, and how
long they queued before the service (from the proxy's ``X-Request-Start`` stamp).

:class:`RequestStats` is fed by :class:`~watchkeeper.sdk.middleware.WatchkeeperMiddleware`
on each request and read by :class:`~watchkeeper.sdk.resources.ResourceSampler`; its state
is a few numbers, whatever the traffic.
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["RequestStats", "queue_seconds"]

_MAX_QUEUE_SECONDS = 3600.0  # a header older than this is a clock or format problem


def queue_seconds(headers: Any, now: float) -> float | None:
    """The wait since a proxy stamped the request (``X-Request-Start`` or ``X-Queue-Start``,
    as nginx, Heroku or a load balancer set them), or ``None`` without a readable stamp.

    The stamp is epoch seconds, milliseconds or microseconds, optionally after ``t=``
    (told apart by size); a stamp ahead of ``now`` (clocks apart) counts as no wait.

    Examples
    --------
    >>> now = 1_700_000_000.5
    >>> queue_seconds([(b"x-request-start", b"t=1700000000.25")], now)
    0.25
    >>> round(queue_seconds([(b"x-queue-start", b"1700000000250000")], now), 6)  # in µs
    0.25
    >>> queue_seconds([(b"x-request-start", b"soon")], now) is None
    True
    """
    for name, value in headers:
        if name == b"x-request-start" or name == b"x-queue-start":
            try:
                text = value.decode("latin-1").strip()
                stamp = float(text[2:] if text.startswith("t=") else text)
            except (ValueError, AttributeError):
                return None
            if stamp > 1e14:
                stamp /= 1e6
            elif stamp > 1e11:
                stamp /= 1e3
            wait = max(0.0, now - stamp)
            return wait if wait <= _MAX_QUEUE_SECONDS else None
    return None


class RequestStats:
    """The middleware's requests between two samples: in flight over time, and queue times.

    :meth:`started` and :meth:`finished` run on the request's task (a lock held for a few
    additions); :meth:`take` runs on the sampler's thread.

    Examples
    --------
    >>> stats = RequestStats()
    >>> stats.started(0.5)
    >>> stats.in_flight
    1
    >>> stats.finished()
    >>> mean_in_flight, peak, queue = stats.take()
    >>> 0.0 < mean_in_flight <= 1.0, peak, queue
    (True, 1, (1, 0.5, 0.5))
    """

    __slots__ = ("_area", "_lock", "_peak", "_queue", "_since", "_start", "attached", "in_flight")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.attached = False
        """True once a middleware reports to it (before, no request figures are sampled)."""
        self._start = self._since = time.monotonic()
        self._area = 0.0
        self._peak = 0
        self._queue = [0, 0.0, 0.0]  # count, sum, max

    def started(self, queued: float | None) -> None:
        """A request entered the application, after waiting ``queued`` seconds (or unknown)."""
        now = time.monotonic()
        with self._lock:
            self._area += self.in_flight * (now - self._since)
            self._since = now
            self.in_flight += 1
            self._peak = max(self._peak, self.in_flight)
            if queued is not None:
                q = self._queue
                q[0] += 1
                q[1] += queued
                q[2] = max(q[2], queued)

    def finished(self) -> None:
        """A request left the application (its response sent, or it raised)."""
        now = time.monotonic()
        with self._lock:
            self._area += self.in_flight * (now - self._since)
            self._since = now
            self.in_flight = max(0, self.in_flight - 1)

    def take(self) -> tuple[float, int, tuple[int, float, float]]:
        """Since the last call: the time-averaged requests in flight, the most at once,
        and ``(count, sum, max)`` of queue times; starts the next interval."""
        now = time.monotonic()
        with self._lock:
            area = self._area + self.in_flight * (now - self._since)
            span = now - self._start
            mean = area / span if span > 0 else float(self.in_flight)
            peak = self._peak
            n, total, longest = self._queue
            self._area, self._since, self._start = 0.0, now, now
            self._peak = self.in_flight
            self._queue = [0, 0.0, 0.0]
        return mean, peak, (int(n), total, longest)
