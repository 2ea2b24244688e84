"""Results out: the late-label join, and metric points as a DataFrame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor._ingest import Ingestion
from watchkeeper.monitor.analysis import performance_points
from watchkeeper.store import MetricPoint, WindowKey
from watchkeeper.units import parse_duration, to_epoch, to_timestamps

__all__ = ["LabelReport", "Results"]


@dataclass(frozen=True)
class LabelReport:
    """What ``log_labels`` did: labels joined, and ids it could not use."""

    received: int
    joined: int
    unknown_ids: tuple[str, ...]
    duplicate_ids: tuple[str, ...]
    windows_updated: int


class Results(Ingestion):
    """Ground truth in, figures out."""

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
