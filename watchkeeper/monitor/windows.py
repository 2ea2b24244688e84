"""Windows over event time: which are open, which closed, which are late, which roll up.

:class:`Windows` holds the open and late window states and the watermark and makes
every decision of the window arithmetic; it never touches the store or the analysis.
The caller folds rows into :meth:`Windows.state_for`, saves what :meth:`Windows.advance`
and :meth:`Windows.take_late` hand back, and reports it saved with
:meth:`Windows.saved`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.window import WindowState

__all__ = ["RollupSpan", "Windows"]


@dataclass(frozen=True)
class RollupSpan:
    """Coarser windows of ``seconds`` to build from the ``source``-second windows whose
    starts are in ``[since, until)``."""

    seconds: float
    source: float
    since: float
    until: float


class Windows:
    """The open and late states of one writer's base windows, and the watermark.

    Parameters
    ----------
    config
        Window size, grace, rollups and retention.
    open_state
        Called with a window start when a window is first needed (open or late): the
        state to fold rows into, e.g. this writer's stored state of that window so a
        restart continues from what was saved, or a new one.

    Notes
    -----
    A window ``[s, s + window)`` is open until the watermark (the newest event time, or
    the clock through ``tick()``) reaches ``s + window + grace``. Rows for a closed window
    open a *late* state, saved as a correction at the end of the call; rows for a window
    whose state is past ``window_retention`` are too late to count.

    Examples
    --------
    >>> from watchkeeper.profile import DatasetProfile
    >>> from watchkeeper.schema import Schema
    >>> config = MonitorConfig(window_seconds=60.0, grace_seconds=5.0, rollup_seconds=())
    >>> windows = Windows(config, lambda start: WindowState(DatasetProfile(Schema(()))))
    >>> windows.state_for(0.0, seq=1) is not None
    True
    >>> windows.unsaved_seq
    1
    >>> [start for start, _ in windows.advance(70.0)]
    [0.0]
    >>> windows.saved(0.0)
    >>> windows.unsaved_seq is None, windows.last_closed
    (True, 0.0)
    """

    def __init__(self, config: MonitorConfig, open_state: Callable[[float], WindowState]) -> None:
        self.config = config
        self._open_state = open_state
        self._open: dict[float, WindowState] = {}
        self._late: dict[float, WindowState] = {}
        self._unsaved: dict[float, int] = {}
        self._watermark = -math.inf
        self._last_purge = -math.inf
        self._first_start: float | None = None
        self._rolled: dict[float, float] = {}
        self.last_closed: float | None = None
        """Start of the newest base window saved (closed or corrected), if any."""

    @property
    def watermark(self) -> float:
        """Event time so far: windows ending ``grace`` before it are closed."""
        return self._watermark

    @property
    def unsaved_seq(self) -> int | None:
        """The lowest ``seq`` folded into a state not saved since; ``None``: none."""
        return min(self._unsaved.values(), default=None)

    def start_of(self, ts: float, seconds: float | None = None) -> float:
        """Start of the window of ``seconds`` (default: the base window) holding ``ts``."""
        size = seconds or self.config.window_seconds
        return math.floor(ts / size) * size

    def is_open(self, start: float) -> bool:
        """Whether the base window at ``start`` is open (not closed yet)."""
        return start in self._open

    def too_late(self, start: float) -> bool:
        """Whether rows for the window at ``start`` come after its state was purged
        (``window_retention``): they cannot correct it."""
        cfg = self.config
        return start + cfg.window_seconds <= self._watermark - cfg.window_retention_seconds

    def state_for(self, start: float, seq: int | None = None) -> WindowState | None:
        """The state to fold rows for the window at ``start`` into (open, or late when
        the window has closed); ``None`` when ``seq`` was already folded into it (a
        replayed write-ahead-log record). Call :meth:`too_late` first."""
        cfg = self.config
        state = self._open.get(start)
        if state is None and start + cfg.window_seconds + cfg.grace_seconds > self._watermark:
            state = self._open[start] = self._open_state(start)
            if self._first_start is None or start < self._first_start:
                self._first_start = start
        elif state is None:
            state = self._late.get(start)
            if state is None:
                state = self._late[start] = self._open_state(start)
        if seq is not None:
            if seq <= state.max_seq:
                return None
            state.max_seq = seq
            self._unsaved[start] = min(self._unsaved.get(start, seq), seq)
        return state

    def advance(self, ts: float) -> list[tuple[float, WindowState]]:
        """Move the watermark to ``ts`` (never back); the windows it closes, oldest first,
        removed from the open ones."""
        if ts > self._watermark:
            self._watermark = ts
        end = self._watermark - self.config.window_seconds - self.config.grace_seconds
        return [(s, self._open.pop(s)) for s in sorted(s for s in self._open if s <= end)]

    def close_all(self) -> list[tuple[float, WindowState]]:
        """Every open window, oldest first, removed (end of a run)."""
        return [(s, self._open.pop(s)) for s in sorted(self._open)]

    def take_late(self) -> list[tuple[float, WindowState]]:
        """The corrected states of closed windows, oldest first, removed."""
        late, self._late = self._late, {}
        return sorted(late.items())

    def keep_unsaved(self, states: list[tuple[float, WindowState]]) -> None:
        """Take back states handed out by :meth:`advance`, :meth:`close_all` or
        :meth:`take_late` whose save failed (a full disk): later rows fold into them and
        they are saved again (late ones with the next corrections), so the state saved
        for a window always holds every ``seq`` up to its ``max_seq``; their seqs stay in
        :attr:`unsaved_seq` until then."""
        end = self._watermark - self.config.window_seconds - self.config.grace_seconds
        for start, state in states:
            (self._late if start <= end else self._open)[start] = state

    def saved(self, start: float) -> None:
        """The state of the window at ``start`` (closed or corrected) is in the store."""
        self._unsaved.pop(start, None)
        if self.last_closed is None or start > self.last_closed:
            self.last_closed = start

    def purge_due(self) -> bool:
        """Whether old predictions and window states should be purged now (hourly, or
        every ``window_retention`` when shorter)."""
        every = min(3600.0, self.config.window_retention_seconds)
        if self._watermark - self._last_purge < every:
            return False
        self._last_purge = self._watermark
        return True

    def rollup_spans(self, *, final: bool) -> list[RollupSpan]:
        """The coarser windows ended since the last call (with ``final``, also the ones
        still running, which are not marked done)."""
        if self._first_start is None:
            return []
        out = []
        source = self.config.window_seconds
        for seconds in self.config.rollup_seconds:
            first = self._rolled.setdefault(seconds, self.start_of(self._first_start, seconds))
            horizon = self.start_of(self._watermark - self.config.grace_seconds, seconds)
            until = math.inf if final else horizon
            if until > first:
                out.append(RollupSpan(seconds, source, first, min(until, 1e18)))
            if not final and horizon > first:
                self._rolled[seconds] = horizon
            source = seconds
        return out

    def ended_rollups(self, start: float) -> list[tuple[float, float]]:
        """``(start, seconds)`` of the ended coarser windows holding the base window at
        ``start``, finest first (to rebuild after a correction)."""
        out = []
        for seconds in self.config.rollup_seconds:
            rstart = self.start_of(start, seconds)
            if rstart + seconds + self.config.grace_seconds <= self._watermark:
                out.append((rstart, seconds))
        return out
