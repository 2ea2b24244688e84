"""The replay waits for the collector: a slow or loaded machine gives a slower demo, never
a wrong one.

The replay runs on an accelerated clock (2,400x by default: a 2-hour window every 3 s).
A collector that falls behind that clock closes windows before their rows and outcomes
are in, and the lag itself raises alerts (a traffic drop, a drifted dataset) or hides
them (outcomes joined after their window was judged raise no ``LowAccuracy``). So the
:class:`Pacer` keeps a gate on the clock, shared by every process of the demo: simulated
time stops just before the collector would close the next window (its end plus the
grace period), and the gate opens to the next window only once

- the collector has counted every application sent to the model service so far
  (``watchkeeper_predictions_total`` on ``/metrics``; a write is acknowledged once
  applied) and every outcome sent to it (``watchkeeper_labels_total``), and
- the window before has been closed and analysed (``last_closed_window`` of
  ``GET /v1/models``).

On a quiet machine the clock stands at each gate for a fraction of a second; on a busy
one for as long as the collector needs. A wait longer than :data:`NOTICE_SECONDS` is a
line on screen; the total is in the summary.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.plan import MODEL, Plan

__all__ = ["Lag", "Pacer", "collector_progress"]

POLL_SECONDS = 0.05
"""Real seconds between two looks at the clock (and, at a gate, at the collector)."""
SETTLE_SECONDS = 0.15
"""Real seconds the clock stands at a gate before the collector is asked: outcomes due
before the gate are handed on every 0.1 s, and the SDK clients flush every 0.1 s."""
NOTICE_SECONDS = 2.0
"""A wait at a gate longer than this (real seconds) is said on screen."""
STALL_SECONDS = 20.0
"""A wait during which the collector makes no progress at all ends after this long (real
seconds), with a line on screen: rows the collector will never count (a batch it
refused) must not hold the replay for ever; the summary then shows what went wrong."""
GATE_MARGIN = 1.0
"""The gate stands this many simulated seconds before the collector's window close."""


@dataclass(frozen=True)
class Lag:
    """What the collector still lacks at a gate (nothing: it has caught up)."""

    rows_missing: int = 0
    labels_missing: int = 0
    window_due: float | None = None

    @property
    def behind(self) -> bool:
        return self.rows_missing > 0 or self.labels_missing > 0 or self.window_due is not None

    def text(self) -> str:
        """Why the replay waits, in words.

        Examples
        --------
        >>> Lag(20, 0, None).text()
        '20 applications not ingested yet'
        >>> Lag(0, 5, 0.0).text()
        '5 outcomes not ingested yet; the previous window not closed yet'
        """
        parts = []
        if self.rows_missing > 0:
            parts.append(f"{self.rows_missing:,} applications not ingested yet")
        if self.labels_missing > 0:
            parts.append(f"{self.labels_missing:,} outcomes not ingested yet")
        if self.window_due is not None:
            parts.append("the previous window not closed yet")
        return "; ".join(parts)


def collector_progress(api: httpx.Client) -> tuple[int, int, float | None, str | None]:
    """The collector's counts of the demo model's applications and outcomes, its newest
    closed window's start and the version it monitors; raises httpx.HTTPError or
    ValueError when it does not answer."""
    models = api.get("/v1/models").json()["models"]
    mine: dict[str, object] = next((m for m in models if m["model"] == MODEL), {})
    closed, version = mine.get("last_closed_window"), mine.get("version")
    assert closed is None or isinstance(closed, (int, float))
    counts = {"watchkeeper_predictions": 0.0, "watchkeeper_labels": 0.0}
    for family in text_string_to_metric_families(api.get("/metrics").text):
        if family.name in counts:
            counts[family.name] += sum(
                s.value for s in family.samples if s.labels.get("model") == MODEL
            )
    rows, labels = counts["watchkeeper_predictions"], counts["watchkeeper_labels"]
    return (
        int(rows),
        int(labels),
        None if closed is None else float(closed),
        None if version is None else str(version),
    )


