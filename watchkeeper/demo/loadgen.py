"""The load generator: replays days of loan applications on the accelerated clock.

Every window of the scenario gets the same number of applications, at uniformly random
simulated times, sent to the model service in requests of a few applications each as
their time comes (requests run concurrently, so a slow service does not slow the
traffic down). Each application carries its id and simulated submission time. The
incidents of the moment (:meth:`Scenario.conditions`) decide what is sent, how the
service is told to misbehave (``PUT /admin/faults``) and which concept draws the
outcomes.

Outcomes arrive late: each one a random delay after its application (by default between
0.2 and 1.2 windows), when it is sent to the collector's labels endpoint through an SDK
client and stored in the warehouse for the retraining job.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd

from watchkeeper.demo.clock import AcceleratedClock
from watchkeeper.demo.data import FEATURES, label, sample_applications
from watchkeeper.demo.incidents import Conditions, Scenario, corrupt
from watchkeeper.demo.warehouse import Warehouse

__all__ = ["LoadGenerator", "Request", "Traffic", "application_records", "window_requests"]

LABEL_INTERVAL = 0.1
"""Real seconds between two deliveries of outcomes (each one request to the collector)."""


@dataclass(frozen=True)
class Traffic:
    """How much traffic, and how late its outcomes are."""

    window_seconds: float
    rows_per_window: int = 800
    requests_per_window: int = 40
    label_delay_windows: tuple[float, float] = (0.2, 1.2)

    @property
    def rows_per_request(self) -> int:
        return max(1, self.rows_per_window // self.requests_per_window)


@dataclass
class Request:
    """One scoring request of the replay: sent at ``time`` (simulated), the applications
    as JSON-ready records (``id``, ``submitted_at``, features), their true outcomes, and
    the incidents' conditions when it is sent."""

    time: float
    window: int
    records: list[dict[str, Any]]
    labels: list[str]
    conditions: Conditions


@dataclass
class TrafficStats:
    """What the generator did so far."""

    requests: int = 0
    failed: int = 0
    rows: int = 0
    labels: int = 0
    last_error: str | None = None
    in_flight: int = 0


