"""Rows in: the single-row buffer, validation, and folding into windows by event time."""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from watchkeeper._batch import Columns, to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.background import Background
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.estimation import Estimation
from watchkeeper.monitor.issues import Issues
from watchkeeper.monitor.multivariate import sample_columns
from watchkeeper.monitor.predictions import PendingPredictions
from watchkeeper.monitor.segments import SegmentPart
from watchkeeper.monitor.signals import fold_signals
from watchkeeper.monitor.window import WindowState
from watchkeeper.monitor.windows import Windows
from watchkeeper.schema import ValidatedBatch, infer_schema, validate
from watchkeeper.store import labels_key
from watchkeeper.units import to_timestamps

__all__ = ["MAX_HANDED", "Ingestion"]

Row = tuple[Any, Any, Any, Any, Any, Any, Any]
"""One buffered ``log()`` call: features, outputs, id, time, latency, error, tags."""


MAX_HANDED = 64
"""Full buffers waiting for the background at most; when logging outpaces folding (about
100,000 rows/s of 25 features per core), the caller that fills one more folds the backlog
itself, so the rows waiting stay bounded (64 x ``batch_size``)."""

_LOCK_WAIT_SECONDS = 0.02
"""How long a fold job waits for the monitor's lock before it yields to the jobs queued
behind it."""


def _is_row(features: Mapping[str, Any]) -> bool:
    """One row (a dict of scalars) rather than a dict of columns; judged by the first
    value so the check costs the same whatever the width."""
    for value in features.values():
        return isinstance(value, str | bytes) or not hasattr(value, "__len__")
    return True


