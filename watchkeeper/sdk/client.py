"""The remote client: the Monitor's ``log`` calls, sent to a collector in the background.

``Client(url, model).log(...)`` costs the caller one append to a bounded in-memory
queue (when full, the oldest entry is dropped and counted in ``dropped``). A background
thread batches the queue by size and time into request bodies, each with its own
idempotency key, and posts them; a body that cannot be delivered (collector down, 5xx,
429) waits in the spool — a directory when ``spool_dir`` is given, so it survives a
restart of the caller, else memory — and is retried with exponential backoff and jitter,
oldest first. A body the collector rejects (4xx) is dropped and counted in ``rejected``
with the reason in ``last_error``. Nothing here raises into the caller.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import math
import os
import random
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from watchkeeper import wire

__all__ = ["Client"]

log = logging.getLogger("watchkeeper.sdk")
_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars unwrapped, NaN and inf as null."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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
    max_backoff
        Longest wait between delivery attempts, seconds.
    transport
        An ``httpx`` transport (tests).
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
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_backoff = max_backoff
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        self._queue: collections.deque[tuple[str, Any]] = collections.deque(maxlen=queue_size)
        self._spool_dir = Path(spool_dir) if spool_dir is not None else None
        if self._spool_dir is not None:
            self._spool_dir.mkdir(parents=True, exist_ok=True)
        self._memory_spool: collections.deque[tuple[str, str, bytes]] = collections.deque(
            maxlen=10_000
        )
        self.dropped = 0
        self.rejected = 0
        self.sent_rows = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="watchkeeper-sdk", daemon=True)
        self._thread.start()
        _CLIENTS.add(self)

    # -- the caller's side: append and return ----------------------------------------

    def _put(self, item: tuple[str, Any]) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        self._queue.append(item)
        if len(self._queue) >= self.batch_size:
            self._wake.set()

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
            if isinstance(features, Mapping) and all(
                not hasattr(v, "__len__") or isinstance(v, str) for v in features.values()
            ):
                row: dict[str, Any] = {"features": features}
                if outputs is not None:
                    row["outputs"] = outputs
                if ids is not None:
                    row["id"] = ids
                row["timestamp"] = time.time() if timestamps is None else timestamps
                if latency is not None:
                    row["latency"] = latency
                if error is not None:
                    row["error"] = error if isinstance(error, str) else type(error).__name__
                if tags:
                    row["tags"] = tags
                self._put(("row", row))
            else:
                self._put(("batch", (features, outputs, ids, timestamps, latency, error, tags)))
        except Exception as exc:  # never into the caller's request path
            self.dropped += 1
            self.last_error = f"log: {exc}"

    def log_labels(self, ids: Any, labels: Any, timestamps: Any = None) -> None:
        """Queue ground truth for earlier predictions (joined by id in the collector)."""
        try:
            self._put(("labels", (list(ids), list(labels), timestamps)))
        except Exception as exc:
            self.dropped += 1
            self.last_error = f"log_labels: {exc}"

    def log_metric(
        self,
        name: str,
        value: float,
        tags: Mapping[str, str] | None = None,
        *,
        timestamp: float | None = None,
    ) -> None:
        """Queue a custom metric value (aggregated per window by the collector)."""
        entry = {"name": str(name), "value": _plain(value), "tags": dict(tags or {}),
                 "timestamp": time.time() if timestamp is None else timestamp}  # fmt: skip
        self._put(("metric", entry))

    def log_event(self, name: str, *, timestamp: float | None = None) -> None:
        """Queue an event (counted per window by the collector)."""
        self._put(
            (
                "event",
                {"name": str(name), "timestamp": time.time() if timestamp is None else timestamp},
            )
        )

    # -- the sender thread ----------------------------------------------------------------

    def _bodies(self) -> list[tuple[str, bytes]]:
        """Drain the queue into request bodies: ``(path, body)``."""
        bodies: list[tuple[str, bytes]] = []
        rows: list[dict[str, Any]] = []
        signals: dict[str, list[Any]] = {"metrics": [], "events": []}
        base = f"/v1/models/{self.model}"

        def flush_rows() -> None:
            if rows:
                bodies.extend((f"{base}/predictions", body) for body in _encode_rows(rows))
                rows.clear()

        while self._queue:
            try:
                kind, item = self._queue.popleft()
            except IndexError:
                break
            if kind == "row":
                rows.append(item)
                if len(rows) >= self.batch_size:
                    flush_rows()
            elif kind == "batch":
                flush_rows()
                try:
                    bodies.append((f"{base}/predictions", _encode_batch(*item)))
                except Exception as exc:  # an unreadable batch: counted, the rest goes on
                    self.dropped += 1
                    self.last_error = f"log: batch not encodable: {exc}"
            elif kind in ("metric", "event"):
                signals[f"{kind}s"].append(item)
            else:
                flush_rows()
                ids, labels, ts = item
                doc = {"ids": [str(i) for i in ids], "labels": [_plain(v) for v in labels]}
                if ts is not None:
                    doc["timestamps"] = [_plain(t) for t in ts]
                bodies.append((f"{base}/labels", json.dumps(doc).encode()))
        flush_rows()
        if signals["metrics"] or signals["events"]:
            bodies.append((f"{base}/signals", json.dumps(signals, default=_plain).encode()))
        return bodies

    def _spool(self, path: str, body: bytes) -> None:
        key = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        if self._spool_dir is None:
            self._memory_spool.append((key, path, body))
            return
        tmp = self._spool_dir / f".{key}.tmp"
        tmp.write_bytes(path.encode() + b"\n" + body)
        tmp.rename(self._spool_dir / f"{key}.body")  # atomic: never a half body

    def _pending(self) -> list[tuple[str, str, bytes, Path | None]]:
        if self._spool_dir is None:
            return [(k, p, b, None) for k, p, b in self._memory_spool]
        out: list[tuple[str, str, bytes, Path | None]] = []
        for file in sorted(self._spool_dir.glob("*.body")):
            path, _, body = file.read_bytes().partition(b"\n")
            out.append((file.stem, path.decode(), body, file))
        return out

    def _deliver(self) -> bool:
        """Send spooled bodies oldest first; False when the collector is unreachable."""
        for key, path, body, file in self._pending():
            try:
                r = self._http.post(
                    self.url + path,
                    content=body,
                    headers={"content-type": wire.JSON, "Idempotency-Key": key},
                )
            except httpx.HTTPError as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                return False
            if r.status_code >= 500 or r.status_code == 429:
                self.last_error = f"HTTP {r.status_code}"
                return False
            if r.status_code >= 400:
                self.rejected += 1
                self.last_error = f"HTTP {r.status_code}: {r.text[:300]}"
                log.warning("watchkeeper: collector rejected a batch: %s", self.last_error)
            elif path.endswith("/predictions"):
                self.sent_rows += int(r.json().get("accepted", 0))
            if file is not None:
                file.unlink(missing_ok=True)
            else:
                self._memory_spool.popleft()
        return True

    def _run(self) -> None:
        backoff = 0.0
        while True:
            self._wake.wait(self.flush_interval if backoff == 0 else backoff)
            self._wake.clear()
            try:
                for path, body in self._bodies():
                    self._spool(path, body)
                ok = self._deliver()
            except Exception as exc:  # a bug here must not kill the thread
                ok = False
                self.last_error = f"sender: {exc}"
                log.exception("watchkeeper: SDK sender failed")
            if ok:
                backoff = 0.0
                if not self._queue:
                    self._idle.set()
            else:
                self._idle.clear()
                backoff = min(self.max_backoff, max(0.05, backoff * 2)) * random.uniform(0.8, 1.2)
            if self._stop and (ok or backoff > 0) and not self._queue:
                return

    # -- lifecycle ---------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued; True when the queue and the spool are empty."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._idle.clear()
            self._wake.set()
            if self._idle.wait(min(0.5, max(0.0, end - time.monotonic()))) and not (
                self._queue or self._pending()
            ):
                return True
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Flush (up to ``timeout``; what is left stays in the spool) and stop."""
        self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():  # else it still sends; it is a daemon thread
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encode_rows(rows: list[dict[str, Any]]) -> list[bytes]:
    """Rows as columnar JSON bodies (one per distinct tag set): the collector decodes
    columns about three times faster than row objects."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(json.dumps(row.get("tags") or {}, sort_keys=True), []).append(row)
    bodies = []
    for tags, group in groups.items():
        n = len(group)
        features: dict[str, list[Any]] = {}
        outputs: dict[str, list[Any]] = {}
        for i, row in enumerate(group):
            for k, v in row["features"].items():
                features.setdefault(str(k), [None] * n)[i] = _plain(v)
            out = row.get("outputs")
            out_map = (
                out if isinstance(out, Mapping) else ({} if out is None else {"prediction": out})
            )
            for k, v in out_map.items():
                outputs.setdefault(str(k), [None] * n)[i] = _plain(v)
        doc: dict[str, Any] = {"columns": features}
        if outputs:
            doc["outputs"] = outputs
        for key, field in (
            ("ids", "id"),
            ("timestamps", "timestamp"),
            ("latency", "latency"),
            ("errors", "error"),
        ):
            values = [_plain(row.get(field)) for row in group]
            if any(v is not None for v in values):
                doc[key] = (
                    [None if v is None else str(v) for v in values] if key == "ids" else values
                )
        if json.loads(tags):
            doc["tags"] = json.loads(tags)
        bodies.append(json.dumps(doc, allow_nan=False, default=_plain).encode())
    return bodies


def _column(values: Any) -> list[Any]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    return [_plain(v) for v in values]


def _encode_batch(
    features: Any, outputs: Any, ids: Any, timestamps: Any, latency: Any, error: Any, tags: Any
) -> bytes:
    from watchkeeper._batch import Factorized, to_columns

    columns, n = to_columns(features)
    doc: dict[str, Any] = {
        "columns": {
            k: _column(v.materialize() if isinstance(v, Factorized) else v)
            for k, v in columns.items()
        }
    }
    if outputs is not None:
        if isinstance(outputs, Mapping) or hasattr(outputs, "columns"):
            out_cols, _ = to_columns(outputs)
            doc["outputs"] = {
                k: _column(v.materialize() if isinstance(v, Factorized) else v)
                for k, v in out_cols.items()
            }
        else:
            doc["outputs"] = _column(outputs)
    for key, value in (("ids", ids), ("latency", latency), ("errors", error)):
        if value is not None:
            doc[key] = (
                [str(v) for v in value]
                if key == "ids"
                else _column(
                    value
                    if hasattr(value, "__len__") and not isinstance(value, str)
                    else [value] * n
                )
            )
    doc["timestamps"] = (
        _column(timestamps) if timestamps is not None and hasattr(timestamps, "__len__")
        else [timestamps if timestamps is not None else time.time()] * n
    )  # fmt: skip
    if tags:
        doc["tags"] = dict(tags)
    return json.dumps(doc, allow_nan=False, default=_plain).encode()


@atexit.register
def _close_all() -> None:
    for client in list(_CLIENTS):
        try:
            client.close(timeout=5.0)
        except Exception:  # exiting: never raise from a hook
            log.exception("watchkeeper: closing an SDK client at exit failed")
