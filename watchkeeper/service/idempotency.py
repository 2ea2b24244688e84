"""The idempotency keys a collector remembers, so a retried write gets its original's
answer instead of being counted twice.

A key is reserved before its write is logged. While the write is in flight the key maps
to the write's future, and a retry waits for it. Once the write is applied, the key
keeps the answer alone: the future goes, with its lock, its callbacks and what they
reach (the HTTP layer's asyncio future, the apply queue's bookkeeping). A future kept
per key cost ~2.3 KB, so the 100,000 keys of the default bound held ~230 MB, growing
2-3 MB a minute under a steady 19 batches/s until the bound was met. The answer alone
costs ~0.3 KB. A write that fails lets its key go, so a retry is logged anew.

The keys are bounded by count (the oldest go first) and by age (a key older than
``max_age_seconds`` by the service's clock is forgotten, and a retry after it counts
again): both are settings, ``limits.idempotency_keys`` and ``limits.idempotency_key_age``.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from watchkeeper.service.event_time import Rejected

if TYPE_CHECKING:  # the answer's class lives with the write path, which imports this
    from watchkeeper.service.ingest import Ack

__all__ = ["IDEMPOTENCY_KEYS", "IDEMPOTENCY_KEY_AGE", "IdempotencyKeys"]

IDEMPOTENCY_KEYS = 100_000
"""Idempotency keys remembered, at most (the newest ones; older retries count again)."""
IDEMPOTENCY_KEY_AGE = 86_400.0
"""Seconds a key is remembered, at most: a day covers a client's retries through an
outage it spooled to disk for."""
_NONE = Rejected()


def _compact(ack: Ack) -> Ack:
    """The answer as kept: an empty ``rejected`` or ``clamped`` is the shared empty one."""
    rejected = ack.rejected if ack.rejected.count else _NONE
    clamped = ack.clamped if ack.clamped.count else _NONE
    if rejected is ack.rejected and clamped is ack.clamped:
        return ack
    return dataclasses.replace(ack, rejected=rejected, clamped=clamped)


def _as_duplicate(original: Future[Ack], retry: Future[Ack]) -> None:
    """Complete a retry's future with the original's answer, marked a duplicate."""
    exc = original.exception()
    if exc is not None:
        retry.set_exception(exc)
    else:
        retry.set_result(dataclasses.replace(original.result(), duplicate=True))


class IdempotencyKeys:
    """Keys of writes in flight (their futures) and applied (their answers), bounded.

    Parameters
    ----------
    clock
        Seconds now (the service's clock), for the age bound.
    max_keys
        Keys remembered, at most; the oldest go first.
    max_age_seconds
        Seconds a key is remembered, at most.

    Examples
    --------
    >>> from watchkeeper.service.ingest import Ack
    >>> keys = IdempotencyKeys(lambda: 0.0, max_keys=2)
    >>> first: Future[Ack] = Future()
    >>> keys.reserve("a", first)  # new: the caller logs the write
    True
    >>> first.set_result(Ack(seq=1, rows=10))
    >>> retry: Future[Ack] = Future()
    >>> keys.reserve("a", retry), retry.result().duplicate
    (False, True)
    >>> for k in "bcd":
    ...     _ = keys.reserve(k, Future())
    >>> len(keys), "a" in keys
    (2, False)
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_keys: int = IDEMPOTENCY_KEYS,
        max_age_seconds: float = IDEMPOTENCY_KEY_AGE,
    ) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self.max_age_seconds = max_age_seconds
        # key -> (reserved at, the write's future while in flight, else its answer);
        # in reservation order, so the oldest are first whichever bound lets them go
        self._keys: collections.OrderedDict[str, tuple[float, Future[Ack] | Ack]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys

    def reserve(self, key: str, done: Future[Ack]) -> bool:
        """Reserve ``key`` for a write whose answer ``done`` will carry: ``True`` when the
        key is new (log the write); else ``False``, and ``done`` completes with the
        original's answer marked a duplicate (once the original is, if it is in flight)."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            prior = self._keys.get(key)
            if prior is None:
                self._keys[key] = (now, done)
                while len(self._keys) > self.max_keys:
                    self._keys.popitem(last=False)
        if prior is None:
            done.add_done_callback(lambda f: self._settle(key, f))
            return True
        original = prior[1]
        if isinstance(original, Future):
            original.add_done_callback(lambda f: _as_duplicate(f, done))
        else:
            done.set_result(dataclasses.replace(original, duplicate=True))
        return False

    def restore(self, key: str, ack: Ack) -> None:
        """Remember the answer of a write replayed from the log at start."""
        now = self.clock()
        with self._lock:
            self._keys[key] = (now, _compact(ack))
            self._keys.move_to_end(key)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def _settle(self, key: str, done: Future[Ack]) -> None:
        """The write is over: keep its answer alone, or let the key go if it failed."""
        failed = done.exception() is not None
        with self._lock:
            entry = self._keys.get(key)
            if entry is None or entry[1] is not done:  # forgotten, or reserved anew
                return
            if failed:
                del self._keys[key]
            else:  # assigning an existing key keeps its place in the order
                self._keys[key] = (entry[0], _compact(done.result()))

    def _expire(self, now: float) -> None:
        horizon = now - self.max_age_seconds
        while self._keys:
            stamp = next(iter(self._keys.values()))[0]
            if stamp >= horizon:
                return
            self._keys.popitem(last=False)
