"""The application service of ``watchkeeper serve``: one Monitor per configured model,
fed through the write-ahead log, with alert rules, silences, notifiers and actions.

Writes go through :class:`~watchkeeper.service.ingest.Ingest`: checked, logged in the
write-ahead log, applied on the model's apply thread in sequence order
(``Monitor.log(..., seq=seq)``) and only then acknowledged. At start the log is
replayed: rows already folded into stored windows are skipped by their sequence number,
so every acknowledged row counts exactly once. A record's idempotency key is remembered,
so a retried batch is acknowledged again without being counted twice.

The HTTP routes (:mod:`watchkeeper.server`), the CLI, the demo and the tests all drive
this class; it imports no web framework.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from watchkeeper.alerts.actions import ActionRunner
from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.history import amend_alert
from watchkeeper.alerts.notifiers import Dispatcher, build_notifier
from watchkeeper.alerts.silences import Silences
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ClosedWindow, Monitor
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.service.allocator import tune_allocator
from watchkeeper.service.config import VERSION_FORM, ServerConfig, is_version_name
from watchkeeper.service.ingest import Ack, Ingest
from watchkeeper.service.monitors import open_monitor, promoted_monitor
from watchkeeper.service.wal import WriteAheadLog
from watchkeeper.store import SilenceRecord, Store, open_store

__all__ = ["Ack", "Service"]

log = logging.getLogger("watchkeeper.server")
MAX_CATCH_UP = 50
"""Windows of one model closed since the last tick that alert rules are evaluated on, at
most (the newest ones)."""


class Service:
    """Monitors, store and write-ahead log of a ``watchkeeper serve`` process.

    Parameters
    ----------
    config
        The validated collector configuration.
    clock
        Wall-clock time (the demo passes an accelerated one, tests a manual one).

    Notes
    -----
    Building one sets how ``malloc`` holds memory (see
    :mod:`watchkeeper.service.allocator`), opens the store, builds every model's
    monitor, replays the log and starts a thread that calls :meth:`tick` every
    ``config.tick_seconds``; :meth:`close` stops it and flushes everything.
    """

    def __init__(self, config: ServerConfig, *, clock: Clock | None = None) -> None:
        tune_allocator(config.allocator)  # before this service starts any thread
        self.config = config
        self.clock = clock or SystemClock()
        self.store: Store = open_store(config.store)
        self.monitors: dict[str, Monitor] = {
            name: open_monitor(name, mc, store=self.store, clock=self.clock, writer=config.writer)
            for name, mc in config.models.items()
        }
        self.dispatcher = self._dispatcher(config.notifiers)
        self.silences = Silences(self.store, clock=self.clock.now)  # survive restarts
        self.alerts = AlertEngine(config.rules, self.store, notify=self._notify)
        self.actions = ActionRunner(
            config.actions, self.store, promote=self.promote, clock=self.clock.now
        )
        self._closed: collections.deque[ClosedWindow] = collections.deque()
        self._evaluated: dict[str, float] = {}
        self.ready = False
        self.wal = WriteAheadLog(config.wal_dir, apply=None, fsync=config.fsync)
        self.ingest = Ingest(config, self.monitors, self.monitor, self.clock, self.wal)
        self.counts = self.ingest.counts
        self.appliers = self.ingest.appliers
        self.replayed = self.ingest.replay()
        for monitor in self.monitors.values():
            self._watch(monitor)
        self._stop = threading.Event()
        self._ticker = threading.Thread(
            target=self._tick_loop, name="watchkeeper-tick", daemon=True
        )
        self._ticker.start()
        self.ready = True

    def _watch(self, monitor: Monitor) -> None:
        """Hear of the monitor's closed windows from now on. Windows closed while the log
        was replayed were judged before the restart; the newest is judged again, once."""
        if monitor.last_closed is not None:
            self._closed.append(
                ClosedWindow(
                    monitor.model,
                    monitor.version,
                    monitor.last_closed,
                    monitor.window_seconds,
                    "base",
                    self.config.writer,
                    True,
                )
            )
        monitor.subscribe(self._closed.append)  # cheap: the tick thread evaluates

    def _dispatcher(self, specs: tuple[dict[str, Any], ...]) -> Dispatcher | None:
        notifiers = [build_notifier(spec, f"notifiers[{i}]") for i, spec in enumerate(specs)]
        return Dispatcher(notifiers, self.store) if notifiers else None

    # -- writes ---------------------------------------------------------------------------

    def monitor(self, model: str) -> Monitor:
        """The model's monitor; raises ConfigError (``field="model"``) if not configured."""
        try:
            return self.monitors[model]
        except KeyError:
            raise ConfigError(
                f"model {model!r}: not configured; expected one of: {', '.join(self.monitors)}",
                field="model",
                value=model,
                expected=", ".join(self.monitors),
            ) from None

    def write_predictions(self, model: str, body: bytes, content_type: str, key: str | None) -> Ack:
        """Check, log durably, apply, answer; raises ConfigError (unknown model) or
        InvalidBatchError (unreadable body, too many rows or columns) before anything is
        written, :class:`~watchkeeper.service.unavailable.Unavailable` (503 or 429) when
        it cannot be written now."""
        return self.ingest.wait(self.ingest.submit_predictions(model, body, content_type, key))

    def write_labels(self, model: str, body: bytes, key: str | None) -> Ack:
        """Ground truth for earlier predictions (a JSON body), logged then applied."""
        return self.ingest.wait(self.ingest.submit_labels(model, body, key))

    def write_signals(self, model: str, body: bytes, key: str | None) -> Ack:
        """Custom metrics and events (a JSON body), logged then applied."""
        return self.ingest.wait(self.ingest.submit_signals(model, body, key))

    # -- time -----------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_seconds):
            try:
                self.tick()
            except Exception:  # a full disk or a lost database: tick again later
                log.exception("watchkeeper: tick failed")

    def tick(self) -> None:
        """Close windows by the clock, evaluate alert rules on the windows closed since
        the last tick, then drop log segments already in the store."""
        for monitor in list(self.monitors.values()):
            monitor.tick()
        self._evaluate_rules()
        self._truncate_log()

    def _evaluate_rules(self) -> None:
        """Evaluate the alert rules once per base window newly closed since the last call,
        in order (several close at once when traffic outpaces the tick, and ``for``
        durations count each one); at most the newest :data:`MAX_CATCH_UP` per model.

        A window first closed as a correction (its rows came after the watermark had
        passed it, as in a replay of old data) counts as newly closed too; a correction
        of a window already judged is not judged again, so rules see time move forward.
        """
        closed: dict[str, set[tuple[str, float, float]]] = {}
        while self._closed:
            w = self._closed.popleft()
            if w.kind != "rollup" and w.start > self._evaluated.get(w.model, -math.inf):
                closed.setdefault(w.model, set()).add((w.version, w.start, w.seconds))
        for name, windows in closed.items():
            for version, start, seconds in sorted(windows, key=lambda w: w[1])[-MAX_CATCH_UP:]:
                self._evaluated[name] = start
                try:
                    self.alerts.evaluate(name, version, seconds, now=start + seconds)
                except Exception:  # rules must not stop ingestion; the log says why
                    log.exception("watchkeeper: evaluating alert rules for %s failed", name)

    def _truncate_log(self) -> None:
        """Delete the log segments whose every record is applied and saved in the store
        (each monitor says which of its records are not, :attr:`Monitor.unsaved_seq`)."""
        safe_before = self.wal.applied_next
        oldest = self.appliers.oldest_pending()
        if oldest is not None:
            safe_before = min(safe_before, oldest)
        for monitor in list(self.monitors.values()):
            unsaved = monitor.unsaved_seq
            if unsaved is not None:
                safe_before = min(safe_before, unsaved)
        self.wal.truncate_before(safe_before)

    # -- alerts ---------------------------------------------------------------------------

    def silence(
        self, matchers: dict[str, str], ends_at: float, comment: str = "", created_by: str = ""
    ) -> SilenceRecord:
        """Stop notifications of alerts whose labels match until ``ends_at`` (kept in the
        store, so it survives a restart)."""
        return self.silences.add(matchers, ends_at, comment=comment, created_by=created_by)

    def silenced_by(self, labels: dict[str, str], at: float) -> SilenceRecord | None:
        """The silence holding back an alert with these labels at ``at``, if any."""
        return self.silences.matching(labels, at)

    def reload(self, config: ServerConfig) -> dict[str, Any]:
        """Take new rules, notifiers and actions without a restart (models, store and
        limits need one). Alerts of rules that are kept keep their state."""
        old_dispatcher = self.dispatcher
        self.dispatcher = self._dispatcher(config.notifiers)
        if old_dispatcher is not None:
            old_dispatcher.join(10)
            old_dispatcher.close()
        self.actions.actions = dict(config.actions)
        self.alerts.replace_rules(config.rules)
        self.config = dataclasses.replace(
            self.config, rules=config.rules, notifiers=config.notifiers, actions=config.actions
        )
        return {
            "rules": [r.name for r in config.rules],
            "notifiers": len(config.notifiers),
            "actions": sorted(config.actions),
        }

    def promote(self, model: str, version: str, reference: str | None = None) -> Monitor:
        """Make ``version`` the monitored version of ``model`` (its reference from the
        given data file, else the current version's); the old version's windows are
        flushed first. Returns the new monitor."""
        old = self.monitor(model)  # unknown model: ConfigError
        new = promoted_monitor(
            model,
            self.config.models[model],
            old,
            version,
            reference,
            store=self.store,
            clock=self.clock,
            writer=self.config.writer,
        )
        self.monitors[model] = new
        self._watch(new)
        log.warning("watchkeeper: %s now monitors version %s", model, version)
        return new

    def register_version(self, model: str, version: str, table: pd.DataFrame | None) -> Monitor:
        """Monitor ``version`` of ``model`` from now on (after a retraining), its reference
        the given table, kept as ``references/<model>-<version>.parquet`` beside the log
        directory (``None`` keeps the current reference). Returns the new monitor."""
        self.monitor(model)  # unknown model: ConfigError before anything is written
        if not is_version_name(version):  # it names a file: no path, not too long
            raise ConfigError(
                f"version: {version[:40]!r}{'...' if len(version) > 40 else ''} is not a "
                f"version name; expected {VERSION_FORM}",
                field="version",
                value=version[:40],
                expected=VERSION_FORM,
            )
        reference = None
        if table is not None:
            directory = Path(self.config.wal_dir).parent / "references"
            directory.mkdir(parents=True, exist_ok=True)
            reference = str(directory / f"{model}-{version}.parquet")
            table.to_parquet(reference)
        return self.promote(model, version, reference)

    def _notify(self, event: AlertEvent) -> None:
        labels = {"alertname": event.rule.name, "model": event.model, **event.labels}
        silence = self.silenced_by(labels, self.clock.now())
        if silence is not None:  # recorded, but no notification and no retraining
            amend_alert(
                self.store,
                event.model,
                event.alert_id,
                lambda ev: {**ev, "silenced_by": silence.id},
            )
            return
        self.actions(event)
        if self.dispatcher is not None:
            self.dispatcher(event)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop ticking, finish the log, flush every monitor, release the store.

        A monitor that cannot be flushed (a full disk) is logged and left: its rows are
        in the write-ahead log, which is never truncated here, so the next start replays
        them.
        """
        self._stop.set()
        self._ticker.join()
        self.wal.close()
        self.appliers.close()
        for name, monitor in self.monitors.items():
            try:
                monitor.flush()
            except Exception:
                log.exception("watchkeeper: flushing %s failed; the log keeps its rows", name)
        if self.dispatcher is not None:
            self.dispatcher.join(10)
            self.dispatcher.close()
        try:
            self.store.close()
        except Exception:
            log.exception("watchkeeper: closing the store failed")

    @property
    def accepting(self) -> bool:
        """Started, and the log takes writes (not while its disk is full)."""
        return self.ready and self.wal.healthy

    def status(self) -> dict[str, Any]:
        """What ``/readyz`` reports: ready (not while the disk is full), records
        replayed, next seq, models, bytes waiting to be applied."""
        failing = self.wal.failing
        return {
            "ready": self.accepting,
            "replayed": self.replayed,
            "wal_next_seq": self.wal.next_seq,
            "wal_error": None if failing is None else str(failing),
            "queued_bytes": self.appliers.queued_bytes(),
            "models": sorted(self.monitors),
        }
