"""The collector: one Monitor per configured model, fed through the write-ahead log.

A request is decoded and checked first (a bad body gets 4xx and is never logged), then
appended to the write-ahead log; the log's writer thread applies each record in
sequence order (``Monitor.log(..., seq=seq)``) and only then is the request
acknowledged. At start the log is replayed: rows already folded into stored windows are
skipped by their sequence number, so every acknowledged row counts exactly once. A
record's idempotency key is remembered, so a retried batch is acknowledged again
without being counted twice.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper import wire
from watchkeeper.alerts.actions import ActionRunner
from watchkeeper.alerts.engine import AlertEngine, AlertEvent
from watchkeeper.alerts.history import amend_alert
from watchkeeper.alerts.notifiers import Dispatcher, build_notifier
from watchkeeper.errors import ConfigError, InvalidBatchError, WatchkeeperError
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.schema import Schema
from watchkeeper.server.config import ServerConfig
from watchkeeper.server.wal import WriteAheadLog
from watchkeeper.stats import DriftConfig
from watchkeeper.store import SilenceRecord, Store, open_store
from watchkeeper.units import to_timestamps

__all__ = ["Ack", "Collector"]

log = logging.getLogger("watchkeeper.server")
IDEMPOTENCY_KEYS = 100_000
"""Idempotency keys remembered (the newest ones; older retries count again)."""


@dataclass(frozen=True)
class Ack:
    """The answer to an accepted write."""

    seq: int
    rows: int
    duplicate: bool = False


def _drift_config(spec: Any) -> DriftConfig:
    """``drift:`` settings of a model (the fields of :class:`DriftConfig`)."""
    if not isinstance(spec, dict):
        raise ConfigError(
            f"drift: expected a mapping of settings, got {spec!r}",
            field="drift",
            value=spec,
            expected="a mapping",
        )
    known = {f.name for f in dataclasses.fields(DriftConfig)}
    for key in spec:
        if key not in known:
            raise ConfigError(
                f"drift.{key}: unknown setting; expected one of: {', '.join(sorted(known))}",
                field=f"drift.{key}",
                value=key,
                expected=", ".join(sorted(known)),
            )
    try:
        return DriftConfig(**spec)
    except ConfigError as exc:
        raise ConfigError(
            f"drift.{exc.field}: {exc.message}",
            field=f"drift.{exc.field}",
            value=exc.value,
            expected=exc.expected,
        ) from exc


MAX_CATCH_UP = 50
"""Windows closed since the last tick that alert rules are evaluated on, at most."""


class Collector:
    """Monitors, store and write-ahead log of a ``watchkeeper serve`` process."""

    def __init__(self, config: ServerConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store: Store = open_store(config.store)
        self.monitors: dict[str, Monitor] = {}
        for name, mc in config.models.items():
            try:
                options = dict(mc.options)
                if "drift" in options:
                    options["drift"] = _drift_config(options["drift"])
                self.monitors[name] = Monitor(
                    name,
                    mc.version,
                    schema=Schema.from_dict(mc.schema) if mc.schema else None,
                    reference=mc.reference,
                    store=self.store,
                    clock=self.clock,
                    writer=config.writer,
                    **options,
                )
            except WatchkeeperError as exc:  # name the key in the config file
                key = f"models.{name}.{exc.field}" if exc.field else f"models.{name}"
                raise ConfigError(
                    f"{key}: {exc.message}", field=key, value=exc.value, expected=exc.expected
                ) from exc
        self.counts: dict[tuple[str, str], float] = collections.defaultdict(float)
        notifiers = [
            build_notifier(spec, f"notifiers[{i}]") for i, spec in enumerate(config.notifiers)
        ]
        self.dispatcher = Dispatcher(notifiers, self.store) if notifiers else None
        self.silences: list[SilenceRecord] = self.store.silences()  # survive restarts
        self.alerts = AlertEngine(config.rules, self.store, notify=self._notify)
        self.actions = ActionRunner(
            config.actions, self.store, promote=self.promote, clock=self.clock.now
        )
        self._evaluated: dict[str, float] = {}
        self._keys: collections.OrderedDict[str, Ack] = collections.OrderedDict()
        self._safe: collections.deque[tuple[int, str, float]] = collections.deque()
        self._decoded: dict[int, wire.Batch] = {}
        self._lock = threading.Lock()
        self.ready = False
        self.wal = WriteAheadLog(config.wal_dir, apply=None, fsync=config.fsync)
        replayed = 0
        for seq, payload in self.wal.replay():
            self._apply(seq, payload)
            replayed += 1
        self.replayed = replayed
        self.wal.apply = self._apply
        self._stop = threading.Event()
        self._ticker = threading.Thread(
            target=self._tick_loop, name="watchkeeper-tick", daemon=True
        )
        self._ticker.start()
        self.ready = True

    # -- writes ---------------------------------------------------------------------------

    def monitor(self, model: str) -> Monitor:
        try:
            return self.monitors[model]
        except KeyError:
            raise ConfigError(
                f"model {model!r}: not configured; expected one of: {', '.join(self.monitors)}",
                field="model",
                value=model,
                expected=", ".join(self.monitors),
            ) from None

    def _seen(self, key: str | None) -> Ack | None:
        if key is None:
            return None
        with self._lock:
            ack = self._keys.get(key)
        return None if ack is None else Ack(ack.seq, ack.rows, duplicate=True)

    def write_predictions(self, model: str, body: bytes, content_type: str, key: str | None) -> Ack:
        """Check, log durably, apply; raises ConfigError (unknown model) or
        InvalidBatchError (unreadable body) before anything is written."""
        self.monitor(model)
        batch = wire.decode_batch(body, content_type)
        if batch.n_rows > self.config.max_rows_per_batch:
            raise InvalidBatchError(
                f"$.rows: {batch.n_rows} rows; expected at most "
                f"{self.config.max_rows_per_batch} per batch",
                field="$.rows",
                value=batch.n_rows,
                expected=f"<= {self.config.max_rows_per_batch} rows",
            )
        return self._append("predictions", model, body, content_type, key, batch.n_rows, batch)

    def write_labels(self, model: str, body: bytes, key: str | None) -> Ack:
        self.monitor(model)
        labels = wire.decode_labels(body)
        return self._append("labels", model, body, wire.JSON, key, len(labels.ids))

    def write_signals(self, model: str, body: bytes, key: str | None) -> Ack:
        self.monitor(model)
        signals = wire.decode_signals(body)
        n = len(signals.metrics) + len(signals.events)
        return self._append("signals", model, body, wire.JSON, key, n)

    def _append(
        self,
        kind: str,
        model: str,
        body: bytes,
        content_type: str,
        key: str | None,
        n: int,
        decoded: wire.Batch | None = None,
    ) -> Ack:
        seen = self._seen(key)
        if seen is not None:
            return seen
        header = json.dumps(
            {"kind": kind, "model": model, "content_type": content_type, "key": key, "n": n}
        ).encode()
        payload = len(header).to_bytes(4, "little") + header + body
        if decoded is not None:  # decoded once: the writer thread applies it as it is
            with self._lock:
                self._decoded[id(payload)] = decoded
        try:
            seq = self.wal.append(payload)
        finally:
            with self._lock:
                self._decoded.pop(id(payload), None)
        return Ack(seq, n)

    def _apply(self, seq: int, payload: bytes) -> None:
        size = int.from_bytes(payload[:4], "little")
        header = json.loads(payload[4 : 4 + size])
        body = payload[4 + size :]
        model, kind = header["model"], header["kind"]
        if header.get("key"):
            with self._lock:
                self._keys[header["key"]] = Ack(seq, header["n"])
                while len(self._keys) > IDEMPOTENCY_KEYS:
                    self._keys.popitem(last=False)
        monitor = self.monitors.get(model)
        if monitor is None:  # a model removed from the config since: its records are skipped
            return
        if kind == "signals":
            signals = wire.decode_signals(body)
            monitor.log_signals(signals.metrics, signals.events, seq=seq)
            self.counts[("signals", model)] += len(signals.metrics) + len(signals.events)
            return
        if kind == "labels":
            labels = wire.decode_labels(body)
            monitor.log_labels(labels.ids, labels.labels, labels.timestamps)
            self.counts[("labels", model)] += len(labels.ids)
            return
        with self._lock:
            batch = self._decoded.pop(id(payload), None)
        if batch is None:  # replay: decode from the log
            batch = wire.decode_batch(body, header["content_type"])
        now = self.clock.now()
        before = monitor.rejected_calls
        monitor.log(
            batch.features,
            batch.outputs,
            ids=batch.ids,
            timestamps=batch.timestamps,
            latency=batch.latency,
            error=batch.errors,
            tags=batch.tags or None,
            seq=seq,
        )
        if monitor.rejected_calls > before:
            self.counts[("rejected_rows", model)] += batch.n_rows
        self.counts[("predictions", model)] += batch.n_rows
        times = to_timestamps(batch.timestamps, batch.n_rows, now) if batch.n_rows else [now]
        with self._lock:
            self._safe.append((seq, model, float(np.max(times))))

    # -- time -----------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_seconds):
            self.tick()

    def tick(self) -> None:
        """Close windows by the clock, evaluate alert rules on newly closed windows, then
        drop log segments already in the store."""
        for name, monitor in self.monitors.items():
            monitor.tick()
            closed = monitor.last_closed
            before = self._evaluated.get(name)
            if closed is None or (before is not None and closed <= before):
                continue
            self._evaluated[name] = closed
            # every window closed since the last tick, in order (several close at once
            # when traffic outpaces the tick), so `for` durations count each one
            width = monitor.window_seconds
            first = closed if before is None else max(before + width, closed - MAX_CATCH_UP * width)
            for k in range(round((closed - first) / width) + 1):
                try:
                    self.alerts.evaluate(name, monitor.version, width, now=first + (k + 1) * width)
                except Exception:  # rules must not stop ingestion; the log says why
                    log.exception("watchkeeper: evaluating alert rules for %s failed", name)
        with self._lock:
            while self._safe:
                _seq, model, newest = self._safe[0]
                m = self.monitors[model]
                end = math.floor(newest / m.window_seconds) * m.window_seconds + m.window_seconds
                if end + m.grace_seconds > m.watermark:
                    break
                self._safe.popleft()
            safe_before = self._safe[0][0] if self._safe else self.wal.next_seq
        self.wal.truncate_before(safe_before)

    # -- alerts ---------------------------------------------------------------------------

    def silence(
        self, matchers: dict[str, str], ends_at: float, comment: str = "", created_by: str = ""
    ) -> SilenceRecord:
        """Stop notifications of alerts whose labels match until ``ends_at`` (kept in the
        store, so it survives a restart)."""
        record = self.store.save_silence(
            matchers,
            float(ends_at),
            comment=comment,
            created_by=created_by,
            created_at=self.clock.now(),
        )
        with self._lock:
            self.silences.append(record)
        return record

    def silenced_by(self, labels: dict[str, str], at: float) -> SilenceRecord | None:
        with self._lock:
            for s in self.silences:
                if s.ends_at > at and all(labels.get(k) == v for k, v in s.matchers.items()):
                    return s
        return None

    def reload(self, config: ServerConfig) -> dict[str, Any]:
        """Take new rules, notifiers and actions without a restart (models, store and
        limits need one). Alerts of rules that are kept keep their state."""
        notifiers = [
            build_notifier(spec, f"notifiers[{i}]") for i, spec in enumerate(config.notifiers)
        ]
        old_dispatcher = self.dispatcher
        self.dispatcher = Dispatcher(notifiers, self.store) if notifiers else None
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
            "notifiers": len(notifiers),
            "actions": sorted(config.actions),
        }

    def promote(self, model: str, version: str, reference: str | None = None) -> Monitor:
        """Make ``version`` the monitored version of ``model`` (its reference from the
        given data file, else the current version's); the old version's windows are
        flushed first. Returns the new monitor."""
        old = self.monitor(model)
        old.flush()
        options = dict(self.config.models[model].options)
        if "drift" in options:
            options["drift"] = _drift_config(options["drift"])
        ref: Any = reference
        if ref is None and old._reference is not None:
            ref = old._reference.profile
        new = Monitor(
            model,
            version,
            schema=None if ref is not None else old.schema,
            reference=ref,
            store=self.store,
            clock=self.clock,
            writer=self.config.writer,
            **options,
        )
        self.monitors[model] = new
        log.warning("watchkeeper: %s now monitors version %s", model, version)
        return new

    def _notify(self, event: AlertEvent) -> None:
        labels = {"alertname": event.rule.name, "model": event.model, **event.labels}
        silence = self.silenced_by(labels, self.clock.now())
        if silence is None:
            self.actions(event)  # a silenced alert starts no retraining either
        if silence is not None:
            amend_alert(
                self.store,
                event.model,
                event.alert_id,
                lambda ev: {**ev, "silenced_by": silence.id},
            )
            return
        if self.dispatcher is not None:
            self.dispatcher(event)

    def close(self) -> None:
        """Stop ticking, finish the log, flush every monitor, release the store."""
        self._stop.set()
        self._ticker.join()
        self.wal.close()
        for monitor in self.monitors.values():
            monitor.flush()
        if self.dispatcher is not None:
            self.dispatcher.join(10)
            self.dispatcher.close()
        self.store.close()

    def status(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "replayed": self.replayed,
            "wal_next_seq": self.wal.next_seq,
            "models": sorted(self.monitors),
        }
