"""The replay waits for the collector: a slow or loaded machine gives a slower demo, never
a wrong one.

The replay runs on an accelerated clock (2,400x by default: a 2-hour window every 3 s).
A collector that falls behind that clock closes windows before their rows are in, and
the lag itself raises alerts (a traffic drop, a drifted dataset) that no incident caused.
So the simulated time never runs ahead of what the collector has done: the
:class:`Pacer` holds the clock still (speed 0, in this process and in the children)
while either

- *ingestion lags*: the applications the model service answered for requests sent more
  than half a grace period ago (simulated) are not all counted by the collector
  (``watchkeeper_predictions_total`` on ``/metrics``; a write is acknowledged once
  applied), or
- *closing lags*: a window whose grace period ended more than :data:`SLACK_WINDOWS`
  window ago is not closed and analysed yet (``last_closed_window`` of
  ``GET /v1/models``),

and lets it run at full speed again once both have caught up. Each hold is an event on
screen; the total is in the summary.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.plan import MODEL, Plan

__all__ = ["SLACK_WINDOWS", "Lag", "Pacer", "collector_progress", "lag"]

SLACK_WINDOWS = 0.25
"""How late (in windows, simulated) a window may close before the replay waits."""
POLL_SECONDS = 0.25
"""Real seconds between two looks at the collector."""
STALL_SECONDS = 20.0
"""A hold during which the collector makes no progress at all ends after this long (real
seconds), with a line on screen: rows the collector will never count (a batch it
refused) must not hold the replay for ever; the summary then shows what went wrong."""


@dataclass(frozen=True)
class Lag:
    """Why the replay should wait (both ``None``/0 when it need not)."""

    rows_missing: int
    window_due: float | None

    @property
    def behind(self) -> bool:
        return self.rows_missing > 0 or self.window_due is not None

    def text(self) -> str:
        parts = []
        if self.rows_missing > 0:
            parts.append(f"{self.rows_missing:,} applications not ingested yet")
        if self.window_due is not None:
            parts.append("a window due to close is still open")
        return "; ".join(parts)


def lag(p: Plan, now: float, *, answered: int, ingested: int, last_closed: float | None) -> Lag:
    """How far the collector is behind the simulated time ``now``.

    ``answered``: applications the service answered for requests sent up to half a grace
    period before ``now``; ``ingested``: the collector's count; ``last_closed``: the start
    of its newest closed window.

    Examples
    --------
    >>> from watchkeeper.demo.plan import DemoOptions, plan
    >>> p = plan(DemoOptions(duration=86400.0, speed=1000.0), now=1e9)
    >>> due = p.start + p.window + p.grace + p.window  # the first window's grace ended
    >>> lag(p, due, answered=800, ingested=800, last_closed=None).window_due == p.start
    True
    >>> lag(p, due, answered=800, ingested=800, last_closed=p.start).behind
    False
    >>> lag(p, p.start, answered=20, ingested=0, last_closed=None).text()
    '20 applications not ingested yet'
    """
    newest_due = math.floor((now - p.grace - (1 + SLACK_WINDOWS) * p.window - p.start) / p.window)
    due = None
    if newest_due >= 0:
        start = p.start + min(newest_due, p.scenario.windows - 1) * p.window
        if last_closed is None or last_closed < start:
            due = start
    return Lag(max(0, answered - ingested), due)


def collector_progress(api: httpx.Client) -> tuple[int, float | None]:
    """The collector's count of the demo model's applications and its newest closed
    window's start; raises httpx.HTTPError or ValueError when it does not answer."""
    models = api.get("/v1/models").json()["models"]
    closed = next((m["last_closed_window"] for m in models if m["model"] == MODEL), None)
    ingested = 0.0
    for family in text_string_to_metric_families(api.get("/metrics").text):
        if family.name == "watchkeeper_predictions":
            ingested += sum(s.value for s in family.samples if s.labels.get("model") == MODEL)
    return int(ingested), None if closed is None else float(closed)


class Pacer:
    """Hold the clock while the collector is behind (see the module docstring).

    Parameters
    ----------
    p, clock
        The plan and the demo's clock (started).
    api
        An HTTP client on the collector.
    answered
        ``answered(until)``: applications the service answered for requests sent up to
        the simulated time ``until`` (:meth:`LoadGenerator.rows_answered`).
    broadcast
        Called after each change of speed, to tell the child processes.
    say
        Called with a line for the screen when a hold starts and ends.
    """

    def __init__(
        self,
        p: Plan,
        clock: AcceleratedClock,
        api: httpx.Client,
        answered: Callable[[float], int],
        broadcast: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        self.p, self.clock, self.api = p, clock, api
        self.answered, self.broadcast, self.say = answered, broadcast, say
        self.holds = 0
        self.held_seconds = 0.0
        self._held_since: float | None = None
        self._progress: tuple[int, float | None] = (-1, None)
        self._progress_at = time.monotonic()
        self._forgiven = 0
        # a newly promoted version's monitor has closed no window yet: keep the newest seen
        self._last_closed: float | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def holding(self) -> bool:
        return self._held_since is not None

    def step(self) -> Lag | None:
        """Look at the collector once, hold or release the clock; returns the lag seen
        (``None`` when the collector did not answer: nothing changes)."""
        now = self.clock.now()
        try:
            ingested, last_closed = collector_progress(self.api)
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        if last_closed is not None and (
            self._last_closed is None or last_closed > self._last_closed
        ):
            self._last_closed = last_closed
        answered = self.answered(now - self.p.grace / 2) - self._forgiven
        seen = lag(self.p, now, answered=answered, ingested=ingested, last_closed=self._last_closed)
        if (ingested, self._last_closed) != self._progress:
            self._progress, self._progress_at = (ingested, self._last_closed), time.monotonic()
        stalled = time.monotonic() - self._progress_at > STALL_SECONDS
        if seen.behind and self._held_since is not None and stalled:
            # no progress at all while held: what is missing will not come (rows the
            # collector refused, a window without rows); say so and go on
            self._forgiven += seen.rows_missing
            if seen.window_due is not None:
                self._last_closed = seen.window_due
            self.say(
                f"pacing: the collector made no progress for {STALL_SECONDS:g} s "
                f"({seen.text()}); the replay goes on without it"
            )
            self._progress_at = time.monotonic()
            seen = Lag(0, None)
        if seen.behind and self._held_since is None:
            self._held_since = time.monotonic()
            self.holds += 1
            self.clock.set_speed(0.0)
            self.broadcast()
            self.say(f"pacing: the collector is behind ({seen.text()}); the replay waits")
        elif not seen.behind and self._held_since is not None:
            waited = time.monotonic() - self._held_since
            self.held_seconds += waited
            self._held_since = None
            self.clock.set_speed(self.p.speed)
            self.broadcast()
            self.say(f"pacing: the collector caught up after {waited:.1f} s; the replay goes on")
        return seen

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with contextlib.suppress(OSError):  # a child's stdin gone: the demo is ending
                self.step()

    def start(self) -> Pacer:
        """Pace in a thread until :meth:`stop`; returns self."""
        self._thread = threading.Thread(target=self._run, name="demo-pacer", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop pacing and release the HTTP client."""
        self.stop()
        self.api.close()

    def stop(self) -> None:
        """Stop pacing, the clock left as it is (running, or held)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._held_since is not None:
            self.held_seconds += time.monotonic() - self._held_since
            self._held_since = None
