"""The parts a :class:`~watchkeeper.monitor.Monitor` is composed of, wired together."""

from __future__ import annotations

import os
import socket
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

from watchkeeper.monitor.analyser import Analyser
from watchkeeper.monitor.background import Background
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.clock import Clock
from watchkeeper.monitor.closing import WindowCloser
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.events import Listeners
from watchkeeper.monitor.ingest import Ingestion
from watchkeeper.monitor.issues import Issues
from watchkeeper.monitor.labels import LabelJoin
from watchkeeper.monitor.multivariate import MultivariateAnalysis
from watchkeeper.monitor.predictions import PendingPredictions
from watchkeeper.monitor.segments import SegmentPart
from watchkeeper.monitor.window import WindowState
from watchkeeper.monitor.windows import Windows
from watchkeeper.store import Store, WindowKey

__all__ = ["MonitorParts", "ReadOnly", "default_writer"]

T = TypeVar("T")


def default_writer() -> str:
    """A writer name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class MonitorParts:
    """One monitor's parts; each owns its own state and is told of the others it uses.

    Examples
    --------
    >>> from watchkeeper.monitor.clock import ManualClock
    >>> from watchkeeper.store import MemoryStore
    >>> parts = MonitorParts.build(MemoryStore(), "m", "1", "a", MonitorConfig(), ManualClock())
    >>> parts.windows.watermark
    -inf
    """

    issues: Issues
    listeners: Listeners
    background: Background
    baseline: Baseline
    windows: Windows
    predictions: PendingPredictions
    analyser: Analyser
    closer: WindowCloser
    ingestion: Ingestion
    labels: LabelJoin
    segments: SegmentPart

    @property
    def unsaved_seq(self) -> int | None:
        """The lowest ``seq`` whose rows or kept predictions are not all saved yet."""
        seqs = [self.windows.unsaved_seq, self.predictions.unsaved_seq]
        return min((s for s in seqs if s is not None), default=None)

    @classmethod
    def build(
        cls,
        store: Store,
        model: str,
        version: str,
        writer: str,
        config: MonitorConfig,
        clock: Clock,
        *,
        lock: threading.RLock | None = None,
    ) -> MonitorParts:
        """Wire the parts of the monitor of ``model`` ``version`` writing as ``writer``
        (``lock``: the monitor's, taken by the background when it folds buffered rows)."""
        now = clock.now
        issues = Issues()
        listeners = Listeners()
        background = Background(f"watchkeeper-analyser-{model}-{version}")
        baseline = Baseline(store, model, version, config)
        segments = SegmentPart(config)

        def open_state(start: float) -> WindowState:
            # a window closed before a restart (or a replay) continues from this writer's
            # saved state, never from zero
            key = WindowKey(model, version, start, config.window_seconds)
            mine = store.window_partials(key).get(writer)
            if mine is not None:
                return WindowState.from_bytes(mine)
            # each writer's and window's reservoir draws its own keys, so partials merge
            # into one uniform sample
            state = baseline.new_state(stream=zlib.crc32(f"{writer}/{start!r}".encode()))
            if segments.enabled and baseline.schema is not None:
                ref = baseline.reference
                state.segments = segments.new_set(
                    baseline.schema, None if ref is None else (ref.id, ref.profile)
                )
            return state

        windows = Windows(config, open_state)
        predictions = PendingPredictions(model, version, store, background)
        multivariate = MultivariateAnalysis(config.multivariate) if config.multivariate else None
        analyser = Analyser(
            store,
            baseline,
            config.sizes,
            now=now,
            issues=issues,
            multivariate=multivariate,
            segments=segments,
        )
        closer = WindowCloser(
            store,
            model,
            version,
            writer,
            windows=windows,
            analyser=analyser,
            predictions=predictions,
            listeners=listeners,
            background=background,
            now=now,
        )
        ingestion = Ingestion(
            baseline,
            windows,
            predictions,
            issues,
            now=now,
            batch_size=config.batch_size,
            on_time=closer.advance,
            segments=segments,
            background=background,
            lock=lock,
        )
        labels = LabelJoin(store, model, version, windows, analyser, now=now)
        return cls(
            issues,
            listeners,
            background,
            baseline,
            windows,
            predictions,
            analyser,
            closer,
            ingestion,
            labels,
            segments,
        )


class _HasParts(Protocol):
    _parts: MonitorParts


class ReadOnly(Generic[T]):
    """A read-only attribute of a facade, read from one of its :class:`MonitorParts`.

    Examples
    --------
    >>> from watchkeeper.monitor.clock import ManualClock
    >>> from watchkeeper.store import MemoryStore
    >>> class Facade:
    ...     watermark = ReadOnly(lambda parts: parts.windows.watermark, "Event time.")
    ...     def __init__(self) -> None:
    ...         self._parts = MonitorParts.build(
    ...             MemoryStore(), "m", "1", "a", MonitorConfig(), ManualClock()
    ...         )
    >>> Facade().watermark
    -inf
    """

    def __init__(self, get: Callable[[MonitorParts], T], doc: str) -> None:
        self._get = get
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: Any = None) -> ReadOnly[T]: ...

    @overload
    def __get__(self, obj: _HasParts, owner: Any = None) -> T: ...

    def __get__(self, obj: _HasParts | None, owner: Any = None) -> T | ReadOnly[T]:
        return self if obj is None else self._get(obj._parts)
