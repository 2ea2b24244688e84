"""One apply thread per model, so a model that stalls (a slow store, a huge window to
save) holds back only its own writes, and a bound on what waits to be applied.

The write-ahead log's writer thread writes and syncs every record, then hands each to
the :class:`Appliers`, which queue it on its model's thread; that thread applies the
model's records in sequence order and completes each record's future. What is written
but not yet applied is known (:meth:`Appliers.oldest_pending`), so the log is never
truncated past it; what waits is bounded in bytes, per model and in all
(:meth:`Appliers.admit`), and a write over the bound is refused before it is logged.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.service.records import decode_record
from watchkeeper.service.unavailable import Unavailable

__all__ = ["Appliers", "Pending"]

log = logging.getLogger("watchkeeper.server")
BUSY_RETRY_SECONDS = 1.0
"""``Retry-After`` of a write refused because too much waits to be applied."""


@dataclass
class Pending:
    """A write between its admission and its application.

    ``decoded`` is what the request thread already decoded (applied as it is),
    ``done`` completes with the apply's result (or its error).
    """

    model: str
    size: int
    decoded: Any = None
    done: Future[Any] = field(default_factory=Future)
    seq: int | None = None


class _ModelQueue:
    def __init__(self, model: str, apply: Callable[[int, bytes, Pending], Any]) -> None:
        self.model = model
        self.apply = apply
        self.items: collections.deque[tuple[int, bytes, Pending]] = collections.deque()
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(
            target=self._run, name=f"watchkeeper-apply-{model}", daemon=True
        )
        self.thread.start()

    def put(self, seq: int, payload: bytes, pending: Pending) -> None:
        with self.cond:
            self.items.append((seq, payload, pending))
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.closed:
                    self.cond.wait()
                if not self.items:
                    return
                seq, payload, pending = self.items[0]
            try:
                result = self.apply(seq, payload, pending)
            except Exception as exc:  # durable already; the submitter learns why
                log.exception("watchkeeper: applying record %d of %s failed", seq, self.model)
                pending.decoded = None
                pending.done.set_exception(exc)
            else:
                # the future outlives the write (idempotency keys keep it, and a future
                # keeps its callbacks, which reach this): the rows must not
                pending.decoded = None
                pending.done.set_result(result)
            with self.cond:
                self.items.popleft()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join()


class Appliers:
    """Per-model apply threads with a bound on the bytes waiting.

    Parameters
    ----------
    apply
        Called as ``apply(seq, payload, pending)`` on the model's thread; its return
        value completes ``pending.done``.
    max_bytes
        Bytes admitted and not yet applied, all models together, past which a write is
        refused (429).
    max_model_bytes
        The same for one model.
    """

    def __init__(
        self,
        apply: Callable[[int, bytes, Pending], Any],
        *,
        max_bytes: int,
        max_model_bytes: int,
    ) -> None:
        self.apply = apply
        self.max_bytes = max_bytes
        self.max_model_bytes = max_model_bytes
        self._lock = threading.Lock()
        self._queues: dict[str, _ModelQueue] = {}
        self._by_payload: dict[int, Pending] = {}
        self._seqs: dict[int, Pending] = {}
        self._bytes = 0
        self._model_bytes: collections.Counter[str] = collections.Counter()

    def admit(
        self,
        model: str,
        payload: bytes,
        decoded: Any = None,
        done: Future[Any] | None = None,
    ) -> Pending:
        """Reserve room for a write about to be logged; raises
        :class:`~watchkeeper.service.unavailable.Unavailable` (429) when there is none."""
        size = len(payload)
        with self._lock:
            over_model = self._model_bytes[model] + size > self.max_model_bytes
            if (over_model or self._bytes + size > self.max_bytes) and self._model_bytes[model]:
                what = f"model {model!r}" if over_model else "the collector"
                raise Unavailable(
                    f"ingest queue: {what} has more writes waiting to be applied than its "
                    "bound; expected a retry later",
                    status=429,
                    retry_after=BUSY_RETRY_SECONDS,
                    field="queue",
                )
            pending = Pending(model, size, decoded, Future() if done is None else done)
            self._by_payload[id(payload)] = pending
            self._bytes += size
            self._model_bytes[model] += size
        pending.done.add_done_callback(lambda _f: self._release(pending))
        return pending

    def _release(self, pending: Pending) -> None:
        with self._lock:
            self._bytes -= pending.size
            self._model_bytes[pending.model] -= pending.size
            if pending.seq is not None:
                self._seqs.pop(pending.seq, None)

    def withdraw(self, payload: bytes, exc: BaseException) -> None:
        """The log refused the write: release its room and fail its future."""
        with self._lock:
            pending = self._by_payload.pop(id(payload), None)
        if pending is not None and not pending.done.done():
            pending.done.set_exception(exc)

    def dispatch(self, seq: int, payload: bytes) -> None:
        """The log's callback: queue a durable record on its model's thread."""
        with self._lock:
            pending = self._by_payload.pop(id(payload), None)
            if pending is None:  # not admitted here (a direct append): no bound to keep
                pending = Pending(decode_record(payload)[0].model, 0)
                unadmitted = pending
                pending.done.add_done_callback(lambda _f: self._release(unadmitted))
            pending.seq = seq
            self._seqs[seq] = pending
            queue = self._queues.get(pending.model)
            if queue is None:
                queue = self._queues[pending.model] = _ModelQueue(pending.model, self.apply)
        queue.put(seq, payload, pending)

    def oldest_pending(self) -> int | None:
        """The lowest seq written and not yet applied, if any."""
        with self._lock:
            return min(self._seqs, default=None)

    def queued_bytes(self, model: str | None = None) -> int:
        """Bytes admitted and not yet applied (of one model, or all)."""
        with self._lock:
            return self._bytes if model is None else self._model_bytes[model]

    def close(self) -> None:
        """Apply everything queued, then stop the threads."""
        with self._lock:
            queues = list(self._queues.values())
        for queue in queues:
            queue.close()
