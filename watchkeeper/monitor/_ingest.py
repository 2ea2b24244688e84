"""Rows in: the single-row buffer, validation, and folding into windows by event time."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from watchkeeper._batch import Columns, to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor._lifecycle import WindowLifecycle
from watchkeeper.monitor.analysis import Task
from watchkeeper.schema import Schema, infer_schema, validate
from watchkeeper.store import Prediction, labels_key
from watchkeeper.units import to_epoch, to_timestamps

__all__ = ["Ingestion"]


class Ingestion(WindowLifecycle):
    """Turning logged rows into window states, and letting time pass."""

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
        seq: int | None = None,
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
            state = self._state_for(start)
            if seq is not None:
                if seq <= state.max_seq:
                    continue  # a replayed batch this window has already counted
                state.max_seq = seq
            part = columns if idx is None else _inputs.take(columns, idx)
            batch = validate(part, self.schema, strict=False, allow_extra=True)
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

    def tick(self, now: Any = None) -> None:
        """Let time pass: close the windows whose grace has ended by ``now`` (default: the
        clock). A server calls this periodically so quiet windows still close."""
        with self._lock:
            self._drain()
            self._advance(self.clock.now() if now is None else to_epoch(now, "now"))
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
