"""The application service of ``watchkeeper serve``: one Monitor per configured model,
fed through the write-ahead log, with alert rules, silences, notifiers and actions.

A write is decoded and checked first (a bad body raises and is never logged), then
appended to the write-ahead log; the log's writer thread applies each record in
sequence order (``Monitor.log(..., seq=seq)``) and only then is the write
acknowledged. At start the log is replayed: rows already folded into stored windows are
skipped by their sequence number, so every acknowledged row counts exactly once. A
record's idempotency key is remembered, so a retried batch is acknowledged again
without being counted twice.

The HTTP routes (:mod:`watchkeeper.server`), the CLI, the demo and the tests all drive
this class; it imports no web framework.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from watchkeeper import wire
from watchkeeper.alerts.actions import ActionRunner
from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.history import amend_alert
from watchkeeper.alerts.notifiers import Dispatcher, build_notifier
from watchkeeper.alerts.silences import Silences
from watchkeeper.errors import ConfigError, InvalidBatchError
from watchkeeper.monitor import ClosedWindow, Monitor
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.service.appliers import BUSY_RETRY_SECONDS, Appliers, Pending
from watchkeeper.service.config import ServerConfig
from watchkeeper.service.event_time import Bounds, Rejected, keep_rows, keep_signals
from watchkeeper.service.monitors import open_monitor, promoted_monitor
from watchkeeper.service.records import RecordHeader, decode_record, encode_record
from watchkeeper.service.unavailable import Unavailable
from watchkeeper.service.wal import WriteAheadLog
from watchkeeper.store import SilenceRecord, Store, open_store

__all__ = ["Ack", "Service"]


def _frozen(tags: dict[str, str] | None) -> frozenset[tuple[str, str]]:
    return frozenset((tags or {}).items())


log = logging.getLogger("watchkeeper.server")
IDEMPOTENCY_KEYS = 100_000
"""Idempotency keys remembered (the newest ones; older retries count again)."""
NONE = Rejected()
MAX_CATCH_UP = 50
"""Windows of one model closed since the last tick that alert rules are evaluated on, at
most (the newest ones)."""


@dataclass(frozen=True)
class Ack:
    """The answer to an accepted write.

    ``rows`` is what was taken (rows, label ids or signal entries), ``rejected`` what
    was dropped for its event time, ``clamped`` what was stamped at the future bound,
    ``late_dropped`` the rows the monitor dropped as too late for any window,
    ``unknown_ids`` the labels whose id no kept prediction has.
    """

    seq: int
    rows: int
    duplicate: bool = False
    rejected: Rejected = NONE
    late_dropped: int = 0
    unknown_ids: int = 0
    clamped: Rejected = NONE


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
    Building one opens the store, builds every model's monitor, replays the log and
    starts a thread that calls :meth:`tick` every ``config.tick_seconds``;
    :meth:`close` stops it and flushes everything.
    """

    def __init__(self, config: ServerConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store: Store = open_store(config.store)
        self.monitors: dict[str, Monitor] = {
            name: open_monitor(name, mc, store=self.store, clock=self.clock, writer=config.writer)
            for name, mc in config.models.items()
        }
        self.counts: dict[tuple[str, ...], float] = collections.defaultdict(float)
        """Running totals by ``(kind, model)`` or ``(kind, model, reason)``: predictions,
        labels, signals, rejected_rows, rejected_signals (by reason), clamped_predictions,
        clamped_signals, late_dropped_rows, unknown_label_ids (exported as Prometheus
        counters)."""
        self.dispatcher = self._dispatcher(config.notifiers)
        self.silences = Silences(self.store, clock=self.clock.now)  # survive restarts
        self.alerts = AlertEngine(config.rules, self.store, notify=self._notify)
        self.actions = ActionRunner(
            config.actions, self.store, promote=self.promote, clock=self.clock.now
        )
        self._closed: collections.deque[ClosedWindow] = collections.deque()
        self._evaluated: dict[str, float] = {}
        self._keys: collections.OrderedDict[str, Future[Ack]] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.ready = False
        self.wal = WriteAheadLog(config.wal_dir, apply=None, fsync=config.fsync)
        replayed = 0
        for seq, payload in self.wal.replay():
            ack = self._apply(seq, payload)
            key = decode_record(payload)[0].key
            if key:
                replayed_ack: Future[Ack] = Future()
                replayed_ack.set_result(ack)
                self._keys[key] = replayed_ack
            replayed += 1
        self.replayed = replayed
        for monitor in self.monitors.values():
            self._watch(monitor)
        self.appliers = Appliers(
            self._apply,
            max_bytes=config.max_queued_bytes,
            max_model_bytes=config.max_model_queued_bytes,
        )
        self.wal.apply = self.appliers.dispatch
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
        """Check, log durably, apply; raises ConfigError (unknown model) or
        InvalidBatchError (unreadable body, too many rows or columns) before anything is
        written, :class:`Unavailable` when it cannot be written now."""
        monitor = self.monitor(model)
        batch = wire.decode_batch(body, content_type)
        self._check_size(batch, monitor)
        header = RecordHeader(
            "predictions", model, content_type, key, batch.n_rows, *self._bounds(model)
        )
        return self._append(header, body, batch)

    def _check_size(self, batch: wire.Batch, monitor: Monitor) -> None:
        cfg = self.config
        width = len(batch.features) + len(batch.outputs or {})
        for what, n, limit, field in (
            ("rows", batch.n_rows, cfg.max_rows_per_batch, "$.rows"),
            ("columns", width, cfg.max_columns_per_batch, "$.columns"),
        ):
            if n > limit:
                raise InvalidBatchError(
                    f"{field}: {n} {what}; expected at most {limit} per batch",
                    field=field,
                    value=n,
                    expected=f"<= {limit} {what}",
                )
        if monitor.schema is None and width > cfg.max_schema_columns:
            raise InvalidBatchError(
                f"$.columns: {width} columns for a model without a schema; expected at most "
                f"{cfg.max_schema_columns} (limits.max_schema_columns) to infer one from",
                field="$.columns",
                value=width,
                expected=f"<= {cfg.max_schema_columns} columns",
            )
        if batch.row_tags is not None and len({_frozen(t) for t in batch.row_tags}) > 1:
            raise InvalidBatchError(
                "$.rows[].tags: rows of one batch carry different tags; expected the same "
                "tags on every row of a batch (send one batch per tag set)",
                field="$.rows[].tags",
                value=len({_frozen(t) for t in batch.row_tags}),
                expected="one tag set per batch",
            )

    def _bounds(self, model: str) -> tuple[float, float, bool]:
        """The event times this write accepts, by the clock now (kept in its record)."""
        now = self.clock.now()
        mc = self.config.models[model]
        return now - mc.past_age_seconds, now + mc.max_future_skew, mc.future_rows == "clamp"

    def write_labels(self, model: str, body: bytes, key: str | None) -> Ack:
        """Ground truth for earlier predictions (a JSON body), logged then applied."""
        self.monitor(model)
        labels = wire.decode_labels(body)
        return self._append(RecordHeader("labels", model, wire.JSON, key, len(labels.ids)), body)

    def write_signals(self, model: str, body: bytes, key: str | None) -> Ack:
        """Custom metrics and events (a JSON body), logged then applied."""
        self.monitor(model)
        signals = wire.decode_signals(body)
        n = len(signals.metrics) + len(signals.events)
        header = RecordHeader("signals", model, wire.JSON, key, n, *self._bounds(model))
        return self._append(header, body)

    def _append(self, header: RecordHeader, body: bytes, decoded: wire.Batch | None = None) -> Ack:
        """Log a write and wait for it to be applied. An idempotency key is reserved
        before the write is logged: a retry while the original is in flight waits for
        the original's answer instead of logging the rows again."""
        done: Future[Ack] = Future()
        key = header.key
        if key:
            with self._lock:
                prior = self._keys.get(key)
                if prior is None:
                    self._keys[key] = done
                    while len(self._keys) > IDEMPOTENCY_KEYS:
                        self._keys.popitem(last=False)
            if prior is not None:
                return dataclasses.replace(self._wait(prior), duplicate=True)
            done.add_done_callback(lambda f: self._forget(key, f))
        payload = encode_record(header, body)
        try:
            pending = self.appliers.admit(header.model, payload, decoded, done)
            written = self.wal.submit(payload)
        except Exception as exc:
            self.appliers.withdraw(payload, exc)
            if not done.done():
                done.set_exception(exc)
            raise
        written.add_done_callback(lambda f: self._refused(payload, f))
        return self._wait(pending.done)

    def _refused(self, payload: bytes, written: Future[int]) -> None:
        exc = written.exception()
        if exc is not None:  # not written (disk full): nothing to apply
            self.appliers.withdraw(payload, exc)

    def _forget(self, key: str, done: Future[Ack]) -> None:
        """A write that failed releases its key, so a retry is logged anew."""
        if done.exception() is not None:
            with self._lock:
                if self._keys.get(key) is done:
                    del self._keys[key]

    def _wait(self, done: Future[Ack]) -> Ack:
        try:
            return done.result(self.config.ack_timeout_seconds)
        except TimeoutError:
            raise Unavailable(
                f"write: not applied within {self.config.ack_timeout_seconds:g} s; it is "
                "kept and will be applied, expected a retry with the same idempotency key",
                status=503,
                retry_after=BUSY_RETRY_SECONDS,
            ) from None

    def _apply(self, seq: int, payload: bytes, pending: Pending | None = None) -> Ack:
        header, body = decode_record(payload)
        monitor = self.monitors.get(header.model)
        if monitor is None:  # a model removed from the config since: its records are skipped
            return Ack(seq, 0)
        bounds = None
        if header.not_before is not None and header.not_after is not None:
            bounds = Bounds(header.not_before, header.not_after, header.clamp)
        if header.kind == "signals":
            return self._apply_signals(header.model, monitor, seq, body, bounds)
        if header.kind == "labels":
            return self._apply_labels(header.model, monitor, seq, body)
        batch = pending.decoded if pending is not None else None
        if batch is None:  # replay: decode from the log
            batch = wire.decode_batch(body, header.content_type)
        return self._apply_predictions(header.model, monitor, seq, batch, bounds)

    def _apply_signals(
        self, model: str, monitor: Monitor, seq: int, body: bytes, bounds: Bounds | None
    ) -> Ack:
        signals = wire.decode_signals(body)
        rejected = clamped = Rejected()
        if bounds is not None:
            signals, rejected, clamped = keep_signals(signals, bounds)
        monitor.log_signals(signals.metrics, signals.events, seq=seq)
        n = len(signals.metrics) + len(signals.events)
        self._count(model, "signals", n, rejected, clamped)
        return Ack(seq, n, rejected=rejected, clamped=clamped)

    def _apply_labels(self, model: str, monitor: Monitor, seq: int, body: bytes) -> Ack:
        labels = wire.decode_labels(body)
        report = monitor.log_labels(labels.ids, labels.labels, labels.timestamps)
        self.counts[("labels", model)] += len(labels.ids)
        self.counts[("unknown_label_ids", model)] += len(report.unknown_ids)
        return Ack(seq, len(labels.ids), unknown_ids=len(report.unknown_ids))

    def _apply_predictions(
        self, model: str, monitor: Monitor, seq: int, batch: wire.Batch, bounds: Bounds | None
    ) -> Ack:
        rejected = clamped = Rejected()
        if bounds is not None:
            batch, rejected, clamped = keep_rows(batch, bounds)
        before, late_before = monitor.rejected_calls, monitor.late_dropped
        tags = dict(batch.tags)
        if batch.row_tags:  # one tag set per batch (checked at ingestion)
            tags.update(batch.row_tags[0] or {})
        if batch.n_rows:
            monitor.log(
                batch.features,
                batch.outputs,
                ids=batch.ids,
                timestamps=batch.timestamps,
                latency=batch.latency,
                error=batch.errors,
                tags=tags or None,
                seq=seq,
            )
        if monitor.rejected_calls > before:
            self.counts[("rejected_rows", model, "unreadable")] += batch.n_rows
        late = monitor.late_dropped - late_before
        self.counts[("late_dropped_rows", model)] += late
        self._count(model, "predictions", batch.n_rows, rejected, clamped)
        return Ack(seq, batch.n_rows, rejected=rejected, late_dropped=late, clamped=clamped)

    def _count(self, model: str, kind: str, n: int, rejected: Rejected, clamped: Rejected) -> None:
        self.counts[(kind, model)] += n
        prefix = "rejected_rows" if kind == "predictions" else "rejected_signals"
        for reason, count in rejected.reasons.items():
            self.counts[(prefix, model, reason)] += count
        if clamped.count:
            self.counts[(f"clamped_{kind}", model)] += clamped.count

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
        """Started, and the last write to the log did not fail (a full disk)."""
        return self.ready and self.wal.failing is None

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
