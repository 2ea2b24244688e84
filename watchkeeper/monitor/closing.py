"""Closing windows: save this writer's state, then (off the caller's thread) analyse, roll
up, purge and tell the listeners."""

from __future__ import annotations

import functools
from collections.abc import Callable

from watchkeeper.monitor.analyser import Analyser
from watchkeeper.monitor.background import Background
from watchkeeper.monitor.events import ClosedWindow, Listeners, WindowKind
from watchkeeper.monitor.predictions import PendingPredictions
from watchkeeper.monitor.window import WindowState
from watchkeeper.monitor.windows import RollupSpan, Windows
from watchkeeper.store import Store, WindowKey

__all__ = ["WindowCloser"]


class WindowCloser:
    """Carries out what :class:`~watchkeeper.monitor.windows.Windows` decides.

    For each window that closes, oldest first: its state is saved as this writer's
    partial (on the caller's thread: cheap, and a late row must find it) and the kept
    predictions are handed off to be saved; then, in the background and in this order,
    the merged window is analysed and a :class:`ClosedWindow` published, the coarser
    windows that ended are built (each published as a ``"rollup"``), old states are
    purged, and late rows saved as corrections are analysed (each a ``"correction"``,
    followed by the ended coarser windows that hold it).

    Parameters
    ----------
    store, model, version, writer
        Where, for what and as whom states are saved.
    windows, analyser, predictions, listeners
        The parts it coordinates.
    background
        Where analyses, rollups and purges run, in order (``background.wait()`` returns
        once every window closed so far is analysed and published).
    now
        The clock, stamping what is saved.
    """

    def __init__(
        self,
        store: Store,
        model: str,
        version: str,
        writer: str,
        *,
        windows: Windows,
        analyser: Analyser,
        predictions: PendingPredictions,
        listeners: Listeners,
        background: Background,
        now: Callable[[], float],
    ) -> None:
        self.store = store
        self.model = model
        self.version = version
        self.writer = writer
        self.windows = windows
        self.analyser = analyser
        self.predictions = predictions
        self.listeners = listeners
        self.background = background
        self.now = now

    def advance(self, ts: float) -> None:
        """Let event time reach ``ts``: close the windows due, then save corrections (the
        analyses, rollups and purges are queued on the background)."""
        closing = self.windows.advance(ts)
        self._close(closing)
        if closing:
            self._rollups(final=False)
            self._purge()
        self.corrections()

    def flush(self) -> None:
        """Close every open window, save corrections, build every coarser window from
        what it holds so far and hand off the kept predictions (``background.wait()``
        then finds it all done)."""
        closing = self.windows.close_all()
        self._close(closing)
        if closing:
            self._rollups(final=False)
            self._purge()
        self.corrections()
        self._rollups(final=True)
        self.predictions.hand_off()

    def corrections(self) -> None:
        """Save the late rows of closed windows; their analyses and the rebuilding of the
        coarser windows that had already ended are queued on the background."""
        late = self.windows.take_late()
        for i, (start, _) in enumerate(late):
            self._save_or_keep(late, i, "correction")
            for rstart, seconds in self.windows.ended_rollups(start):
                key = WindowKey(self.model, self.version, rstart, seconds)
                self.background.submit(functools.partial(self._rebuild, key))

    def _close(self, closing: list[tuple[float, WindowState]]) -> None:
        for i in range(len(closing)):
            self._save_or_keep(closing, i, "base")

    def _save_or_keep(
        self, states: list[tuple[float, WindowState]], i: int, kind: WindowKind
    ) -> None:
        """Save ``states[i]``; when that fails (a full disk), hand it and the ones after it
        back to the windows, to be saved again with the rows still to come, and raise.
        Dropping them instead would let the window's next state, reopened from an older
        save, claim their seqs (``max_seq``) without their rows: a replay would skip them."""
        start, state = states[i]
        try:
            self._save(start, state, kind)
        except Exception:
            self.windows.keep_unsaved(states[i:])
            raise

    def _save(self, start: float, state: WindowState, kind: WindowKind) -> None:
        key = WindowKey(self.model, self.version, start, self.windows.config.window_seconds)
        self.store.save_window(key, self.writer, state.to_bytes(), now=self.now())
        self.predictions.hand_off()
        self.windows.saved(start)
        self.background.submit(lambda: self._publish(key, kind, self.analyser.analyse(key)))

    def _rebuild(self, key: WindowKey) -> None:
        analysed = self.analyser.rollup(key)
        if analysed is not None:
            self._publish(key, "rollup", analysed)

    def _rollups(self, *, final: bool) -> None:
        spans = self.windows.rollup_spans(final=final)
        if spans:
            self.background.submit(lambda: self._build(spans))

    def _build(self, spans: list[RollupSpan]) -> None:
        for key, analysed in self.analyser.rollups(self.model, self.version, spans):
            self._publish(key, "rollup", analysed)

    def _publish(self, key: WindowKey, kind: WindowKind, analysed: bool) -> None:
        window = ClosedWindow(
            self.model, self.version, key.start, key.seconds, kind, self.writer, analysed
        )
        self.listeners.publish(window)

    def _purge(self) -> None:
        if not self.windows.purge_due():
            return
        cfg, watermark = self.windows.config, self.windows.watermark

        def purge() -> None:
            self.store.purge_predictions(self.model, watermark - cfg.retention_seconds)
            self.store.purge_windows(
                self.model, cfg.window_seconds, watermark - cfg.window_retention_seconds
            )

        self.background.submit(purge)
