"""The remote client: the Monitor's ``log`` calls, sent to a collector in the background.

``Client(url, model).log(...)`` costs the caller one tuple appended to a bounded
in-memory queue (when full, the oldest entry is dropped and counted in ``dropped``):
no validation, no encoding, no I/O, no lock. A background thread drains the queue into
columnar JSON bodies, puts each in the spool (``watchkeeper.sdk.spool``: memory, or a
directory that survives a restart; bounded by ``spool_max_bytes``, oldest dropped and
counted) and sends the spool oldest first, each body with its own idempotency key. What
the collector's answer does to a body is ``watchkeeper.sdk._retry``: only a 422 is
final (counted in ``rejected``, kept under ``dead/`` of a directory spool); a 413 is
split; anything else is retried with backoff, or after the collector's ``Retry-After``.

Nothing here raises into the caller or blocks it. ``close`` (and the exit hook, within
``exit_timeout``, 1 s by default) spools what is queued, delivers what it can before its
deadline and ends the thread; with a ``spool_dir`` the rest waits on disk for the next
start. A closed or idle client's thread sleeps: it wakes once per ``flush_interval``
(or backoff) and reads no file while its spool is empty.

The same thread samples the service process's saturation every few seconds (CPU,
memory, descriptors, threads, GC pauses, event-loop lag and, with the middleware,
requests in flight and their queue time: :mod:`watchkeeper.sdk.resources`) and sends it
with the custom metrics; ``resources=False`` turns it off.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from watchkeeper.sdk import _encode, _post
from watchkeeper.sdk._retry import Outcome, backoff, classify, retry_after
from watchkeeper.sdk.resources import ResourceSampler, sampler_for
from watchkeeper.sdk.spool import Entry, Spool

__all__ = ["Client"]

log = logging.getLogger("watchkeeper.sdk")
_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()
#: Rows per predictions body, whatever ``batch_size`` says: a body stays well under the
#: collector's default 10 MB limit and one JSON encode never holds the GIL for long.
MAX_BODY_ROWS = 5_000
#: Per round of the sender: entries taken from the queue, then bodies sent, so that a
#: burst is sent while it is being encoded and a long spool never starves the queue.
_ROUND_ENTRIES = 20_000
_ROUND_BODIES = 16
#: The longest ``close`` waits past its timeout for the sender to spool what it holds.
_SPOOL_GRACE = 10.0


class Client:
    """Send predictions, labels and custom signals of one model to a collector.

    Parameters
    ----------
    url
        The collector, e.g. ``http://127.0.0.1:8000``.
    model
        The model's name in the collector's configuration.
    api_key
        Sent as ``X-API-Key`` when given.
    batch_size, flush_interval
        A body is sent when this many rows are queued, or this many seconds passed.
    queue_size
        Entries held in memory before the oldest are dropped.
    spool_dir
        Directory for bodies not yet delivered (default: memory, lost at exit).
    spool_max_bytes
        The most bytes the spool holds (default 1 GiB in a directory, 64 MiB in
        memory); past it the oldest bodies are dropped, their rows counted in
        ``spool_dropped``.
    max_backoff
        Longest wait between delivery attempts, seconds (a ``Retry-After`` from the
        collector may ask for longer, up to an hour).
    timeout
        Seconds for one request.
    exit_timeout
        Seconds the exit hook gives an open client to deliver before the process ends.
    transport
        An ``httpx`` transport (tests).
    describe
        Turns raw media into descriptor columns before sending (a fitted
        :class:`watchkeeper.descriptors.Describer`): called on the sender thread, so
        ``log`` stays an append and raw images, audio or vectors never leave the process.
    resources
        Sample the process's saturation and send it (``True``, every 5 s, this process
        named ``host:pid``), not (``False``), or with a
        :class:`~watchkeeper.sdk.resources.ResourceSampler` of your settings (its
        ``interval``, ``instance_id``, ``clock``). Kept as :attr:`resources`.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        queue_size: int = 100_000,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int | None = None,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        exit_timeout: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        describe: Callable[[Any], Any] | None = None,
        resources: bool | ResourceSampler = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.describe = describe
        self.model = model
        self.batch_size = max(1, int(batch_size))
        self.flush_interval = flush_interval
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.exit_timeout = exit_timeout
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=queue_size)
        if spool_max_bytes is None:
            spool_max_bytes = 2**30 if spool_dir is not None else 2**26
        self.spool = Spool(spool_dir, spool_max_bytes)
        self.dropped = 0
        self.rejected = 0
        self.sent_rows = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._round = threading.Event()
        self._spooling = False  # the sender holds entries taken from the queue
        self._deadline: float | None = None  # set by close: the sender's last moment
        self._next_attempt = 0.0
        self._failures = 0
        self.resources = sampler_for(resources)
        self._thread = threading.Thread(target=self._run, name="watchkeeper-sdk", daemon=True)
        self._thread.start()
        _CLIENTS.add(self)

    @property
    def spool_dropped(self) -> int:
        """Rows dropped from the spool to keep it under ``spool_max_bytes``."""
        return self.spool.dropped_rows

    # -- the caller's side: append and return ----------------------------------------

    def _put(self, item: tuple[Any, ...]) -> None:
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        queue.append(item)
        if len(queue) >= self.batch_size:
            self._wake.set()

    def _fail(self, what: str, exc: BaseException) -> None:
        self.dropped += 1
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"

    def log(
        self,
        features: Any,
        outputs: Any = None,
        *,
        ids: Any = None,
        timestamps: Any = None,
        latency: Any = None,
        error: Any = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Queue predictions: one row (a dict of feature values) or a batch (a DataFrame
        or dict of columns, with per-row ``ids``/``timestamps``/``latency``/``error``)."""
        try:
            if isinstance(error, BaseException):  # do not keep its traceback alive
                error = type(error).__name__
            self._put(("log", features, outputs, ids, timestamps, latency, error, tags,
                       time.time()))  # fmt: skip
        except Exception as exc:  # never into the caller's request path
            self._fail("log", exc)

    def log_labels(self, ids: Any, labels: Any, timestamps: Any = None) -> None:
        """Queue ground truth for earlier predictions (joined by id in the collector)."""
        try:
            ids, labels = list(ids), list(labels)
            if len(ids) != len(labels):
                raise ValueError(f"{len(ids)} ids but {len(labels)} labels")
            self._put(("labels", ids, labels, timestamps))
        except Exception as exc:
            self._fail("log_labels", exc)

    def log_metric(
        self,
        name: str,
        value: float,
        tags: Mapping[str, str] | None = None,
        *,
        timestamp: float | None = None,
    ) -> None:
        """Queue a custom metric value (aggregated per window by the collector).

        A value that is not a finite number, or tags that are not a mapping, drop this
        one call (counted in ``dropped``, reason in ``last_error``) rather than make the
        collector refuse the whole body it would travel in.
        """
        try:
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"value {value!r} is not a finite number")
            if tags is not None and not isinstance(tags, Mapping):
                raise TypeError(f"tags {tags!r} is not a mapping of strings")
            entry = {"name": str(name), "value": number,
                     "tags": {str(k): str(v) for k, v in (tags or {}).items()},
                     "timestamp": _time(timestamp)}  # fmt: skip
            self._put(("metric", entry))
        except Exception as exc:
            self._fail("log_metric", exc)

    def log_event(self, name: str, *, timestamp: float | None = None) -> None:
        """Queue an event (counted per window by the collector)."""
        try:
            entry = {"name": str(name), "timestamp": _time(timestamp)}
            self._put(("event", entry))
        except Exception as exc:
            self._fail("log_event", exc)

    # -- the sender thread ----------------------------------------------------------------

    def _spool_queue(self, budget: int | None) -> None:
        """Drain the queue (at most ``budget`` entries; all when None) into the spool."""
        rows: list[_encode.Row] = []
        metrics: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        predictions = f"/v1/models/{self.model}/predictions"
        limit = min(self.batch_size, MAX_BODY_ROWS)

        def flush_rows() -> None:
            if rows:
                for n, body in _encode.encode_rows(rows):
                    self.spool.add(predictions, n, body)
                rows.clear()

        while budget is None or budget > 0:
            if budget is not None:
                budget -= 1
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            try:
                kind = item[0]
                if kind == "log":
                    _, features, outputs, ids, ts, latency, error, tags, now = item
                    if self.describe is not None:
                        features = self.describe(features)
                        item = (kind, features, *item[2:])
                    if _is_row(features):
                        ts, latency, error = _encode.row_fields(
                            now if ts is None else ts, latency, error
                        )
                        rows.append((features, outputs, ids, ts, latency, error, tags))
                        if len(rows) >= limit:
                            flush_rows()
                    else:
                        n, body = _encode.encode_batch(*item[1:])
                        self.spool.add(predictions, n, body)
                elif kind == "metric":
                    metrics.append(item[1])
                elif kind == "event":
                    events.append(item[1])
                else:
                    _, ids, labels, ts = item
                    body = _encode.encode_labels(ids, labels, ts)
                    self.spool.add(f"/v1/models/{self.model}/labels", len(ids), body)
            except Exception as exc:  # an unreadable entry: counted, the rest goes on
                self._fail(f"{item[0]}: not encodable", exc)
        try:
            flush_rows()
        except Exception as exc:
            self.dropped += len(rows)
            self.last_error = f"log: rows not encodable: {type(exc).__name__}: {exc}"
        if metrics or events:
            body = _encode.encode_signals(metrics, events)
            self.spool.add(f"/v1/models/{self.model}/signals", len(metrics) + len(events), body)

    def _deliver(self, budget: int) -> float | None:
        """Send up to ``budget`` spooled bodies, oldest first. None when they went (or
        the spool is empty); else the seconds to wait before the next attempt (the
        collector's ``Retry-After``, or 0 for the backoff)."""
        while budget > 0 and (entry := self.spool.peek()) is not None:
            budget -= 1
            if self._deadline is not None and time.monotonic() >= self._deadline:
                return 0.0
            body = self.spool.read(entry)
            if body is None:  # vanished: sent by another client on the same directory
                self.spool.remove(entry)
                continue
            timeout = self.timeout
            if self._deadline is not None:
                timeout = max(0.05, min(timeout, self._deadline - time.monotonic()))
            try:
                r = _post.post(self._http, self.url, entry, body, timeout)
            except httpx.HTTPError as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                return 0.0
            finally:
                del body
            outcome = classify(r.status_code)
            if outcome is Outcome.DELIVERED:
                if entry.path.endswith("/predictions"):
                    self.sent_rows += _post.accepted(r)
                self.spool.remove(entry)
                continue
            self.last_error = f"HTTP {r.status_code}: {r.text[:300]}"
            if outcome is Outcome.SPLIT and (parts := self._split(entry)) is not None:
                self.spool.replace(entry, parts)
            elif outcome is Outcome.RETRY:
                return retry_after(r.headers) or 0.0
            else:  # a 422, or one row over the collector's body limit: it would block the rest
                self.rejected += 1
                log.warning("watchkeeper: collector refused a batch: %s", self.last_error)
                self.spool.bury(entry)
        return None

    def _split(self, entry: Entry) -> list[tuple[int, bytes]] | None:
        body = self.spool.read(entry)
        return None if body is None else _encode.split(body)

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            wait = self.flush_interval if not self._failures else self._next_attempt - now
            if len(self._queue) >= self.batch_size or (len(self.spool) and not self._failures):
                wait = 0.0  # a backlog: spooling and sending take turns until it is gone
            if self._deadline is not None:
                wait = min(wait, self._deadline - now)
            elif self.resources is not None:
                wait = min(wait, self.resources.next_due - now)
            self._wake.wait(max(0.0, wait))
            self._wake.clear()
            stopping = self._deadline is not None
            try:
                self._sample(stopping)
                self._spooling = True
                try:
                    self._spool_queue(None if stopping else _ROUND_ENTRIES)
                finally:
                    self._spooling = False
                if len(self.spool) and (stopping or time.monotonic() >= self._next_attempt):
                    delay = self._deliver(_ROUND_BODIES)
                    if delay is None:
                        self._failures = 0
                    else:
                        self._failures += 1
                        delay = max(delay, backoff(self._failures, self.max_backoff))
                        self._next_attempt = time.monotonic() + delay
            except Exception as exc:  # a bug here must not kill the thread
                self._failures += 1
                self._next_attempt = time.monotonic() + backoff(self._failures, self.max_backoff)
                self.last_error = f"sender: {type(exc).__name__}: {exc}"
                log.exception("watchkeeper: SDK sender failed")
            self._round.set()
            if stopping and self._done_stopping():
                self._http.close()
                return

    def _sample(self, stopping: bool) -> None:
        """Queue a saturation sample when one is due (the sampler never raises)."""
        sampler = self.resources
        if sampler is not None and not stopping and time.monotonic() >= sampler.next_due:
            for entry in sampler.entries():
                self._put(("metric", entry))

    def _done_stopping(self) -> bool:
        assert self._deadline is not None
        if not len(self.spool) and not self._queue:
            return True
        if time.monotonic() >= self._deadline:
            return True
        # the rest is on disk and the collector is failing: the next start sends it
        return self.spool.durable and self._failures > 0 and not self._queue

    # -- lifecycle ---------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued; True when the queue and the spool are empty."""
        end = time.monotonic() + timeout
        while True:
            if not self._thread.is_alive():
                return not self._queue and not len(self.spool)
            self._round.clear()
            self._wake.set()
            left = end - time.monotonic()
            if left <= 0:
                return False
            if (self._round.wait(min(0.5, left)) and not self._queue
                    and not len(self.spool)):  # fmt: skip
                return True
            if self._failures:  # wait for the backoff rather than hammer the collector
                pause = min(self._next_attempt, end) - time.monotonic()
                if pause > 0:
                    time.sleep(min(pause, 0.5))

    def close(self, timeout: float = 10.0) -> None:
        """Spool what is queued, deliver what can be before ``timeout`` seconds, and end
        the sender thread; what is left stays in the spool (on disk with ``spool_dir``).

        With a directory spool, ``close`` then writes what is still queued to it (in the
        caller's thread: the sender may be waiting on a slow collector), so only a burst
        that outruns the encoder takes longer than ``timeout``, and it is not lost."""
        if self._deadline is None:
            self._deadline = time.monotonic() + timeout
        self._wake.set()
        if self.resources is not None:  # the sender samples no more once it is stopping
            self.resources.close()
        self._thread.join(max(0.0, self._deadline - time.monotonic()) + 0.1)
        if self._thread.is_alive() and self.spool.durable:
            # what is still queued would be lost with the process: spool it here, as the
            # sender may be held by a slow request, then let the sender finish its part
            # (bounded: a full queue takes ~0.2 s of CPU to spool)
            self._spool_queue(None)
            end = time.monotonic() + _SPOOL_GRACE
            while self._spooling and time.monotonic() < end:
                time.sleep(0.005)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_row(features: Any) -> bool:
    """True for one row (a mapping of scalars), False for a batch of columns."""
    return isinstance(features, Mapping) and all(
        isinstance(v, str) or not hasattr(v, "__len__") for v in features.values()
    )


def _time(timestamp: Any) -> float | str:
    """Now, or the caller's time: epoch seconds or an ISO string (the collector parses)."""
    if timestamp is None:
        return time.time()
    return timestamp if isinstance(timestamp, str) else float(timestamp)


@atexit.register
def _close_all() -> None:
    for client in list(_CLIENTS):
        try:
            client.close(timeout=client.exit_timeout)
        except Exception:  # exiting: never raise from a hook
            log.exception("watchkeeper: closing an SDK client at exit failed")
