"""An in-memory :class:`~watchkeeper.store.base.Store`: for tests, notebooks and demos.

Same behaviour as the SQL store (the contract suite checks both), nothing persisted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from watchkeeper.errors import StoreError
from watchkeeper.store.base import (
    AlertRecord,
    Labelled,
    MetricPoint,
    Prediction,
    SeriesRow,
    SilenceRecord,
    VersionInfo,
    WindowKey,
    labels_key,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keep everything in dictionaries, guarded by one lock.

    Examples
    --------
    >>> from watchkeeper.store.base import MetricPoint
    >>> store = MemoryStore()
    >>> store.write_points([MetricPoint("m", "1", 0.0, 60.0, "requests", 3.0)], now=0.0)
    >>> [p.value for p in store.query_points("m", "requests")]
    [3.0]
    """

    def __init__(self) -> None:
        self.url = "memory://"
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, str], VersionInfo] = {}
        self._references: list[tuple[str, str, bytes]] = []
        self._windows: dict[WindowKey, dict[str, bytes]] = {}
        self._points: dict[tuple[str, str, float, float, str, str], MetricPoint] = {}
        self._predictions: dict[tuple[str, str], Prediction] = {}
        self._labels: dict[tuple[str, str], tuple[str, float]] = {}
        self._alerts: dict[int, AlertRecord] = {}
        self._silences: list[SilenceRecord] = []

    def register_version(
        self, model: str, version: str, schema: Mapping[str, object], *, now: float
    ) -> None:
        with self._lock:
            self._versions.setdefault(
                (model, version), VersionInfo(model, version, dict(schema), now)
            )

    def versions(self, model: str | None = None) -> list[VersionInfo]:
        with self._lock:
            found = [v for v in self._versions.values() if model is None or v.model == model]
        return sorted(found, key=lambda v: (v.created_at, v.model, v.version))

    def save_reference(self, model: str, version: str, profile: bytes, *, now: float) -> int:
        with self._lock:
            self._references.append((model, version, bytes(profile)))
            return len(self._references)

    def latest_reference(self, model: str, version: str) -> tuple[int, bytes] | None:
        with self._lock:
            for i in range(len(self._references), 0, -1):
                m, v, blob = self._references[i - 1]
                if (m, v) == (model, version):
                    return i, blob
        return None

    def reference(self, reference_id: int) -> bytes:
        with self._lock:
            if not 1 <= reference_id <= len(self._references):
                raise StoreError(
                    f"reference {reference_id!r}: not in the store; expected a saved id",
                    field="reference_id",
                    value=reference_id,
                    expected=f"1..{len(self._references)}",
                )
            return self._references[reference_id - 1][2]

    def save_window(self, key: WindowKey, writer: str, blob: bytes, *, now: float) -> None:
        with self._lock:
            self._windows.setdefault(key, {})[writer] = bytes(blob)

    def window_partials(self, key: WindowKey) -> dict[str, bytes]:
        with self._lock:
            return dict(self._windows.get(key, {}))

    def window_starts(
        self, model: str, version: str, seconds: float, since: float, until: float
    ) -> list[float]:
        with self._lock:
            return sorted(
                k.start
                for k in self._windows
                if (k.model, k.version, k.seconds) == (model, version, seconds)
                and since <= k.start < until
            )

    def purge_windows(self, model: str, seconds: float, before: float) -> int:
        with self._lock:
            old = [
                k
                for k in self._windows
                if (k.model, k.seconds) == (model, seconds) and k.start < before
            ]
            for k in old:
                del self._windows[k]
        return len(old)

    def write_points(self, points: Sequence[MetricPoint], *, now: float) -> None:
        with self._lock:
            for p in points:
                key = (p.model, p.version, p.window_start, p.window_seconds, p.name)
                self._points[(*key, labels_key(p.labels))] = p

    def query_points(
        self,
        model: str,
        name: str | None = None,
        *,
        version: str | None = None,
        window_seconds: float | None = None,
        since: float | None = None,
        until: float | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[MetricPoint]:
        wanted = dict(labels or {})
        with self._lock:
            found = [
                (key, p)
                for key, p in self._points.items()
                if p.model == model
                and (name is None or p.name == name)
                and (version is None or p.version == version)
                and (window_seconds is None or p.window_seconds == window_seconds)
                and (since is None or p.window_start >= since)
                and (until is None or p.window_start < until)
                and all(p.labels.get(k) == v for k, v in wanted.items())
            ]
        found.sort(key=lambda kp: (kp[1].window_start, kp[1].name, kp[0][5], kp[1].version))
        return [p for _, p in found]

    def query_series(
        self,
        model: str,
        names: Sequence[str],
        *,
        version: str | None = None,
        window_seconds: float | None = None,
        since: float | None = None,
        until: float | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[SeriesRow]:
        out: list[SeriesRow] = []
        for name in dict.fromkeys(names):
            for p in self.query_points(
                model,
                name,
                version=version,
                window_seconds=window_seconds,
                since=since,
                until=until,
                labels=labels,
            ):
                value = None if math.isnan(p.value) else p.value
                out.append((p.name, p.version, labels_key(p.labels), p.window_start, value))
        return out

    def save_predictions(self, predictions: Sequence[Prediction]) -> None:
        with self._lock:
            for p in predictions:
                self._predictions.setdefault((p.model, p.id), p)

    def find_predictions(self, model: str, ids: Sequence[str]) -> dict[str, Prediction]:
        with self._lock:
            return {
                i: self._predictions[(model, i)] for i in ids if (model, i) in self._predictions
            }

    def save_labels(self, model: str, labels: Sequence[tuple[str, str, float]]) -> list[str]:
        new: list[str] = []
        with self._lock:
            for i, label, ts in labels:
                if (model, i) not in self._labels:
                    self._labels[(model, i)] = (label, ts)
                    new.append(i)
        return new

    def _in_range(self, model: str, version: str, start: float, end: float) -> list[Prediction]:
        return [
            p
            for (m, _), p in self._predictions.items()
            if m == model and p.version == version and start <= p.timestamp < end
        ]

    def labelled(self, model: str, version: str, start: float, end: float) -> Labelled:
        with self._lock:
            rows = [
                (p, self._labels[(model, p.id)][0])
                for p in self._in_range(model, version, start, end)
                if (model, p.id) in self._labels
            ]
        rows.sort(key=lambda r: (r[0].timestamp, r[0].id))
        return Labelled(
            predictions=[p.prediction for p, _ in rows],
            scores=[p.score for p, _ in rows],
            labels=[label for _, label in rows],
            ids=[p.id for p, _ in rows],
            segments=[p.segment for p, _ in rows],
        )

    def count_predictions(self, model: str, version: str, start: float, end: float) -> int:
        with self._lock:
            return len(self._in_range(model, version, start, end))

    def purge_predictions(self, model: str, before: float) -> int:
        with self._lock:
            old = [
                k for k, p in self._predictions.items() if k[0] == model and p.timestamp < before
            ]
            for k in old:
                del self._predictions[k]
                self._labels.pop(k, None)
        return len(old)

    def save_alert(
        self,
        model: str,
        rule: str,
        labels: Mapping[str, str],
        state: str,
        started_at: float,
        evidence: Mapping[str, Any],
    ) -> int:
        with self._lock:
            alert_id = len(self._alerts) + 1
            self._alerts[alert_id] = AlertRecord(
                alert_id, model, rule, dict(labels), state, started_at, None, dict(evidence)
            )
            return alert_id

    def update_alert(
        self,
        alert_id: int,
        *,
        state: str,
        resolved_at: float | None,
        evidence: Mapping[str, Any],
    ) -> None:
        with self._lock:
            old = self._alerts.get(alert_id)
            if old is None:
                raise StoreError(
                    f"alert {alert_id!r}: not in the store; expected a saved id",
                    field="alert_id",
                    value=alert_id,
                    expected="an id returned by save_alert",
                )
            self._alerts[alert_id] = replace(
                old, state=state, resolved_at=resolved_at, evidence=dict(evidence)
            )

    def alerts(self, model: str | None = None, state: str | None = None) -> list[AlertRecord]:
        with self._lock:
            found = [
                a
                for a in self._alerts.values()
                if (model is None or a.model == model) and (state is None or a.state == state)
            ]
        return sorted(found, key=lambda a: -a.id)

    def save_silence(
        self,
        matchers: Mapping[str, str],
        ends_at: float,
        *,
        comment: str,
        created_by: str,
        created_at: float,
    ) -> SilenceRecord:
        with self._lock:
            record = SilenceRecord(
                len(self._silences) + 1,
                dict(matchers),
                float(ends_at),
                comment,
                created_by,
                created_at,
            )
            self._silences.append(record)
        return record

    def silences(self) -> list[SilenceRecord]:
        with self._lock:
            return list(self._silences)

    def close(self) -> None:
        """Nothing to release."""
