"""Silences: hold back the notifications of alerts whose labels match, until a time.

A silence matches an alert when every one of its matchers equals the alert's label of
that name (``alertname`` is the rule's name, ``model`` the model's). It stops
notifications and retraining actions, never the alert itself, which is still recorded
and marked with the silence's id. Silences are kept in the store, so they survive a
restart; expired ones stay listed but no longer match.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import overload

from watchkeeper.errors import ConfigError
from watchkeeper.store import SilenceRecord, Store

__all__ = ["MAX_SILENCE_SECONDS", "Silences"]

MAX_SILENCE_SECONDS = 366 * 86400.0
"""The longest a silence may last (a year): one that never ends would hide an alert for
good, which is what removing its rule is for."""


class Silences(Sequence[SilenceRecord]):
    """The store's silences, oldest first, loaded when built.

    Parameters
    ----------
    store
        Where silences are kept (and read from at start).
    clock
        Time of creation, epoch seconds.

    Examples
    --------
    >>> from watchkeeper.store import MemoryStore
    >>> silences = Silences(MemoryStore(), clock=lambda: 100.0)
    >>> s = silences.add({"alertname": "Drift"}, ends_at=200.0, comment="deploy")
    >>> silences.matching({"alertname": "Drift", "model": "churn"}, at=150.0) == s
    True
    >>> silences.matching({"alertname": "Drift"}, at=250.0) is None  # expired
    True
    >>> silences.matching({"alertname": "Slow"}, at=150.0) is None
    True
    """

    def __init__(self, store: Store, *, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[SilenceRecord] = store.silences()

    def add(
        self,
        matchers: Mapping[str, str],
        ends_at: float,
        *,
        comment: str = "",
        created_by: str = "",
    ) -> SilenceRecord:
        """Keep a new silence in the store; returns it with its id.

        Raises
        ------
        ConfigError
            If ``ends_at`` is not finite or more than :data:`MAX_SILENCE_SECONDS` away.
        """
        now = self._clock()
        if not math.isfinite(ends_at) or ends_at - now > MAX_SILENCE_SECONDS:
            raise ConfigError(
                f"ends_at: {ends_at!r} is more than {MAX_SILENCE_SECONDS / 86400:.0f} days "
                "away; expected a silence that ends",
                field="ends_at",
                value=ends_at,
                expected=f"at most {MAX_SILENCE_SECONDS / 86400:.0f} days from now",
            )
        record = self._store.save_silence(
            dict(matchers),
            float(ends_at),
            comment=comment,
            created_by=created_by,
            created_at=now,
        )
        with self._lock:
            self._records.append(record)
        return record

    def matching(self, labels: Mapping[str, str], at: float) -> SilenceRecord | None:
        """The oldest silence active at ``at`` whose matchers all equal ``labels``."""
        with self._lock:
            for s in self._records:
                if s.ends_at > at and all(labels.get(k) == v for k, v in s.matchers.items()):
                    return s
        return None

    @overload
    def __getitem__(self, index: int) -> SilenceRecord: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SilenceRecord]: ...

    def __getitem__(self, index: int | slice) -> SilenceRecord | Sequence[SilenceRecord]:
        with self._lock:
            return self._records[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[SilenceRecord]:
        with self._lock:
            records = list(self._records)  # a snapshot: adding while iterating is safe
        return iter(records)
