"""The monitor's state, shared by the parts of :class:`~watchkeeper.monitor.Monitor`.

The Monitor is assembled from layers, each in its own module and each using only the
ones below it: :class:`MonitorState` (this module: the attributes and the rejection
log), :class:`~watchkeeper.monitor._lifecycle.WindowLifecycle` (opening, closing,
correcting and rolling up windows), :class:`~watchkeeper.monitor._ingest.Ingestion`
(buffering and folding rows into windows), :class:`~watchkeeper.monitor._results.Results`
(the label join and metric queries), and the public class itself.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any, Literal

from watchkeeper.errors import WatchkeeperError
from watchkeeper.monitor.analysis import ReferenceContext, Task
from watchkeeper.monitor.clock import Clock
from watchkeeper.monitor.window import WindowState
from watchkeeper.schema import Schema
from watchkeeper.stats import DriftConfig
from watchkeeper.store import Prediction, Store

__all__ = ["RECENT_ISSUES", "MonitorState", "log"]

log = logging.getLogger("watchkeeper.monitor")

RECENT_ISSUES = 100
"""Data-quality issues and rejected calls kept in ``recent_issues``."""


class MonitorState:
    """The attributes every layer of the Monitor reads (set in ``Monitor.__init__``)."""

    model: str
    version: str
    window_seconds: float
    grace_seconds: float
    rollup_seconds: list[float]
    retention_seconds: float
    window_retention_seconds: float
    batch_size: int
    clock: Clock
    writer: str
    store: Store
    drift_config: DriftConfig
    column_methods: dict[str, str]
    schema: Schema | None
    task: Task
    rejected_calls: int
    late_dropped: int
    analysis_errors: int
    recent_issues: collections.deque[dict[str, Any]]
    _output_names: tuple[str, ...]
    _task_kind: Literal["classification", "regression"] | None
    _positive: str | None
    _lock: threading.RLock
    _rows: list[tuple[Any, ...]]
    _open: dict[float, WindowState]
    _late: dict[float, WindowState]
    _pending: list[Prediction]
    _watermark: float
    _last_purge: float
    _first_start: float | None
    last_closed: float | None
    _rolled: dict[float, float]
    _references: dict[int, ReferenceContext]
    _reference: ReferenceContext | None
    _layout: dict[str, Any] | None

    def _reject(self, where: str, exc: Exception) -> None:
        with self._lock:
            self.rejected_calls += 1
            self.recent_issues.append(
                {
                    "time": self.clock.now(),
                    "call": where,
                    "column": getattr(exc, "field", None),
                    "problem": type(exc).__name__,
                    "reason": str(exc),
                }
            )
        if not isinstance(exc, WatchkeeperError):
            log.exception("watchkeeper: %s failed; the data was not recorded", where)