class Pacer:
    """Gate the clock window by window (see the module docstring).

    Parameters
    ----------
    p, clock
        The plan and the demo's clock (not started yet: the first gate is set here, and
        goes to the children with the clock).
    api
        An HTTP client on the collector.
    sent
        ``sent()``: ``(applications, outcomes)`` handed on so far
        (:meth:`LoadGenerator.sent`).
    broadcast
        Called after each move of the gate, to tell the child processes.
    say
        Called with a line for the screen when a long wait starts and ends.
    """

    def __init__(
        self,
        p: Plan,
        clock: AcceleratedClock,
        api: httpx.Client,
        sent: Callable[[], tuple[int, int]],
        broadcast: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        self.p, self.clock, self.api = p, clock, api
        self.sent, self.broadcast, self.say = sent, broadcast, say
        self.k = 0  # the next window to close: the gate stands just before its close
        self.clock.until = self.gate(0)
        self.holds = 0
        self.held_seconds = 0.0
        self._at_gate: float | None = None
        self._noticed = False
        self._progress: tuple[int, int, float | None] = (-1, -1, None)
        self._progress_at = time.monotonic()
        self._forgiven = (0, 0)
        self._last_closed: float | None = None  # a new version's monitor starts at None
        self._version: str | None = None
        self._switched = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def gate(self, k: int) -> float:
        """Where the clock stops before window ``k`` closes (simulated)."""
        return self.p.start + (k + 1) * self.p.window + self.p.grace - GATE_MARGIN

    @property
    def holding(self) -> bool:
        """Whether the clock stands at a gate."""
        return self._at_gate is not None

    @property
    def waiting(self) -> bool:
        """Whether the clock has stood at a gate long enough to be said on screen."""
        return self._noticed

    def lag(self) -> Lag:
        """What the collector still lacks for the gate to open; raises httpx.HTTPError or
        ValueError when it does not answer."""
        rows, labels, closed, version = collector_progress(self.api)
        previous = self.p.start + (self.k - 1) * self.p.window
        if version != self._version:
            self._switched = self._version is not None
            self._version = version
        if closed is not None and (self._last_closed is None or closed > self._last_closed):
            self._last_closed = closed
        # a promotion flushes the old version's windows, and the new version's monitor
        # reports only its own closes: none to wait for until it has closed one
        unknown = closed is None and self._switched
        sent_rows, sent_labels = self.sent()
        due = None
        if (
            1 <= self.k <= self.p.scenario.windows
            and not unknown
            and (self._last_closed is None or self._last_closed < previous)
        ):
            due = previous
        if (rows, labels, self._last_closed) != self._progress:
            self._progress, self._progress_at = (rows, labels, self._last_closed), time.monotonic()
        return Lag(
            max(0, sent_rows - self._forgiven[0] - rows),
            max(0, sent_labels - self._forgiven[1] - labels),
            due,
        )

    def step(self) -> Lag | None:
        """Look once: at a gate (and settled), ask the collector and open the gate when
        it has caught up. Returns the lag seen, ``None`` when not asked."""
        if self.clock.now() < self.clock.until:
            return None
        now = time.monotonic()
        if self._at_gate is None:
            self._at_gate = now
        if now - self._at_gate < SETTLE_SECONDS:
            return None
        try:
            seen = self.lag()
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        waited = now - self._at_gate
        if seen.behind and now - self._progress_at > STALL_SECONDS:
            # no progress at all while held: what is missing will not come (rows the
            # collector refused, a window without rows); say so and go on
            self._forgiven = (
                self._forgiven[0] + seen.rows_missing,
                self._forgiven[1] + seen.labels_missing,
            )
            if seen.window_due is not None:
                self._last_closed = seen.window_due
            self.say(
                f"pacing: the collector made no progress for {STALL_SECONDS:g} s "
                f"({seen.text()}); the replay goes on without it"
            )
            self._progress_at = now
            seen = Lag()
        if seen.behind:
            if waited >= NOTICE_SECONDS and not self._noticed:
                self._noticed = True
                self.holds += 1
                self.say(f"pacing: the collector is behind ({seen.text()}); the replay waits")
            return seen
        self.held_seconds += waited
        if self._noticed:
            self.say(f"pacing: the collector caught up after {waited:.1f} s; the replay goes on")
        self._at_gate, self._noticed = None, False
        self.k += 1
        self.clock.open_until(self.gate(self.k))
        self.broadcast()
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

    def stop(self) -> None:
        """Stop pacing and open the gate for good (the dashboard's clock runs on)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._at_gate is not None:
            self.held_seconds += time.monotonic() - self._at_gate
            self._at_gate = None
        if self.clock.real_start is not None:
            self.clock.open_until(float("inf"))
            with contextlib.suppress(OSError):
                self.broadcast()

    def close(self) -> None:
        """Stop pacing and release the HTTP client."""
        self.stop()
        self.api.close()