def application_records(
    served: pd.DataFrame, ids: list[str], times: np.ndarray
) -> list[dict[str, Any]]:
    """Applications as JSON-ready dicts: features (missing as ``None``), id, time."""
    columns = {
        name: [None if v != v else v for v in served[name].tolist()]  # NaN -> None
        for name in FEATURES
    }
    records = [
        dict(zip(FEATURES, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    for rec, i, t in zip(records, ids, times.tolist(), strict=True):
        rec["id"] = i
        rec["submitted_at"] = round(t, 3)
    return records


def window_requests(
    scenario: Scenario, traffic: Traffic, start: float, w: int, rng: np.random.Generator
) -> list[Request]:
    """The requests of window ``w`` (counted from ``start``), in time order: the window's
    applications at uniformly random times, in requests of
    :attr:`Traffic.rows_per_request`, corrupted by the incidents of the moment."""
    w0 = start + w * traffic.window_seconds
    n = traffic.rows_per_window
    times = np.sort(rng.uniform(w0, w0 + traffic.window_seconds, n))
    frame = sample_applications(rng, n)
    out = []
    size = traffic.rows_per_request
    for a in range(0, n, size):
        b = min(n, a + size)
        when = float(times[b - 1])
        conditions = scenario.conditions(w + (when - w0) / traffic.window_seconds)
        served, truth = corrupt(frame.iloc[a:b].reset_index(drop=True), conditions, rng)
        ids = [f"app-{w:03d}-{i:04d}" for i in range(a, b)]
        out.append(
            Request(
                when,
                w,
                application_records(served, ids, times[a:b]),
                label(truth, conditions.concept, rng).tolist(),
                conditions,
            )
        )
    return out


class LoadGenerator:
    """Send the scenario's traffic and outcomes as simulated time passes.

    Parameters
    ----------
    scenario, clock, traffic
        The timeline, the accelerated clock (already started) and the traffic shape.
    start
        Simulated time of the first window's start.
    service_url
        The model service.
    send_labels
        ``send_labels(ids, labels)``: where outcomes go (an SDK client's
        ``log_labels``).
    warehouse
        Where labelled applications are kept for retraining.
    on_faults
        Called with the new :class:`Conditions` when the server-side faults change.
    """

    def __init__(
        self,
        scenario: Scenario,
        clock: AcceleratedClock,
        traffic: Traffic,
        *,
        start: float,
        service_url: str,
        send_labels: Callable[[list[str], list[str]], None],
        warehouse: Warehouse,
        seed: int = 7,
        on_faults: Callable[[Conditions], None] | None = None,
    ) -> None:
        self.scenario, self.clock, self.traffic = scenario, clock, traffic
        self.start = start
        self.service_url = service_url.rstrip("/")
        self.send_labels = send_labels
        self.warehouse = warehouse
        self.on_faults = on_faults
        self.rng = np.random.default_rng(seed)
        self.stats = TrafficStats()
        self.end = start + scenario.windows * traffic.window_seconds
        self._faults: tuple[float, tuple[float, float] | None] = (0.0, None)
        self._http = httpx.Client(
            timeout=60.0, limits=httpx.Limits(max_connections=128, max_keepalive_connections=64)
        )
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="demo-load")
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._sent_rows = 0
        self._failed_rows = 0

    def sent(self) -> tuple[int, int]:
        """``(applications, outcomes)`` handed on so far: applications in requests sent
        to the service (less those of failed requests), outcomes given to ``send_labels``;
        what the collector should have counted once it has caught up."""
        with self._lock:
            return self._sent_rows - self._failed_rows, self.stats.labels

    # -- traffic --------------------------------------------------------------------------

    def _post(self, req: Request) -> None:
        try:
            r = self._http.post(f"{self.service_url}/v1/score", json={"applications": req.records})
            ok = r.status_code == 200
            error = None if ok else f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.stats.in_flight -= 1
            if ok:
                self.stats.rows += len(req.records)
            else:
                self._failed_rows += len(req.records)
                self.stats.failed += 1
                self.stats.last_error = error

    def _set_faults(self, c: Conditions) -> None:
        faults = (c.slowdown_seconds, c.empty_band)
        if faults == self._faults:
            return
        self._faults = faults
        body = {"slowdown_seconds": c.slowdown_seconds, "empty_band": c.empty_band}
        self._http.put(f"{self.service_url}/admin/faults", json=body).raise_for_status()
        if self.on_faults is not None:
            self.on_faults(c)

    # -- outcomes -------------------------------------------------------------------------

    def _deliver(self, due: list[tuple[float, int, int, Request]]) -> None:
        records = [req.records[row] for _t, _seq, row, req in due]
        labels = [req.labels[row] for _t, _seq, row, req in due]
        self.warehouse.add(records, labels, self.clock.now())
        self.send_labels([str(r["id"]) for r in records], labels)
        with self._lock:
            self.stats.labels += len(records)

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, until: float | None = None) -> None:
        """Replay the whole scenario (blocks); outcomes keep coming until ``until``
        (simulated; default: the end of the last window plus the longest label delay)."""
        t = self.traffic
        until = self.end + t.label_delay_windows[1] * t.window_seconds if until is None else until
        pending: list[tuple[float, int, int, Request]] = []
        seq = 0
        w = 0
        queue: list[Request] = []
        delivered = 0.0
        try:
            while not stop.is_set():
                now = self.clock.now()
                if not queue and w < self.scenario.windows:
                    queue = window_requests(self.scenario, self.traffic, self.start, w, self.rng)
                    w += 1
                while queue and queue[0].time <= now:
                    req = queue.pop(0)
                    self._set_faults(req.conditions)
                    with self._lock:
                        self.stats.requests += 1
                        self.stats.in_flight += 1
                        self._sent_rows += len(req.records)
                    fut = self._pool.submit(self._post, req)
                    self._futures.add(fut)
                    fut.add_done_callback(self._futures.discard)
                    lo, hi = t.label_delay_windows
                    times = np.array([r["submitted_at"] for r in req.records])
                    delays = self.rng.uniform(lo, hi, len(times)) * t.window_seconds
                    for row, due in enumerate((times + delays).tolist()):
                        heapq.heappush(pending, (due, seq, row, req))
                        seq += 1
                if time.monotonic() - delivered >= LABEL_INTERVAL:  # one body, not many
                    delivered = time.monotonic()
                    due = []
                    while pending and pending[0][0] <= now:
                        due.append(heapq.heappop(pending))
                    if due:
                        self._deliver(due)
                if not queue and w >= self.scenario.windows and (not pending or now >= until):
                    break
                upcoming = ([queue[0].time] if queue else []) + ([pending[0][0]] if pending else [])
                nxt = min(upcoming, default=now)
                speed = self.clock.speed  # 0 while the replay waits for the collector
                wait = (nxt - now) / speed if speed > 0 else 0.05
                time.sleep(min(0.05, max(0.002, wait)))
        finally:
            with contextlib.suppress(httpx.HTTPError):  # the service is gone: nothing to clear
                self._set_faults(Conditions())

    def close(self) -> None:
        """Wait for requests under way (briefly), then release the connections."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()