class Ingestion:
    """Turns logged rows and signals into window states.

    Parameters
    ----------
    baseline
        The schema rows are validated against (adopted from the first batch if unknown).
    windows
        Where rows are folded, by event time.
    predictions
        Where predictions with ids are kept for the label join.
    issues
        Where rejected calls, bad values and rows too late to count are recorded.
    now
        The clock: the event time of rows logged without one.
    batch_size
        Single rows buffered before one vectorised update.
    on_time
        Called with the newest event time of every batch folded in (to close windows).
    segments
        Per-segment profiles and the segments kept with predictions (``None``: none).
    background, lock
        Where full buffers of single rows are folded in (off the caller's thread), and
        the monitor's lock that folding takes; without a background, :meth:`offer`
        declines and rows are folded by the caller (:meth:`log`).

    Notes
    -----
    :meth:`offer` is the caller's hot path: it takes only the buffer's own lock, appends,
    and every ``batch_size`` rows swaps the buffer out and hands it to the background,
    which folds it in under the monitor's lock. Every other method runs under the
    monitor's lock and first folds the buffers handed off and not folded yet, in order, so
    rows are folded in the order they were logged, in the same batches, with the clock
    read when their buffer filled: the results are those of folding inline, only later.
    """

    def __init__(
        self,
        baseline: Baseline,
        windows: Windows,
        predictions: PendingPredictions,
        issues: Issues,
        *,
        now: Callable[[], float],
        batch_size: int,
        on_time: Callable[[float], None],
        segments: SegmentPart | None = None,
        background: Background | None = None,
        lock: threading.RLock | None = None,
    ) -> None:
        self.segments = segments
        self.baseline = baseline
        self.windows = windows
        self.predictions = predictions
        self.issues = issues
        self.now = now
        self.batch_size = batch_size
        self.on_time = on_time
        self.background = background
        self.lock = threading.RLock() if lock is None else lock
        self._rows: list[Row] = []
        self.describe: Callable[[Any], Any] | None = None
        """Replaces raw media by descriptor columns (:mod:`watchkeeper.descriptors`)."""
        self._buffer_lock = threading.Lock()
        # full buffers handed to the background, with the clock when they filled; numbered
        # so a fold job whose buffer someone else already folded has nothing to do
        self._handed: collections.deque[tuple[int, list[Row], float]] = collections.deque()
        self._handed_count = 0
        self._folded_count = 0
        self.estimation: Estimation | None = None
        """Keeps what the performance estimate needs of each window (set by the Monitor)."""

    def offer(
        self,
        features: Any,
        outputs: Any,
        ids: Any,
        timestamps: Any,
        latency: Any,
        error: Any,
        tags: Mapping[str, str] | Sequence[Mapping[str, str] | None] | None,
        seq: int | None,
    ) -> bool:
        """Buffer one row without the monitor's lock (the caller's hot path); ``False``
        when this is not one row (or there is no background): call :meth:`log`."""
        if (
            seq is not None
            or self.background is None
            or self.describe is not None  # raw media are described by log()
            or not isinstance(features, Mapping)
            or not _is_row(features)
        ):
            return False
        ts = self.now() if timestamps is None else timestamps
        with self._buffer_lock:
            self._rows.append((features, outputs, ids, ts, latency, error, tags))
            if len(self._rows) < self.batch_size:
                return True
            rows, self._rows = self._rows, []
            number = self._handed_count
            self._handed_count += 1
            self._handed.append((number, rows, self.now()))
            backlog = len(self._handed) > MAX_HANDED
        if backlog:  # logging outpaces folding: fold here, so memory stays bounded
            with self.lock:
                self.fold_handed()
            return True
        background = self.background
        background.submit(lambda: self._fold_job(number, background))
        return True

    def _fold_job(self, number: int, background: Background) -> None:
        """Fold handed buffers up to ``number`` (on the background); when the monitor's
        lock is busy, try again after the jobs queued behind (its holder may wait on them)."""
        if self._folded_count > number:  # folded already (by a flush, a tick, a batch)
            return
        if not self.lock.acquire(timeout=_LOCK_WAIT_SECONDS):
            background.submit(lambda: self._fold_job(number, background))
            return
        try:
            self.fold_handed()
        finally:
            self.lock.release()

    def fold_handed(self) -> None:
        """Fold in the buffers handed to the background and not folded yet, oldest first
        (under the monitor's lock)."""
        while True:
            with self._buffer_lock:
                if not self._handed:
                    return
                number, rows, now = self._handed.popleft()
                self._folded_count = number + 1
            self._fold_rows(rows, now)

    def log(
        self,
        features: Any,
        outputs: Any,
        ids: Any,
        timestamps: Any,
        latency: Any,
        error: Any,
        tags: Mapping[str, str] | Sequence[Mapping[str, str] | None] | None,
        seq: int | None,
    ) -> None:
        """Take what ``Monitor.log()`` was given: one row is buffered (every
        ``batch_size`` rows become one batch), a batch is read and folded in at once.

        Raises
        ------
        Exception
            The batch cannot be read (the Monitor counts it as a rejected call).
        """
        self.fold_handed()
        if self.describe is not None:
            features = self.describe(features)
        if seq is None and isinstance(features, Mapping) and _is_row(features):
            ts = self.now() if timestamps is None else timestamps
            with self._buffer_lock:
                self._rows.append((features, outputs, ids, ts, latency, error, tags))
                full = len(self._rows) >= self.batch_size
            if full:
                self.drain()
            return
        self.log_batch(
            features,
            outputs,
            ids=ids,
            timestamps=timestamps,
            latency=latency,
            error=error,
            tags=tags,
            seq=seq,
        )

    def has_buffered_rows(self) -> bool:
        """Whether single rows wait in the buffer (not yet folded)."""
        with self._buffer_lock:
            return bool(self._rows)

    def drain(self) -> None:
        """Fold in the buffers handed off, then the buffered rows as one batch (a bad
        batch is rejected and counted)."""
        self.fold_handed()
        with self._buffer_lock:
            rows, self._rows = self._rows, []
        if rows:
            self._fold_rows(rows, self.now())

    def _fold_rows(self, rows: list[Row], now: float) -> None:
        """Fold one buffer of single rows in as one batch, ``now`` being the clock when
        it filled."""
        n = len(rows)
        try:
            columns, _ = to_columns([r[0] for r in rows])
            outs = [_inputs.row_outputs(r[1]) for r in rows]
            out_columns: Columns = to_columns(outs)[0] if any(outs) else {}
            ids = [None if r[2] is None else str(r[2]) for r in rows]
            ts = to_timestamps([r[3] for r in rows], n, now)
            lat = np.array(
                [math.nan if r[4] is None else float(r[4]) for r in rows], dtype=np.float64
            )
            errors = [(_inputs.error_kinds(r[5], 1) or [""])[0] for r in rows]
            self.batch(
                columns,
                out_columns,
                n,
                ids=ids if any(i is not None for i in ids) else None,
                ts=ts,
                latency=lat,
                errors=errors if any(errors) else [],
                tags=[r[6] for r in rows] if any(r[6] for r in rows) else None,
                now=now,
            )
        except Exception as exc:
            self.issues.reject("log", exc, now=now)

    def log_batch(
        self,
        features: Any,
        outputs: Any,
        *,
        ids: Any,
        timestamps: Any,
        latency: Any,
        error: Any,
        tags: Mapping[str, str] | Sequence[Mapping[str, str] | None] | None,
        seq: int | None,
    ) -> None:
        """Read a batch in the forms ``Monitor.log()`` takes and fold it in; ``tags`` is
        one tag set for every row or one per row."""
        columns, n = to_columns(features)
        per_row: Sequence[Mapping[str, str] | None] | None
        if tags is None or isinstance(tags, Mapping):
            per_row = [tags] * n if tags else None
        else:
            per_row = list(tags)
            if len(per_row) != n:
                raise ConfigError(
                    f"tags: {len(per_row)} tag sets for {n} rows; expected one per row",
                    field="tags",
                    value=len(per_row),
                    expected=str(n),
                )
        self.batch(
            columns,
            _inputs.batch_outputs(outputs, n),
            n,
            ids=None if ids is None else [None if i is None else str(i) for i in ids],
            ts=to_timestamps(timestamps, n, self.now()),
            latency=_inputs.latencies(latency, n),
            errors=_inputs.error_kinds(error, n),
            tags=per_row if per_row is not None and any(per_row) else None,
            seq=seq,
        )

    def batch(
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
        seq: int | None = None,
        now: float | None = None,
    ) -> None:
        """Validate a batch and fold it into the windows of its rows' event times
        (``now``: the clock when the batch was logged, default now)."""
        if n == 0:
            return
        now = self.now() if now is None else now
        if ids is not None and len(ids) != n:
            raise ConfigError(
                f"ids: {len(ids)} ids for {n} rows; expected one per row",
                field="ids",
                value=len(ids),
                expected=str(n),
            )
        columns = dict(features)
        for name, col in outputs.items():
            columns[name] = col
        ahead = self._future(ts, now)
        if ahead is not None:  # rows beyond the clock + skew are left out, counted
            kept = np.flatnonzero(~ahead)
            rows = kept.tolist()
            n = len(rows)
            if n == 0:
                return
            columns = _inputs.take(columns, kept)
            ids = None if ids is None else [ids[i] for i in rows]
            ts = ts[kept]
            latency = None if latency is None else latency[kept]
            errors = [errors[i] for i in rows] if errors else errors
            tags = None if tags is None else [tags[i] for i in rows]
        schema = self.baseline.schema
        if schema is None:
            roles = {name: "output" for name in outputs}
            schema = infer_schema(columns, roles=roles)  # type: ignore[arg-type]
            self.baseline.adopt_schema(schema, now=now)
        for start, idx in self._groups(ts):
            m = n if idx is None else len(idx)
            state = self._target(start, m, seq)
            if state is None:
                continue
            part = columns if idx is None else _inputs.take(columns, idx)
            if self.estimation is not None:
                self.estimation.add(start, part, m)
            self._fold(
                state,
                start,
                validate(part, schema, strict=False, allow_extra=True),
                m,
                idx,
                ts=ts,
                latency=latency,
                errors=errors,
                tags=tags,
                ids=ids,
            )
        if ids is not None:
            segs = None if self.segments is None else self.segments.row_segments(columns, n)
            self.predictions.keep(columns, ids, ts, self.baseline.task, seq, segments=segs)
        self.on_time(float(ts.max()))

    def _future(self, ts: np.ndarray, now: float) -> np.ndarray | None:
        """The mask of event times beyond the clock + ``max_future_skew`` (counted as
        rejected); ``None`` when there are none."""
        limit = now + self.windows.config.max_future_skew_seconds
        if not ts.size or ts.max() <= limit:
            return None
        ahead = ts > limit
        self.issues.from_future(int(ahead.sum()), float(ts.max()), now, limit - now)
        return ahead

    def _groups(self, ts: np.ndarray) -> list[tuple[float, np.ndarray | None]]:
        size = self.windows.config.window_seconds
        starts = np.floor(ts / size) * size
        if starts[0] == starts.min() == starts.max():
            return [(float(starts[0]), None)]
        uniq, inverse = np.unique(starts, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
        return [(float(u), order[bounds[i] : bounds[i + 1]]) for i, u in enumerate(uniq)]

    def _target(self, start: float, n: int, seq: int | None) -> WindowState | None:
        if self.windows.too_late(start):
            self.issues.too_late(start, n, self.windows.config.window_retention_seconds)
            return None
        return self.windows.state_for(start, seq)

    def _fold(
        self,
        state: WindowState,
        start: float,
        batch: Any,
        m: int,
        idx: np.ndarray | None,
        *,
        ts: np.ndarray,
        latency: np.ndarray | None,
        errors: list[str],
        tags: Sequence[Mapping[str, str] | None] | None,
        ids: Sequence[str | None] | None = None,
    ) -> None:
        self.apply_batch(state, batch, ts if idx is None else ts[idx], ids=ids, idx=idx)
        state.requests += m
        for issue in batch.issues:
            example = f"{issue.example} in row {issue.row}" if issue.example else ""
            state.add_issue(issue.column, issue.problem, issue.count, example)
            self.issues.add(
                start,
                "log",
                issue.column,
                issue.problem,
                f"{issue.count} rows: {example or issue.problem}",
            )
        if latency is not None:
            state.add_latencies(latency if idx is None else latency[idx])
        if errors:
            state.add_errors(k for k in (errors if idx is None else [errors[i] for i in idx]) if k)
        if tags is not None:
            for row_tags in tags if idx is None else [tags[i] for i in idx]:
                if row_tags:
                    state.add_tagged(labels_key(row_tags), 1)

    def apply_batch(
        self,
        state: WindowState,
        batch: ValidatedBatch,
        ts: np.ndarray,
        *,
        ids: Sequence[str | None] | None = None,
        idx: np.ndarray | None = None,
    ) -> None:
        """The per-batch profile update: feed one window's profiles the validated rows of
        one batch (``ts``: their event times; ``ids``/``idx``: the whole batch's ids and
        which of its rows fall in this window), vectorised. Anything else profiled per
        batch (the row reservoir, segment profiles) is fed here, next to the dataset
        profile."""
        state.profile.update_validated(batch, timestamps=ts)
        if state.sample is not None:
            state.sample.add(sample_columns(batch.columns, ids, idx), len(ts))
        SegmentPart.fold(state, batch, ts)

    def signals(
        self,
        metrics: Sequence[tuple[str, float, Mapping[str, str] | None, Any]],
        events: Sequence[tuple[str, Any]],
        seq: int | None,
    ) -> None:
        """Fold custom metrics ``(name, value, tags, time)`` and events ``(name, time)``
        into their windows (:func:`watchkeeper.monitor.signals.fold_signals`)."""
        self.fold_handed()
        fold_signals(self, metrics, events, seq)

    def target(self, start: float, n: int, seq: int | None) -> WindowState | None:
        """The open state of the window starting at ``start`` that ``n`` entries of
        sequence ``seq`` go to (``None``: too late, or already folded)."""
        return self._target(start, n, seq)
