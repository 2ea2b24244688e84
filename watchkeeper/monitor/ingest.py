"""Rows in: the single-row buffer, validation, and folding into windows by event time."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from watchkeeper._batch import Columns, to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.estimation import Estimation
from watchkeeper.monitor.issues import Issues
from watchkeeper.monitor.predictions import PendingPredictions
from watchkeeper.monitor.window import WindowState
from watchkeeper.monitor.windows import Windows
from watchkeeper.schema import Schema, infer_schema, validate
from watchkeeper.store import labels_key
from watchkeeper.units import to_epoch, to_timestamps

__all__ = ["Ingestion"]

Row = tuple[Any, Any, Any, Any, Any, Any, Any]
"""One buffered ``log()`` call: features, outputs, id, time, latency, error, tags."""


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

    Notes
    -----
    Not thread-safe; the Monitor calls it under its lock.
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
    ) -> None:
        self.baseline = baseline
        self.windows = windows
        self.predictions = predictions
        self.issues = issues
        self.now = now
        self.batch_size = batch_size
        self.on_time = on_time
        self._rows: list[Row] = []
        self.estimation: Estimation | None = None
        """Keeps what the performance estimate needs of each window (set by the Monitor)."""

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
        if seq is None and isinstance(features, Mapping) and _is_row(features):
            ts = self.now() if timestamps is None else timestamps
            self._rows.append((features, outputs, ids, ts, latency, error, tags))
            if len(self._rows) >= self.batch_size:
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

    def drain(self) -> None:
        """Fold the buffered rows in as one batch (a bad batch is rejected and counted)."""
        rows, self._rows = self._rows, []
        if not rows:
            return
        n = len(rows)
        try:
            columns, _ = to_columns([r[0] for r in rows])
            outs = [_inputs.row_outputs(r[1]) for r in rows]
            out_columns: Columns = to_columns(outs)[0] if any(outs) else {}
            ids = [None if r[2] is None else str(r[2]) for r in rows]
            ts = to_timestamps([r[3] for r in rows], n, self.now())
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
            )
        except Exception as exc:
            self.issues.reject("log", exc, now=self.now())

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
    ) -> None:
        """Validate a batch and fold it into the windows of its rows' event times."""
        if n == 0:
            return
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
        ahead = self._future(ts)
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
            self.baseline.adopt_schema(schema, now=self.now())
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
            )
        if ids is not None:
            self.predictions.keep(columns, ids, ts, self.baseline.task, seq)
        self.on_time(float(ts.max()))

    def _future(self, ts: np.ndarray) -> np.ndarray | None:
        """The mask of event times beyond the clock + ``max_future_skew`` (counted as
        rejected); ``None`` when there are none."""
        now = self.now()
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
    ) -> None:
        state.profile.update_validated(batch, timestamps=ts if idx is None else ts[idx])
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

    def signals(
        self,
        metrics: Sequence[tuple[str, float, Mapping[str, str] | None, Any]],
        events: Sequence[tuple[str, Any]],
        seq: int | None,
    ) -> None:
        """Fold custom metrics ``(name, value, tags, time)`` and events ``(name, time)``
        into their windows; a bad entry raises before anything is folded."""
        now = self.now()
        limit = now + self.windows.config.max_future_skew_seconds
        protected = self.windows.config.protected_series
        items: dict[float, list[tuple[str, str, float]]] = {}
        ahead: list[float] = []
        newest = -math.inf
        for name, value, tags, timestamp in metrics:
            ts = _signal_time(timestamp, now)
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
            if ts > limit:
                ahead.append(ts)
                continue
            kind = "protected" if str(name) in protected else "metric"
            items.setdefault(self.windows.start_of(ts), []).append((kind, key, number))
            newest = max(newest, ts)
        for name, timestamp in events:
            ts = _signal_time(timestamp, now)
            if ts > limit:
                ahead.append(ts)
                continue
            items.setdefault(self.windows.start_of(ts), []).append(("event", str(name), 1.0))
            newest = max(newest, ts)
        if ahead:
            self.issues.from_future(len(ahead), max(ahead), now, limit - now, call="log_signals")
        if items and self.baseline.schema is None:
            self.baseline.adopt_schema(Schema(()), now=now)
        for start, entries in sorted(items.items()):
            state = self._target(start, len(entries), seq)
            if state is None:
                continue
            for kind, key, number in entries:
                if kind == "event":
                    state.add_event(key)
                else:
                    state.add_custom(key, number, protected=kind == "protected")
        if items:
            self.on_time(newest)


def _signal_time(timestamp: Any, now: float) -> float:
    """The event time of a custom metric or event (``None``: now; ``+inf``: beyond any
    bound, so it is rejected as from the future rather than failing the call)."""
    if timestamp is None:
        return now
    if isinstance(timestamp, float) and timestamp == math.inf:
        return math.inf
    return to_epoch(timestamp, "timestamp")
