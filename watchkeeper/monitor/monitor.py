"""The Monitor: predictions in, windowed profiles and metric points out, in constant memory.

How a prediction travels:

1. ``log()`` of one row appends it to a buffer (no validation, no allocation beyond the
   tuple); every ``batch_size`` rows — or on ``flush()``/``tick()`` — the buffer becomes
   one batch. ``log()`` of a batch goes straight to step 2.
2. The batch is validated once against the schema (bad values become missing and are
   counted per column with an example), split by event time into tumbling windows and
   folded into each window's :class:`~watchkeeper.monitor.window.WindowState`.
3. A window closes when event time (the newest timestamp seen, or the clock through
   ``tick()``) passes its end plus the grace period. Its state is saved to the store as
   this writer's partial; the partials of every writer are merged, analysed against the
   reference and written as metric points. Rows for a window already closed are merged
   in as a correction and the window is analysed again.
4. Coarser windows (``rollups``, default hour and day) are merged from finer ones when
   they end, and analysed the same way.
5. Predictions with ids keep (id, time, outputs) in the store; ``log_labels()`` joins
   labels to them and recomputes the performance of the windows they fell in.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from watchkeeper._batch import Columns, to_columns
from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor._time import parse_duration, to_epoch, to_timestamps
from watchkeeper.monitor.analysis import ReferenceContext, Task, analyse_window, performance_points
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.monitor.window import WindowState, merge_states
from watchkeeper.profile import DatasetProfile, profile
from watchkeeper.schema import Schema, infer_schema, validate
from watchkeeper.stats import DriftConfig, DriftDetector
from watchkeeper.store import MetricPoint, Prediction, Store, WindowKey, labels_key, open_store

__all__ = ["LabelReport", "Monitor"]

log = logging.getLogger("watchkeeper.monitor")

ROLLUP_WRITER = "*merged*"
RECENT_ISSUES = 100


@dataclass(frozen=True)
class LabelReport:
    """What ``log_labels`` did: labels joined, and ids it could not use."""

    received: int
    joined: int
    unknown_ids: tuple[str, ...]
    duplicate_ids: tuple[str, ...]
    windows_updated: int


def _is_row(features: Mapping[str, Any]) -> bool:
    """One row (a dict of scalars) rather than a dict of columns; judged by the first
    value so the check costs the same whatever the width."""
    for value in features.values():
        return isinstance(value, str | bytes) or not hasattr(value, "__len__")
    return True


def _default_writer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Monitor:
    """Monitor one model version in production.

    Parameters
    ----------
    model, version
        What is monitored; each version has its own series.
    schema
        Columns, kinds and roles (``feature`` or ``output``); default: the reference's,
        else inferred from the first batch.
    reference
        What "normal" looks like: a DataFrame/Table/dict of arrays, a file path, or a
        :class:`DatasetProfile`, holding features and (optionally) outputs. Default: the
        latest reference stored for this version.
    store
        A :class:`Store` or URL: ``sqlite:///watchkeeper.db`` (default),
        ``postgresql+psycopg://…``, ``memory://``.
    window
        Tumbling window size (``"1m"``, ``"5m"``, seconds…).
    grace
        How long after its end a window waits for late rows before it closes.
    rollups
        Coarser windows merged from finer ones and analysed too; default hour and day
        (those that are whole multiples of ``window``).
    outputs
        Names of the reference's output columns (default: ``prediction`` and ``score``,
        when present; every other column is a feature).
    task, positive
        ``"classification"`` or ``"regression"`` (default from the ``prediction``
        column's kind) and the positive class of a binary classifier.
    drift, column_methods
        Drift settings (:class:`DriftConfig`) and per-column method overrides.
    retention
        How long predictions are kept for joining late labels.
    window_retention
        How long the states of base windows (about 100-250 kB each for 25 features) are
        kept for corrections and rollups; their metric points, and the states of hour
        and day windows, are kept.
    clock, writer, batch_size
        Time source; this process's name among several writers of one store; rows
        buffered before a vectorised update.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.monitor.clock import ManualClock
    >>> rng = np.random.default_rng(0)
    >>> ref = {"age": rng.normal(40, 10, 2_000), "prediction": rng.random(2_000)}
    >>> clock = ManualClock(0.0)
    >>> with Monitor("churn", reference=ref, store="memory://", clock=clock) as m:
    ...     for i in range(120):
    ...         m.log({"age": 40.0 + i % 7}, 0.5, timestamps=float(i))
    >>> m.metrics("requests")["value"].tolist()
    [60.0, 60.0]
    """

    def __init__(
        self,
        model: str,
        version: str = "1",
        *,
        schema: Schema | Mapping[str, Any] | None = None,
        reference: Any = None,
        store: Store | str = "sqlite:///watchkeeper.db",
        window: str | float = "1m",
        grace: str | float = "15s",
        rollups: Sequence[str | float] | None = None,
        outputs: Sequence[str] = (_inputs.PREDICTION, "score"),
        task: Literal["classification", "regression"] | None = None,
        positive: Any = None,
        drift: DriftConfig | None = None,
        column_methods: Mapping[str, str] | None = None,
        retention: str | float = "7d",
        window_retention: str | float = "2d",
        clock: Clock | None = None,
        writer: str | None = None,
        batch_size: int = 1024,
    ) -> None:
        for name, value in (("model", model), ("version", version)):
            if not isinstance(value, str) or not value:
                raise ConfigError(
                    f"{name}: expected a non-empty string, got {value!r}",
                    field=name,
                    value=value,
                    expected="a non-empty string",
                )
        self.model, self.version = model, version
        self.window_seconds = parse_duration(window, "window")
        if self.window_seconds <= 0:
            raise ConfigError(
                f"window: expected a positive duration, got {window!r}",
                field="window",
                value=window,
                expected="a positive duration",
            )
        self.grace_seconds = parse_duration(grace, "grace")
        if rollups is None:  # hour and day, where coarser than the window
            rollups = [
                r
                for r in (3600.0, 86400.0)
                if r > self.window_seconds and not r % self.window_seconds
            ]
        self.rollup_seconds = sorted({parse_duration(r, "rollups") for r in rollups})
        for r in self.rollup_seconds:
            if r <= self.window_seconds or r % self.window_seconds:
                raise ConfigError(
                    f"rollups: {r:g} s is not a multiple of the {self.window_seconds:g} s "
                    "window; expected coarser windows made of whole windows",
                    field="rollups",
                    value=r,
                    expected=f"a multiple of {self.window_seconds:g} s",
                )
        self.retention_seconds = parse_duration(retention, "retention")
        self.window_retention_seconds = parse_duration(window_retention, "window_retention")
        # the first rollup merges base windows: they must outlive it
        shortest = self.rollup_seconds[0] if self.rollup_seconds else self.window_seconds
        if self.window_retention_seconds < shortest + self.grace_seconds:
            raise ConfigError(
                f"window_retention: {window_retention!r} is shorter than a "
                f"{shortest:g} s window plus grace; expected at least "
                f"{shortest + self.grace_seconds:g} s so windows can still be merged",
                field="window_retention",
                value=window_retention,
                expected=f">= {shortest + self.grace_seconds:g} s",
            )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(
                f"batch_size: expected an integer >= 1, got {batch_size!r}",
                field="batch_size",
                value=batch_size,
                expected="an integer >= 1",
            )
        self.batch_size = batch_size
        self.clock = clock or SystemClock()
        self.writer = writer or _default_writer()
        self.store = open_store(store)
        self.drift_config = drift or DriftConfig()
        self.column_methods = dict(column_methods or {})
        self._output_names = tuple(outputs)
        self._task_kind = task
        self._positive = None if positive is None else str(positive)
        self._lock = threading.RLock()
        self._rows: list[tuple[Any, ...]] = []
        self._open: dict[float, WindowState] = {}
        self._late: dict[float, WindowState] = {}
        self._pending: list[Prediction] = []
        self._watermark = -math.inf
        self._last_purge = -math.inf
        self._first_start: float | None = None
        self._rolled: dict[float, float] = {}
        self._references: dict[int, ReferenceContext] = {}
        self._reference: ReferenceContext | None = None
        self._layout: dict[str, Any] | None = None
        self.schema: Schema | None = None
        self.task = Task()
        self.rejected_calls = 0
        self.late_dropped = 0
        self.recent_issues: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=RECENT_ISSUES
        )
        self._closed = False

        if isinstance(schema, Mapping):
            schema = Schema.from_dict(schema)
        if reference is not None:
            self.set_reference(reference, schema=schema)
        else:
            stored = self.store.latest_reference(model, version)
            if stored is not None:
                self._use_reference(stored[0], DatasetProfile.from_bytes(stored[1]))
            elif schema is not None:
                self._adopt_schema(schema)

    # -- reference and schema -------------------------------------------------------

    def set_reference(self, reference: Any, *, schema: Schema | None = None) -> int:
        """Use a new reference for the windows that close from now on; returns its id.

        Past metric points keep the id of the reference they were computed against.
        """
        with self._lock:
            if isinstance(reference, DatasetProfile):
                ref_profile = reference
            else:
                if isinstance(reference, str | Path):
                    from watchkeeper.io import read_table

                    reference = read_table(Path(reference))
                if schema is None:
                    schema = self.schema
                if schema is None:
                    columns, _ = to_columns(reference)
                    roles = {n: "output" for n in self._output_names if n in columns}
                    schema = infer_schema(reference, roles=roles)  # type: ignore[arg-type]
                ref_profile = profile(reference, schema)
            blob = ref_profile.to_bytes()
            stored = self.store.latest_reference(self.model, self.version)
            if stored is not None and stored[1] == blob:
                ref_id = stored[0]
            else:
                ref_id = self.store.save_reference(
                    self.model, self.version, blob, now=self.clock.now()
                )
            self._use_reference(ref_id, ref_profile)
            return ref_id

    def _use_reference(self, ref_id: int, ref_profile: DatasetProfile) -> None:
        if self.schema is not None and ref_profile.schema != self.schema:
            raise ConfigError(
                f"reference: its columns {list(ref_profile.schema.names)} differ from the "
                f"monitored schema {list(self.schema.names)}; expected the same schema",
                field="reference",
                value=list(ref_profile.schema.names),
                expected=str(list(self.schema.names)),
            )
        detector = DriftDetector(self.drift_config, column_methods=self.column_methods)
        ctx = ReferenceContext(ref_id, ref_profile, detector.fit(ref_profile))
        self._references[ref_id] = ctx
        self._reference = ctx
        self._layout = ref_profile.layout()
        self._adopt_schema(ref_profile.schema)

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

    def _adopt_schema(self, schema: Schema) -> None:
        if self.schema is not None:
            return
        self.schema = schema
        kind = self._task_kind
        pred = _inputs.PREDICTION if _inputs.PREDICTION in schema else None
        outputs = schema.with_role("output")
        if pred is None and len(outputs) == 1:
            pred = outputs[0].name
        if kind is None and pred is not None:
            kind = "regression" if schema[pred].kind == "numeric" else "classification"
        score = next((c.name for c in outputs if c.name == "score" and c.kind == "numeric"), None)
        classes: tuple[str, ...] = ()
        if self._reference is not None and pred is not None:
            col = self._reference.profile.columns[pred]
            classes = tuple(sorted(getattr(col, "counts", {})))
        self.task = Task(kind, pred, score, self._positive, classes)
        self.store.register_version(
            self.model, self.version, schema.to_dict(), now=self.clock.now()
        )

    # -- logging ----------------------------------------------------------------------

    def log(
        self,
        features: Any,
        outputs: Any = None,
        *,
        ids: Any = None,
        timestamps: Any = None,
        latency: Any = None,
        error: Any = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Record predictions: one row (a dict of feature values) or a batch.

        Never raises: a batch that cannot be read at all is counted in
        :attr:`rejected_calls` with its reason in :attr:`recent_issues`; bad values are
        counted per column as data-quality issues.
        """
        try:
            if isinstance(features, Mapping) and _is_row(features):
                ts = self.clock.now() if timestamps is None else timestamps
                row = (features, outputs, ids, ts, latency, error, tags)
                with self._lock:
                    self._rows.append(row)
                    if len(self._rows) >= self.batch_size:
                        self._drain()
                return
            columns, n = to_columns(features)
            with self._lock:
                self._ingest(
                    columns,
                    _inputs.batch_outputs(outputs, n),
                    n,
                    ids=None if ids is None else [str(i) for i in ids],
                    ts=to_timestamps(timestamps, n, self.clock.now()),
                    latency=_inputs.latencies(latency, n),
                    errors=_inputs.error_kinds(error, n),
                    tags=[tags] * n if tags else None,
                )
        except Exception as exc:  # the caller's request path must never see our errors
            self._reject("log", exc)

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

    def _drain(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        n = len(rows)
        try:
            columns, _ = to_columns([r[0] for r in rows])
            outs = [_inputs.row_outputs(r[1]) for r in rows]
            out_columns: Columns = to_columns(outs)[0] if any(outs) else {}
            ids = [None if r[2] is None else str(r[2]) for r in rows]
            ts = to_timestamps([r[3] for r in rows], n, self.clock.now())
            lat = np.array(
                [math.nan if r[4] is None else float(r[4]) for r in rows], dtype=np.float64
            )
            errors = [(_inputs.error_kinds(r[5], 1) or [""])[0] for r in rows]
            self._ingest(
                columns,
                out_columns,
                n,
                ids=ids if any(i is not None for i in ids) else None,
                ts=ts,
                latency=lat,
                errors=errors if any(errors) else [],
                tags=[r[6] for r in rows] if any(r[6] for r in rows) else None,
            )
        except Exception as exc:
            self._reject("log", exc)

    def _ingest(
        self,
        features: Columns,
        outputs: Columns,
        n: int,
        *,
        ids: Sequence[str | None] | None,
        ts: np.ndarray,
        latency: np.ndarray | None,
        errors: list[str],
        tags: Sequence[Mapping[str, str] | None] | None,
    ) -> None:
        if n == 0:
            return
        columns = dict(features)
        for name, col in outputs.items():
            columns[name] = col
        if self.schema is None:
            roles = {name: "output" for name in outputs}
            self._adopt_schema(infer_schema(columns, roles=roles))  # type: ignore[arg-type]
        assert self.schema is not None
        starts = np.floor(ts / self.window_seconds) * self.window_seconds
        if starts[0] == starts.min() == starts.max():
            groups: list[tuple[float, np.ndarray | None]] = [(float(starts[0]), None)]
        else:
            uniq, inverse = np.unique(starts, return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
            groups = [(float(u), order[bounds[i] : bounds[i + 1]]) for i, u in enumerate(uniq)]
        if ids is not None and len(ids) != n:
            raise ConfigError(
                f"ids: {len(ids)} ids for {n} rows; expected one per row",
                field="ids",
                value=len(ids),
                expected=str(n),
            )
        for start, idx in groups:
            m = n if idx is None else len(idx)
            if self._too_late(start, m):
                continue
            part = columns if idx is None else _inputs.take(columns, idx)
            batch = validate(part, self.schema, strict=False, allow_extra=True)
            state = self._state_for(start)
            state.profile.update_validated(batch, timestamps=ts if idx is None else ts[idx])
            state.requests += m
            for issue in batch.issues:
                example = f"{issue.example} in row {issue.row}" if issue.example else ""
                state.add_issue(issue.column, issue.problem, issue.count, example)
                self.recent_issues.append(
                    {
                        "time": start,
                        "call": "log",
                        "column": issue.column,
                        "problem": issue.problem,
                        "reason": f"{issue.count} rows: {example or issue.problem}",
                    }
                )
            if latency is not None:
                state.add_latencies(latency if idx is None else latency[idx])
            if errors:
                state.add_errors(
                    k for k in (errors if idx is None else [errors[i] for i in idx]) if k
                )
            if tags is not None:
                for row_tags in tags if idx is None else [tags[i] for i in idx]:
                    if row_tags:
                        state.add_tagged(labels_key(row_tags), 1)
        if ids is not None:
            self._keep_predictions(columns, ids, ts)
        self._advance(float(ts.max()))

    def _keep_predictions(
        self, columns: Columns, ids: Sequence[str | None], ts: np.ndarray
    ) -> None:
        n = len(ids)
        if n != len(ts):
            raise ConfigError(
                f"ids: {n} ids for {len(ts)} rows; expected one per row",
                field="ids",
                value=n,
                expected=str(len(ts)),
            )
        preds = _inputs.as_texts(columns.get(self.task.prediction or ""), n)
        scores = _inputs.as_floats(columns.get(self.task.score or ""), n)
        for i, pid in enumerate(ids):
            if pid is not None:
                score = float(scores[i])
                self._pending.append(
                    Prediction(
                        self.model,
                        self.version,
                        pid,
                        float(ts[i]),
                        preds[i],
                        None if math.isnan(score) else score,
                    )
                )

    def _new_state(self) -> WindowState:
        assert self.schema is not None
        ref_id = self._reference.id if self._reference else None
        return WindowState(DatasetProfile(self.schema, layout=self._layout), ref_id)

    def _state_for(self, start: float) -> WindowState:
        state = self._open.get(start)
        if state is not None:
            return state
        if start + self.window_seconds + self.grace_seconds > self._watermark:
            state = self._open[start] = self._new_state()
            if self._first_start is None or start < self._first_start:
                self._first_start = start
            return state
        late = self._late.get(start)
        if late is None:
            late = self._late[start] = self._new_state()
        return late

    def log_metric(
        self,
        name: str,
        value: float,
        tags: Mapping[str, str] | None = None,
        *,
        timestamp: Any = None,
    ) -> None:
        """Record a custom metric value (business or user signal), aggregated per window."""
        try:
            ts = self.clock.now() if timestamp is None else to_epoch(timestamp, "timestamp")
            number = float(value)
            if not math.isfinite(number):
                raise ConfigError(
                    f"log_metric {name!r}: expected a finite number, got {value!r}",
                    field="value",
                    value=value,
                    expected="a finite number",
                )
            key = labels_key(
                {"metric": str(name), **{str(k): str(v) for k, v in (tags or {}).items()}}
            )
            with self._lock:
                state = self._side_state(ts)
                if state is not None:
                    state.add_custom(key, number)
                self._advance(ts)
        except Exception as exc:
            self._reject("log_metric", exc)

    def log_event(self, name: str, *, timestamp: Any = None) -> None:
        """Count an event (e.g. "user switched from voice to typing") in its window."""
        try:
            ts = self.clock.now() if timestamp is None else to_epoch(timestamp, "timestamp")
            with self._lock:
                state = self._side_state(ts)
                if state is not None:
                    state.add_event(str(name))
                self._advance(ts)
        except Exception as exc:
            self._reject("log_event", exc)

    def _side_state(self, ts: float) -> WindowState | None:
        if self.schema is None:
            self._adopt_schema(Schema(()))
        start = math.floor(ts / self.window_seconds) * self.window_seconds
        return None if self._too_late(start, 1) else self._state_for(start)

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

    # -- time -------------------------------------------------------------------------

    def tick(self, now: Any = None) -> None:
        """Let time pass: close the windows whose grace has ended by ``now`` (default: the
        clock). A server calls this periodically so quiet windows still close."""
        with self._lock:
            self._drain()
            self._advance(self.clock.now() if now is None else to_epoch(now, "now"))
            self._flush_late()

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

    def flush(self) -> None:
        """Close every open window now (end of a run, shutdown)."""
        with self._lock:
            self._drain()
            for start in sorted(self._open):
                self._close_window(start, self._open.pop(start))
            self._flush_late()
            self._rollups(final=True)
            self._save_pending()

    def close(self) -> None:
        """Flush and release the store; safe to call twice."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self.store.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- closing windows -------------------------------------------------------------

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
        self._rollups(final=False)
        if self._watermark - self._last_purge >= min(3600.0, self.window_retention_seconds):
            self._last_purge = self._watermark
            self.store.purge_predictions(self.model, self._watermark - self.retention_seconds)
            self.store.purge_windows(
                self.model, self.window_seconds, self._watermark - self.window_retention_seconds
            )

    def _flush_late(self) -> None:
        late, self._late = self._late, {}
        for start, correction in sorted(late.items()):
            key = self._key(start)
            mine = self.store.window_partials(key).get(self.writer)
            merged = correction if mine is None else WindowState.from_bytes(mine).merge(correction)
            self.store.save_window(key, self.writer, merged.to_bytes(), now=self.clock.now())
            self._save_pending()
            self._analyse(key)
            for seconds in self.rollup_seconds:
                rstart = math.floor(start / seconds) * seconds
                if rstart + seconds + self.grace_seconds <= self._watermark:
                    self._build_rollup(self._key(rstart, seconds))

    def _merged(self, key: WindowKey) -> WindowState | None:
        states = [WindowState.from_bytes(b) for b in self.store.window_partials(key).values()]
        return merge_states(states)

    def _analyse(self, key: WindowKey) -> None:
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

    # -- labels -----------------------------------------------------------------------

    def log_labels(self, ids: Any, labels: Any, timestamps: Any = None) -> LabelReport:
        """Join ground truth to earlier predictions by id, and recompute the performance
        of the closed windows (and coarser windows) those predictions fell in.

        An id with no kept prediction is reported in ``unknown_ids``; an id labelled
        before (or twice in this call) keeps its first label and is reported in
        ``duplicate_ids``. Never raises; a call that cannot be read at all is counted
        in :attr:`rejected_calls`.
        """
        try:
            with self._lock:
                return self._log_labels(ids, labels, timestamps)
        except Exception as exc:
            self._reject("log_labels", exc)
            return LabelReport(0, 0, (), (), 0)

    def _log_labels(self, ids: Any, labels: Any, timestamps: Any) -> LabelReport:
        self._drain()
        self._save_pending()
        id_list = [str(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
        if len(values) != len(id_list):
            raise ConfigError(
                f"labels: {len(values)} labels for {len(id_list)} ids; expected one per id",
                field="labels",
                value=len(values),
                expected=str(len(id_list)),
            )
        texts = _inputs.as_texts(np.array(values, dtype=object), len(values))
        ts = to_timestamps(timestamps, len(id_list), self.clock.now())
        seen: set[str] = set()
        duplicates: list[str] = []
        rows: list[tuple[str, str, float]] = []
        for pid, text, t in zip(id_list, texts, ts.tolist(), strict=True):
            if text is None:
                continue
            if pid in seen:
                duplicates.append(pid)
                continue
            seen.add(pid)
            rows.append((pid, text, t))
        found = self.store.find_predictions(self.model, [r[0] for r in rows])
        unknown = [r[0] for r in rows if r[0] not in found]
        known = [r for r in rows if r[0] in found]
        new = set(self.store.save_labels(self.model, known))
        duplicates += [r[0] for r in known if r[0] not in new]
        keys: set[WindowKey] = set()
        for pid in new:
            p = found[pid]
            if p.version != self.version:
                continue
            for seconds in (self.window_seconds, *self.rollup_seconds):
                keys.add(self._key(math.floor(p.timestamp / seconds) * seconds, seconds))
        updated = 0
        for key in sorted(keys, key=lambda k: (k.seconds, k.start)):
            if key.seconds == self.window_seconds and key.start in self._open:
                continue  # analysed with its labels when it closes
            state = self._merged(key)
            if state is None:
                continue
            labelled = self.store.labelled(self.model, self.version, key.start, key.end)
            self.store.write_points(
                performance_points(key, labelled, state.requests, self.task),
                now=self.clock.now(),
            )
            updated += 1
        return LabelReport(
            received=len(id_list),
            joined=len(new),
            unknown_ids=tuple(unknown),
            duplicate_ids=tuple(duplicates),
            windows_updated=updated,
        )

    # -- results ----------------------------------------------------------------------

    def metrics(
        self,
        name: str | None = None,
        *,
        since: Any = None,
        until: Any = None,
        window: str | float | None = None,
        version: str | None = None,
        **labels: Any,
    ) -> Any:
        """Metric points of closed windows as a pandas DataFrame.

        Parameters
        ----------
        name
            A point name (see :mod:`watchkeeper.monitor.analysis`); ``None`` for all.
        since, until
            Window starts in ``[since, until)``: datetimes, ISO text or epoch seconds.
        window
            Window size: the base window (default) or one of the ``rollups``.
        version
            This monitor's version by default; ``"*"`` for every version.
        **labels
            Label filters, e.g. ``feature="age"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``window_start``, ``window_end`` (UTC), ``version``, ``name``,
            ``value``, ``reference_id`` and one column per label.
        """
        import pandas as pd

        seconds = self.window_seconds if window is None else parse_duration(window, "window")
        if seconds not in (self.window_seconds, *self.rollup_seconds):
            sizes = ", ".join(f"{s:g} s" for s in (self.window_seconds, *self.rollup_seconds))
            raise ConfigError(
                f"window: {window!r} is not analysed; expected one of: {sizes}",
                field="window",
                value=window,
                expected=sizes,
            )
        points = self.store.query_points(
            self.model,
            name,
            version=None if version == "*" else (version or self.version),
            window_seconds=seconds,
            since=None if since is None else to_epoch(since, "since"),
            until=None if until is None else to_epoch(until, "until"),
            labels={k: str(v) for k, v in labels.items()},
        )
        return _frame(pd, points)


def _frame(pd: Any, points: list[MetricPoint]) -> Any:
    label_names = sorted({k for p in points for k in p.labels})
    data: dict[str, list[Any]] = {
        "window_start": [p.window_start for p in points],
        "window_end": [p.window_start + p.window_seconds for p in points],
        "version": [p.version for p in points],
        "name": [p.name for p in points],
        "value": [p.value for p in points],
        "reference_id": [p.reference_id for p in points],
    }
    for label in label_names:
        data[label] = [p.labels.get(label) for p in points]
    frame = pd.DataFrame(data)
    for col in ("window_start", "window_end"):
        frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    frame["reference_id"] = frame["reference_id"].astype("Int64")
    return frame
