"""The in-process monitor: windows, aggregation, the label join and the analysis.

``Monitor`` is the entry point, a facade composed of plain parts; ``MonitorConfig`` its
validated options; ``ClosedWindow`` the event it publishes to ``Monitor.subscribe``
listeners whenever a window's state and points are in the store. ``init()`` makes a
process-wide default instance whose windows are flushed at interpreter exit.
"""

from __future__ import annotations

import atexit
from typing import Any

from watchkeeper.monitor.analysis import ReferenceContext, Task
from watchkeeper.monitor.clock import Clock, ManualClock, SystemClock
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.events import ClosedWindow
from watchkeeper.monitor.monitor import LabelReport, Monitor
from watchkeeper.monitor.window import WindowState, merged_state

__all__ = [
    "Clock",
    "ClosedWindow",
    "LabelReport",
    "ManualClock",
    "Monitor",
    "MonitorConfig",
    "ReferenceContext",
    "SystemClock",
    "Task",
    "WindowState",
    "get_monitor",
    "init",
    "merged_state",
]

_default: Monitor | None = None


def init(model: str, version: str = "1", **options: Any) -> Monitor:
    """Create the process-wide default monitor (closing any previous one); it is flushed
    and closed at interpreter exit."""
    global _default
    if _default is not None:
        _default.close()
    _default = Monitor(model, version, **options)
    return _default


def get_monitor() -> Monitor | None:
    """The default monitor made by :func:`init`, if any."""
    return _default


@atexit.register
def _flush_default() -> None:
    if _default is not None:
        _default.close()
