"""The Monitor: predictions in, windowed profiles and metric points out, in constant memory.

A facade over plain parts, one module each, wired in :mod:`watchkeeper.monitor.parts`:
options (``config``), schema and references (``baseline``), rows into window states
(``ingest``), window arithmetic (``windows``), saving closed windows and analysing them
off the caller's thread (``closing``, ``background``, ``analyser``; each a
``ClosedWindow`` event), labels and rejections.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Unpack

from watchkeeper.descriptors import Describer
from watchkeeper.monitor.clock import Clock, SystemClock
from watchkeeper.monitor.config import MonitorConfig, MonitorOptions, resolve_config, valid_name
from watchkeeper.monitor.embedding_drift import (
    EmbeddingWindowDrift,
    embedding_columns,
    embedding_config,
)
from watchkeeper.monitor.estimation import Estimation, FittedEstimator
from watchkeeper.monitor.events import Listener
from watchkeeper.monitor.labels import LabelReport
from watchkeeper.monitor.parts import MonitorParts, ReadOnly, default_writer
from watchkeeper.monitor.query import metrics_frame
from watchkeeper.profile import DatasetProfile
from watchkeeper.schema import Schema
from watchkeeper.store import Store, open_store
from watchkeeper.units import to_epoch

__all__ = ["LabelReport", "Monitor"]


class Monitor:
    """Monitor one model version in production.

    Parameters
    ----------
    model, version
        What is monitored; each version has its own series.
    config
        The validated options (:meth:`MonitorConfig.from_options`), or give them as
        keywords: ``window``, ``grace``, ``rollups``, ``outputs``, ``task``, ``positive``,
        ``drift`` (a :class:`DriftConfig` or a mapping of its fields),
        ``column_methods``, ``retention``, ``window_retention``, ``batch_size``,
        ``max_future_skew``, ``protected_series``, ``multivariate`` (``True`` or a
        :class:`~watchkeeper.stats.multivariate.MultivariateConfig` or a mapping of its
        fields), ``reservoir_size``, ``segments`` (segment columns, e.g.
        ``["region", "channel"]``), ``segment_top_k``; not both.
    schema, reference
        Columns, kinds and roles (default: the reference's, else inferred); what "normal"
        looks like: data, a file path or a :class:`DatasetProfile` (default: the latest
        stored for this version). Columns declared ``image``, ``audio``, ``embedding``
        (or ``text`` with ``descriptors``) are logged raw and monitored as their
        descriptors ``column.descriptor`` (:mod:`watchkeeper.descriptors`), computed in
        ``log()`` on the caller's thread; a raw reference is described the same way.
    store
        A :class:`Store` or URL (``sqlite:///…``, ``postgresql+psycopg://…``, ``memory://``).
    clock, writer
        Time source; this process's name among several writers of one store.

    Notes
    -----
    Rows are folded into tumbling windows by event time. A window closes when event time
    (or the clock, through ``tick()``) passes its end plus grace: its state is saved as
    this writer's partial; then, on the monitor's analyser thread, all writers' partials
    are merged and analysed, and subscribers get a :class:`ClosedWindow`. Later rows
    correct it; coarser windows merge finer ones. ``log()`` never runs an analysis, and
    ``log()`` of one row only appends (every ``batch_size`` rows are folded in on the
    analyser thread), so the caller's worst call stays in microseconds; ``tick()``,
    ``flush()``, ``metrics()`` and :meth:`wait_analysed` return once every window closed
    so far is analysed, so results are the same on a loaded machine, only later. Event
    times beyond the clock + ``max_future_skew`` are rejected (:attr:`future_rejected`).
    Every method but ``log()`` of one row takes the monitor's lock, so threads may share
    one monitor.

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
        config: MonitorConfig | None = None,
        schema: Schema | Mapping[str, Any] | None = None,
        reference: Any = None,
        store: Store | str = "sqlite:///watchkeeper.db",
        clock: Clock | None = None,
        writer: str | None = None,
        **options: Unpack[MonitorOptions],
    ) -> None:
        self.model, self.version = valid_name("model", model), valid_name("version", version)
        # an embedding column turns a row sample on, for its per-window MMD drift
        embeddings = embedding_columns(schema)
        given = config is not None or options.get("reservoir_size") is not None
        config = embedding_config(
            resolve_config(config, options), embeddings, reservoir_given=given
        )
        self.config = config
        self.window_seconds, self.grace_seconds = config.window_seconds, config.grace_seconds
        self.rollup_seconds, self.drift_config = list(config.rollup_seconds), config.drift
        self.clock = clock = clock or SystemClock()
        self.writer = writer or default_writer()
        self.store = open_store(store)
        self._lock = threading.RLock()
        self._closed = False
        self._parts = MonitorParts.build(
            self.store, model, version, self.writer, config, clock, lock=self._lock
        )
        # raw media (images, audio, embeddings, described text) become descriptor columns
        self._describer = Describer.for_schema(schema)
        self._parts.ingestion.describe = self._describer
        reference = self._described_reference(reference)
        self._parts.baseline.start(reference, schema, now=clock.now())
        self._parts.segments.check(self._parts.baseline.schema)
        self._learn_segments(reference)
        self._estimation = Estimation(self.store, model, version, config.window_seconds)
        self._parts.analyser.estimation = self._parts.ingestion.estimation = self._estimation
        if embeddings and config.reservoir_size:
            self._parts.analyser.embedding = EmbeddingWindowDrift(
                embeddings, config.drift.false_alarm_rate
            )

    def _described_reference(self, reference: Any) -> Any:
        """A raw reference with its media replaced by descriptors (which learn from it:
        the text vocabulary, the embedding dimension); files and profiles as they are."""
        describer = self._describer
        if describer is None or isinstance(reference, str | PathLike | DatasetProfile | None):
            return reference
        return describer.fit(reference).columns(reference)

    def fit_estimator(
        self, reference: Any, labels: Any, *, classes: Sequence[Any] | None = None
    ) -> FittedEstimator:
        """Estimate performance while labels are late, from labelled reference rows:
        ``reference`` holds features and outputs as :meth:`log` takes them (a classifier's
        ``score`` or ``proba_<class>`` outputs, a regressor's ``prediction``), ``labels``
        the truth of each row; ``classes`` names the probability columns' classes when
        their suffixes are not the labels. Windows closing from now on get
        ``estimated_*`` points with intervals, checked against their labels when they
        come (:mod:`watchkeeper.monitor.estimation`); a window open at the fit is
        estimated from the rows logged after it. The estimate assumes P(y | x) is
        unchanged since the reference.

        Raises
        ------
        ConfigError
            The task is unknown or the reference lacks what its estimator reads.
        """
        with self._lock:
            baseline = self._parts.baseline
            return self._estimation.fit(
                reference, labels, baseline.task, baseline.schema, classes=classes
            )

    def set_reference(self, reference: Any, *, schema: Schema | None = None) -> int:
        """Use a new reference for the windows that open from now on; returns its id.
        Past metric points keep the id of the reference they were computed against."""
        with self._lock:
            baseline = self._parts.baseline
            reference = self._described_reference(reference)
            ref_id = baseline.set_reference(reference, schema=schema, now=self.clock.now())
            self._learn_segments(reference)
            return ref_id

    def _learn_segments(self, reference: Any) -> None:
        """Profile the reference's rows per segment (segments configured, data given)."""
        baseline = self._parts.baseline
        ref = baseline.reference
        if ref is not None:
            self._parts.segments.learn(ref.id, reference, ref.profile, baseline.task)

    def log(
        self,
        features: Any,
        outputs: Any = None,
        *,
        ids: Any = None,
        timestamps: Any = None,
        latency: Any = None,
        error: Any = None,
        tags: Mapping[str, str] | Sequence[Mapping[str, str] | None] | None = None,
        seq: int | None = None,
    ) -> None:
        """Record predictions: one row (a dict of feature values) or a batch; ``tags``
        of a batch is one tag set for all its rows or one per row.

        ``seq`` is a write-ahead-log sequence number (the collector's): a window that has
        already folded in a batch with this or a higher number skips it, so replaying a
        log after a crash counts every row once. Batches with ``seq`` must come in order.
        Never raises: a batch that cannot be read is counted in :attr:`rejected_calls`
        with its reason in :attr:`recent_issues`; bad values are counted per column.
        """
        args = (features, outputs, ids, timestamps, latency, error, tags, seq)
        try:
            if self._parts.ingestion.offer(*args):  # one row: appended, no monitor lock
                return
            with self._lock:
                self._parts.ingestion.log(*args)
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
        """Record custom metrics ``(name, value, tags, time)`` and events ``(name, time)``;
        ``seq`` as in :meth:`log`. Never raises: a bad entry rejects the call, counted."""
        try:
            with self._lock:
                self._parts.ingestion.signals(metrics, events, seq)
        except Exception as exc:
            self._reject("log_signals", exc)

    def log_labels(self, ids: Any, labels: Any, timestamps: Any = None) -> LabelReport:
        """Join ground truth to earlier predictions by id and recompute the performance of
        the closed (and coarser) windows they fell in; unknown and already-labelled ids
        are reported. Never raises: a call that cannot be read is counted."""
        try:
            with self._lock:
                self._parts.ingestion.drain()
                # the pending analyses run first, so none overwrites the new performance
                self._parts.predictions.save()
                return self._parts.labels.join(ids, labels, timestamps)
        except Exception as exc:
            self._reject("log_labels", exc)
            return LabelReport(0, 0, (), (), 0)

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
        """Metric points as a pandas DataFrame: ``name`` (``None``: all), window starts in
        ``[since, until)``, ``window`` the base size or a rollup, ``version`` this one by
        default (``"*"``: all), label filters such as ``feature="age"``. Columns
        ``window_start``, ``window_end`` (UTC), ``version``, ``name``, ``value``,
        ``reference_id`` and one per label. Waits until every window closed so far is
        analysed."""
        self._parts.background.wait()
        query = (since, until, window, version or self.version, labels)
        return metrics_frame(self.store, self.model, self.config, name, *query)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(ClosedWindow)`` for every window closed from now on (base
        windows, corrections, rollups), after its state and points are in the store,
        oldest first. It runs on the monitor's analyser thread, so it must be cheap and
        thread-safe (enqueue, don't work) and must not log into this monitor (reading,
        such as :meth:`metrics`, is fine); one that raises is logged and counted in
        :attr:`listener_errors`."""
        with self._lock:
            self._parts.listeners.subscribe(listener)

    def tick(self, now: Any = None) -> None:
        """Let time pass: close the windows whose grace has ended by ``now`` (default: the
        clock) and save the kept predictions; returns once every window closed so far is
        analysed and published. A server calls this periodically so quiet windows close."""
        with self._lock:
            self._parts.ingestion.drain()
            self._parts.closer.advance(self.clock.now() if now is None else to_epoch(now, "now"))
            self._parts.predictions.hand_off()
        self._parts.background.wait()

    def flush(self) -> None:
        """Close every open window now (end of a run, shutdown); returns once all are
        analysed and published and every kept prediction is saved."""
        with self._lock:
            self._parts.ingestion.drain()
            self._parts.closer.flush()
        self._parts.background.wait()

    def wait_analysed(self, timeout: float | None = None) -> bool:
        """Block until every window closed so far is analysed and published and the kept
        predictions handed off are saved; ``False`` if ``timeout`` seconds passed first."""
        return self._parts.background.wait(timeout)

    def close(self) -> None:
        """Flush, stop the analyser thread and release the store; safe to call twice."""
        if not self._closed:
            self.flush()
            self._closed = True
            self._parts.background.close()
            self.store.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reject(self, where: str, exc: Exception) -> None:
        with self._lock:
            self._parts.issues.reject(where, exc, now=self.clock.now())

    @property
    def fitted_estimator(self) -> FittedEstimator | None:
        """What :meth:`fit_estimator` learnt (method, rows, reference performance);
        ``None`` before."""
        return self._estimation.fitted

    @property
    def unsaved_seq(self) -> int | None:
        """The lowest ``seq`` logged whose rows or kept predictions are not all saved in
        the store yet; ``None`` when all are. A write-ahead log may drop records below it."""
        with self._lock:
            return self._parts.unsaved_seq

    # read-only views of the parts (one line each: the docs are the parts' attributes)
    reference = ReadOnly(lambda p: p.baseline.reference, "The current reference (id, profile).")
    reference_id = ReadOnly(lambda p: p.baseline.reference_id, "The current reference's id.")
    schema = ReadOnly(lambda p: p.baseline.schema, "The monitored columns (None: not yet).")
    task = ReadOnly(lambda p: p.baseline.task, "What the model predicts (for performance).")
    watermark = ReadOnly(lambda p: p.windows.watermark, "Event time so far.")
    last_closed = ReadOnly(lambda p: p.windows.last_closed, "Newest closed base window start.")
    rejected_calls = ReadOnly(lambda p: p.issues.rejected_calls, "Calls that recorded nothing.")
    late_dropped = ReadOnly(lambda p: p.issues.late_dropped, "Rows past window_retention.")
    future_rejected = ReadOnly(
        lambda p: p.issues.future_rejected, "Rows and signals beyond the clock + skew."
    )
    analysis_errors = ReadOnly(lambda p: p.issues.analysis_errors, "Failed window analyses.")
    recent_issues = ReadOnly(lambda p: p.issues.recent, "Latest rejected calls, data issues.")
    listener_errors = ReadOnly(lambda p: p.listeners.errors, "Listener calls that raised.")
