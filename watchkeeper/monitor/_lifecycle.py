"""Windows over time: open, close at the watermark, correct when late, roll up."""

from __future__ import annotations

import math

from watchkeeper.monitor._state import MonitorState, log
from watchkeeper.monitor.analysis import ReferenceContext, analyse_window, performance_points
from watchkeeper.monitor.window import WindowState, merge_states
from watchkeeper.profile import DatasetProfile
from watchkeeper.stats import DriftDetector
from watchkeeper.store import WindowKey

__all__ = ["ROLLUP_WRITER", "WindowLifecycle"]

ROLLUP_WRITER = "*merged*"
"""Writer name of coarser windows (merged from every writer's finer windows)."""


class WindowLifecycle(MonitorState):
    """Opening, closing, correcting and rolling up windows; analysing closed ones."""

    def _new_state(self) -> WindowState:
        assert self.schema is not None
        ref_id = self._reference.id if self._reference else None
        return WindowState(DatasetProfile(self.schema, layout=self._layout), ref_id)

    def _state_for(self, start: float) -> WindowState:
        state = self._open.get(start)
        if state is not None:
            return state
        if start + self.window_seconds + self.grace_seconds > self._watermark:
            state = self._open[start] = self._resume(start)
            if self._first_start is None or start < self._first_start:
                self._first_start = start
            return state
        late = self._late.get(start)
        if late is None:
            late = self._late[start] = self._resume(start)
        return late

    def _resume(self, start: float) -> WindowState:
        """This writer's stored state of a window, or a new one: a window closed before a
        restart (or a replay) continues from what was saved, never from zero."""
        mine = self.store.window_partials(self._key(start)).get(self.writer)
        return self._new_state() if mine is None else WindowState.from_bytes(mine)

    def _too_late(self, start: float, n: int) -> bool:
        """Rows for a window whose state is past ``window_retention`` cannot correct it
        (its partial is gone): they are dropped, counted and reported."""
        if start + self.window_seconds > self._watermark - self.window_retention_seconds:
            return False
        self.late_dropped += n
        self.recent_issues.append(
            {
                "time": start,
                "call": "log",
                "column": None,
                "problem": "too_late",
                "reason": f"{n} rows for the window at {start:.0f} s, older than "
                f"window_retention ({self.window_retention_seconds:g} s); dropped",
            }
        )
        return True

    def _advance(self, ts: float) -> None:
        if ts > self._watermark:
            self._watermark = ts
        due = [
            s for s in self._open if s + self.window_seconds + self.grace_seconds <= self._watermark
        ]
        for start in sorted(due):
            self._close_window(start, self._open.pop(start))
        if self._late:
            self._flush_late()

    def _key(self, start: float, seconds: float | None = None) -> WindowKey:
        return WindowKey(self.model, self.version, start, seconds or self.window_seconds)

    def _save_pending(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            self.store.save_predictions(pending)

    def _close_window(self, start: float, state: WindowState) -> None:
        key = self._key(start)
        now = self.clock.now()
        self.store.save_window(key, self.writer, state.to_bytes(), now=now)
        self._save_pending()
        self._analyse(key)
        if self.last_closed is None or start > self.last_closed:
            self.last_closed = start
        self._rollups(final=False)
        if self._watermark - self._last_purge >= min(3600.0, self.window_retention_seconds):
            self._last_purge = self._watermark
            self.store.purge_predictions(self.model, self._watermark - self.retention_seconds)
            self.store.purge_windows(
                self.model, self.window_seconds, self._watermark - self.window_retention_seconds
            )

    def _flush_late(self) -> None:
        late, self._late = self._late, {}
        for start, corrected in sorted(late.items()):  # resumed from the stored state
            key = self._key(start)
            self.store.save_window(key, self.writer, corrected.to_bytes(), now=self.clock.now())
            self._save_pending()
            self._analyse(key)
            if self.last_closed is None or start > self.last_closed:
                self.last_closed = start
            for seconds in self.rollup_seconds:
                rstart = math.floor(start / seconds) * seconds
                if rstart + seconds + self.grace_seconds <= self._watermark:
                    self._build_rollup(self._key(rstart, seconds))

    def _merged(self, key: WindowKey) -> WindowState | None:
        states = [WindowState.from_bytes(b) for b in self.store.window_partials(key).values()]
        return merge_states(states)

    def _analyse(self, key: WindowKey) -> None:
        """Analyse a stored window; a failure is logged and counted, never raised: the
        window's state is already saved, and the next correction or rollup retries."""
        try:
            self._analyse_now(key)
        except Exception:
            self.analysis_errors += 1
            log.exception("watchkeeper: analysis of %s failed; its state is kept", key)

    def _analyse_now(self, key: WindowKey) -> None:
        state = self._merged(key)
        if state is None:
            return
        reference = self._reference_by_id(state.reference_id)
        points = analyse_window(state, key, reference, self.task)
        labelled = self.store.labelled(self.model, self.version, key.start, key.end)
        points += performance_points(key, labelled, state.requests, self.task)
        self.store.write_points(points, now=self.clock.now())

    def _rollups(self, *, final: bool) -> None:
        """Build the coarser windows that have ended since the last call (with ``final``,
        also the ones still running, from what they hold so far)."""
        if self._first_start is None:
            return
        source = self.window_seconds
        for seconds in self.rollup_seconds:
            first = self._rolled.setdefault(
                seconds, math.floor(self._first_start / seconds) * seconds
            )
            horizon = math.floor((self._watermark - self.grace_seconds) / seconds) * seconds
            until = math.inf if final else horizon
            if until > first:
                starts = self.store.window_starts(
                    self.model, self.version, source, first, min(until, 1e18)
                )
                for rstart in sorted({math.floor(s / seconds) * seconds for s in starts}):
                    self._build_rollup(self._key(rstart, seconds), source)
            if not final and horizon > first:
                self._rolled[seconds] = horizon
            source = seconds

    def _build_rollup(self, key: WindowKey, source: float | None = None) -> None:
        finer = [self.window_seconds, *self.rollup_seconds]
        if source is None:
            source = max(s for s in finer if s < key.seconds and key.seconds % s == 0)
        starts = self.store.window_starts(self.model, self.version, source, key.start, key.end)
        merged = merge_states(
            s for start in starts if (s := self._merged(self._key(start, source))) is not None
        )
        if merged is None:
            return
        self.store.save_window(key, ROLLUP_WRITER, merged.to_bytes(), now=self.clock.now())
        self._analyse(key)

    def _reference_by_id(self, ref_id: int | None) -> ReferenceContext | None:
        if ref_id is None:
            return self._reference
        ctx = self._references.get(ref_id)
        if ctx is None:
            ref_profile = DatasetProfile.from_bytes(self.store.reference(ref_id))
            detector = DriftDetector(self.drift_config, column_methods=self.column_methods)
            ctx = ReferenceContext(ref_id, ref_profile, detector.fit(ref_profile))
            self._references[ref_id] = ctx
        return ctx
