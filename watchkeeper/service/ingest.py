"""Writes of the collector: checked, reserved, logged, applied per model, answered.

A write is decoded and checked first (a bad body, too many rows or columns, raise and
nothing is logged). Its idempotency key is then reserved, so a retry while the original
is in flight waits for the original's answer; room is reserved in the apply queues
(:class:`~watchkeeper.service.appliers.Appliers`: 429 when over the bound); the record is
appended to the write-ahead log (503 when the disk is full) with the event-time bounds
of the clock at that moment; the model's apply thread filters the rows by those bounds
(:mod:`~watchkeeper.service.event_time`), feeds the monitor, and only then is the write
acknowledged, with what was taken and what was not and why. Replaying the log after a
restart goes through the same apply, with the bounds from the records, so it decides
exactly as the first time.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from watchkeeper import wire
from watchkeeper.errors import InvalidBatchError
from watchkeeper.monitor import Monitor
from watchkeeper.monitor.clock import Clock
from watchkeeper.service.appliers import BUSY_RETRY_SECONDS, Appliers, Pending
from watchkeeper.service.config import ServerConfig
from watchkeeper.service.event_time import Bounds, Rejected, keep_rows, keep_signals
from watchkeeper.service.idempotency import IDEMPOTENCY_KEYS, IdempotencyKeys
from watchkeeper.service.records import RecordHeader, decode_record, encode_record
from watchkeeper.service.unavailable import Unavailable
from watchkeeper.service.wal import WriteAheadLog

__all__ = ["IDEMPOTENCY_KEYS", "Ack", "Ingest"]

NONE = Rejected()


def _row_tags(
    tags: dict[str, str], row_tags: list[dict[str, str] | None] | None
) -> dict[str, str] | list[dict[str, str]] | None:
    """The tags of a batch for ``Monitor.log``: the batch's set, or one set per row (the
    row's own tags over the batch's) when rows carry their own.

    >>> _row_tags({"app": "ios"}, [{"region": "eu"}, None])
    [{'app': 'ios', 'region': 'eu'}, {'app': 'ios'}]
    """
    if not row_tags or not any(row_tags):
        return tags or None
    return [{**tags, **(t or {})} for t in row_tags]


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


class Ingest:
    """The write path of a :class:`~watchkeeper.service.Service`.

    Parameters
    ----------
    config
        Limits, model settings and the answer's timeout.
    monitors
        ``{model: Monitor}``, the service's (a promoted version replaces its entry).
    monitor
        The service's lookup: a monitor, or ConfigError (404) for an unknown model.
    clock
        The server's clock, for the event-time bounds.
    wal
        The write-ahead log (its ``apply`` is set here, after the replay).
    """

    def __init__(
        self,
        config: ServerConfig,
        monitors: dict[str, Monitor],
        monitor: Callable[[str], Monitor],
        clock: Clock,
        wal: WriteAheadLog,
    ) -> None:
        self.config = config
        self.monitors = monitors
        self.monitor = monitor
        self.clock = clock
        self.wal = wal
        self.counts: dict[tuple[str, ...], float] = collections.defaultdict(float)
        """Running totals by ``(kind, model)`` or ``(kind, model, reason)``: predictions,
        labels, signals, rejected_rows, rejected_signals (by reason), clamped_predictions,
        clamped_signals, late_dropped_rows, unknown_label_ids (exported as Prometheus
        counters)."""
        self.keys = IdempotencyKeys(
            clock.now,
            max_keys=config.idempotency_keys,
            max_age_seconds=config.idempotency_key_age_seconds,
        )
        """Idempotency keys of writes in flight and applied (bounded by count and age)."""
        self.appliers = Appliers(
            self._apply,
            max_bytes=config.max_queued_bytes,
            max_model_bytes=config.max_model_queued_bytes,
        )

    def replay(self) -> int:
        """Apply every record still in the log (at start, before any write), then
        take writes; returns how many records were replayed."""
        replayed = 0
        for seq, payload in self.wal.replay():
            ack = self._apply(seq, payload)
            key = decode_record(payload)[0].key
            if key:
                self.keys.restore(key, ack)
            replayed += 1
        self.wal.apply = self.appliers.dispatch
        return replayed

    def submit_predictions(
        self, model: str, body: bytes, content_type: str, key: str | None
    ) -> Future[Ack]:
        """Check and log a predictions batch; the future completes once it is applied.
        Raises ConfigError (unknown model) or InvalidBatchError (unreadable body, too many
        rows or columns) before anything is written, :class:`Unavailable` when it cannot
        be written now (the future fails with it when the disk is full)."""
        monitor = self.monitor(model)
        batch = wire.decode_batch(body, content_type)
        self._check_size(batch, monitor)
        header = RecordHeader(
            "predictions", model, content_type, key, batch.n_rows, *self._bounds(model)
        )
        return self._submit(header, body, batch)

    def submit_labels(self, model: str, body: bytes, key: str | None) -> Future[Ack]:
        """Check and log ground truth for earlier predictions (a JSON body)."""
        self.monitor(model)
        labels = wire.decode_labels(body)
        return self._submit(RecordHeader("labels", model, wire.JSON, key, len(labels.ids)), body)

    def submit_signals(self, model: str, body: bytes, key: str | None) -> Future[Ack]:
        """Check and log custom metrics and events (a JSON body)."""
        self.monitor(model)
        signals = wire.decode_signals(body)
        n = len(signals.metrics) + len(signals.events)
        header = RecordHeader("signals", model, wire.JSON, key, n, *self._bounds(model))
        return self._submit(header, body)

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

    def _bounds(self, model: str) -> tuple[float, float, bool]:
        """The event times this write accepts, by the clock now (kept in its record)."""
        now = self.clock.now()
        mc = self.config.models[model]
        return now - mc.past_age_seconds, now + mc.max_future_skew, mc.future_rows == "clamp"

    def _submit(
        self, header: RecordHeader, body: bytes, decoded: wire.Batch | None = None
    ) -> Future[Ack]:
        """Log a write; the future completes once it is applied. An idempotency key is
        reserved before the write is logged: a retry while the original is in flight
        gets the original's answer instead of logging the rows again."""
        done: Future[Ack] = Future()
        if header.key and not self.keys.reserve(header.key, done):
            return done
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
        return pending.done

    def _refused(self, payload: bytes, written: Future[int]) -> None:
        exc = written.exception()
        if exc is not None:  # not written (disk full): nothing to apply
            self.appliers.withdraw(payload, exc)

    def wait(self, done: Future[Ack]) -> Ack:
        """The answer of a submitted write, waited for at most ``ack_timeout_seconds``;
        raises :class:`Unavailable` (503) past that: the write is kept and applied later,
        and a retry with its idempotency key gets its answer."""
        try:
            return done.result(self.config.ack_timeout_seconds)
        except TimeoutError:
            raise self.still_applying() from None

    def still_applying(self) -> Unavailable:
        """The error of a write not applied within ``ack_timeout_seconds``."""
        return Unavailable(
            f"write: not applied within {self.config.ack_timeout_seconds:g} s; it is kept "
            "and will be applied, expected a retry with the same idempotency key",
            status=503,
            retry_after=BUSY_RETRY_SECONDS,
        )

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
        tags = _row_tags(batch.tags, batch.row_tags)
        if batch.n_rows:
            monitor.log(
                batch.features,
                batch.outputs,
                ids=batch.ids,
                timestamps=batch.timestamps,
                latency=batch.latency,
                error=batch.errors,
                tags=tags,
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
