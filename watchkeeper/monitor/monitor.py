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
import math
import os
import socket
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from watchkeeper._batch import to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor._results import LabelReport, Results
from watchkeeper.monitor._state import RECENT_ISSUES
from watchkeeper.monitor.analysis import ReferenceContext, Task
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.schema import Schema, infer_schema
from watchkeeper.stats import DriftConfig, DriftDetector
from watchkeeper.store import Prediction, Store, labels_key, open_store
from watchkeeper.units import parse_duration, to_epoch, to_timestamps

__all__ = ["LabelReport", "Monitor"]


def _is_row(features: Mapping[str, Any]) -> bool:
    """One row (a dict of scalars) rather than a dict of columns; judged by the first
    value so the check costs the same whatever the width."""
    for value in features.values():
        return isinstance(value, str | bytes) or not hasattr(value, "__len__")
    return True


def _default_writer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Monitor(Results):
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
        self.last_closed: float | None = None
        self._rolled: dict[float, float] = {}
        self._references: dict[int, ReferenceContext] = {}
        self._reference: ReferenceContext | None = None
        self._layout: dict[str, Any] | None = None
        self.schema: Schema | None = None
        self.task = Task()
        self.rejected_calls = 0
        self.late_dropped = 0
        self.analysis_errors = 0
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
                    from watchkeeper.tables import read_table

                    reference = read_table(Path(reference))
                if schema is None:
                    schema = self.schema
                if schema is None:
                    columns, _ = to_columns(reference)
                    roles = {n: "output" for n in self._output_names if n in columns}
                    schema = infer_schema(reference, roles=roles)  # type: ignore[arg-type]
                ref_profile = profile_table(reference, schema)
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
        seq: int | None = None,
    ) -> None:
        """Record predictions: one row (a dict of feature values) or a batch.

        ``seq`` is a write-ahead-log sequence number (the collector's): a window that has
        already folded in a batch with this or a higher number skips it, so replaying a
        log after a crash counts every row once. Batches with ``seq`` must come in order.

        Never raises: a batch that cannot be read at all is counted in
        :attr:`rejected_calls` with its reason in :attr:`recent_issues`; bad values are
        counted per column as data-quality issues.
        """
        try:
            if seq is None and isinstance(features, Mapping) and _is_row(features):
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
                    ids=None if ids is None else [None if i is None else str(i) for i in ids],
                    ts=to_timestamps(timestamps, n, self.clock.now()),
                    latency=_inputs.latencies(latency, n),
                    errors=_inputs.error_kinds(error, n),
                    tags=[tags] * n if tags else None,
                    seq=seq,
                )
        except Exception as exc:  # the caller's request path must never see our errors
            self._reject("log", exc)

    def log_metric(
        self,
        name: str,
        value: float,
        tags: Mapping[str, str] | None = None,
        *,
        timestamp: Any = None,
    ) -> None:
        """Record a custom metric value (business or user signal), aggregated per window."""
        self.log_signals(metrics=[(name, value, tags, timestamp)])

    def log_event(self, name: str, *, timestamp: Any = None) -> None:
        """Count an event (e.g. "user switched from voice to typing") in its window."""
        self.log_signals(events=[(name, timestamp)])

    def log_signals(
        self,
        metrics: Sequence[tuple[str, float, Mapping[str, str] | None, Any]] = (),
        events: Sequence[tuple[str, Any]] = (),
        *,
        seq: int | None = None,
    ) -> None:
        """Record many custom metrics ``(name, value, tags, time)`` and events
        ``(name, time)`` at once; ``seq`` as in :meth:`log`. Never raises: a bad entry
        rejects the call, counted with its reason."""
        try:
            now = self.clock.now()
            items: dict[float, list[tuple[str, str, float]]] = {}
            newest = -math.inf
            for name, value, tags, timestamp in metrics:
                ts = now if timestamp is None else to_epoch(timestamp, "timestamp")
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
                start = math.floor(ts / self.window_seconds) * self.window_seconds
                items.setdefault(start, []).append(("metric", key, number))
                newest = max(newest, ts)
            for name, timestamp in events:
                ts = now if timestamp is None else to_epoch(timestamp, "timestamp")
                start = math.floor(ts / self.window_seconds) * self.window_seconds
                items.setdefault(start, []).append(("event", str(name), 1.0))
                newest = max(newest, ts)
            with self._lock:
                for start, entries in sorted(items.items()):
                    state = self._side_state(start, len(entries))
                    if state is None or (seq is not None and seq <= state.max_seq):
                        continue
                    for kind, key, number in entries:
                        if kind == "metric":
                            state.add_custom(key, number)
                        else:
                            state.add_event(key)
                    if seq is not None:
                        state.max_seq = seq
                if items:
                    self._advance(newest)
        except Exception as exc:
            self._reject("log_signals", exc)

    def _side_state(self, start: float, n: int) -> WindowState | None:
        if self.schema is None:
            self._adopt_schema(Schema(()))
        return None if self._too_late(start, n) else self._state_for(start)

    @property
    def reference(self) -> ReferenceContext | None:
        """The current reference: its store id, profile and fitted drift detector."""
        return self._reference

    @property
    def watermark(self) -> float:
        """Event time so far: windows ending ``grace`` before it are closed."""
        return self._watermark

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
