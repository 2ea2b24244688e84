"""A window closing is an event: :class:`ClosedWindow`, and the listeners told of it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ClosedWindow", "Listener", "Listeners", "WindowKind"]

log = logging.getLogger("watchkeeper.monitor")

WindowKind = Literal["base", "correction", "rollup"]


@dataclass(frozen=True)
class ClosedWindow:
    """A window whose state and metric points are in the store.

    Attributes
    ----------
    model, version
        The monitored model version.
    start, seconds
        The window: ``[start, start + seconds)`` in epoch seconds.
    kind
        ``"base"``: a base window closed (once per window and writer);
        ``"correction"``: a closed base window was saved again with late rows and its
        points rewritten; ``"rollup"``: a coarser window was merged from finer ones and
        analysed (again when a correction or late labels change it; on ``flush()`` a
        coarser window still running is merged from what it holds so far).
    writer
        The writer that closed it (rollups are merged from every writer's partials).
    analysed
        Whether its metric points were written; ``False`` when the analysis failed (the
        state is saved, and counted in ``Monitor.analysis_errors``).

    Examples
    --------
    >>> w = ClosedWindow("churn", "1", 120.0, 60.0, "base", "a", True)
    >>> w.end
    180.0
    """

    model: str
    version: str
    start: float
    seconds: float
    kind: WindowKind
    writer: str
    analysed: bool

    @property
    def end(self) -> float:
        """The window's end (exclusive), epoch seconds."""
        return self.start + self.seconds


Listener = Callable[[ClosedWindow], None]


class Listeners:
    """Who is told when a window closes; a listener that raises is logged and counted.

    Examples
    --------
    >>> seen = []
    >>> listeners = Listeners()
    >>> listeners.subscribe(seen.append)
    >>> listeners.publish(ClosedWindow("m", "1", 0.0, 60.0, "base", "a", True))
    >>> [w.end for w in seen], listeners.errors
    ([60.0], 0)
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.errors = 0
        """Listener calls that raised."""

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every :class:`ClosedWindow` from now on."""
        self._listeners.append(listener)

    def publish(self, window: ClosedWindow) -> None:
        """Tell every listener, in subscription order; errors never reach the caller,
        whose rows are already saved."""
        for listener in self._listeners:
            try:
                listener(window)
            except Exception:
                self.errors += 1
                log.exception("watchkeeper: a listener of closed windows failed on %s", window)
