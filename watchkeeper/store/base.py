"""The store seam: what the monitor keeps, and the one interface every backend offers.

A store holds, per model: its versions (with their schema), references (profiles,
kept forever so past analyses can name the reference they used), window profiles
(one partial per writer, merged when read), metric points, the predictions needed to
join late labels (ids, time and outputs only, never features), and labels.

Two implementations: :class:`~watchkeeper.store.memory.MemoryStore` (tests, notebooks)
and :class:`~watchkeeper.store.sql.SQLStore` (SQLite file by default, PostgreSQL for
teams). ``tests/unit/store`` runs one contract suite over all of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "AlertRecord",
    "Labelled",
    "MetricPoint",
    "Prediction",
    "SeriesRow",
    "SilenceRecord",
    "Store",
    "VersionInfo",
    "WindowKey",
    "labels_key",
]


def labels_key(labels: Mapping[str, str]) -> str:
    """Canonical text of a label set (sorted JSON), the identity of a metric series.

    Examples
    --------
    >>> labels_key({"quantile": "0.5", "feature": "age"})
    '{"feature":"age","quantile":"0.5"}'
    """
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"))


@dataclass(frozen=True, order=True)
class WindowKey:
    """One window of one model version: ``[start, start + seconds)`` in epoch seconds."""

    model: str
    version: str
    start: float
    seconds: float

    @property
    def end(self) -> float:
        return self.start + self.seconds


@dataclass(frozen=True)
class MetricPoint:
    """One analysed figure of one window.

    ``labels`` say which series (``feature``, ``method``, ``quantile`` …) and never hold
    ids or raw values; ``reference_id`` names the reference the figure was computed
    against (``None`` for figures that need none, such as latency).
    """

    model: str
    version: str
    window_start: float
    window_seconds: float
    name: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    reference_id: int | None = None


SeriesRow = tuple[str, str, str, float, float | None]
"""``(name, version, labels_json, window_start, value)``: see :meth:`Store.query_series`."""


@dataclass(frozen=True)
class Prediction:
    """What is kept of a prediction to join its label later."""

    model: str
    version: str
    id: str
    timestamp: float
    prediction: str | None
    score: float | None
    segment: str | None = None
    """The row's segments as :func:`labels_key` text (``{"region": "south"}``), for
    performance per segment; ``None`` without segments."""


@dataclass(frozen=True)
class Labelled:
    """The predictions of a time range that have a label, as parallel lists."""

    predictions: list[str | None]
    scores: list[float | None]
    labels: list[str]
    ids: list[str] = field(default_factory=list)
    """The predictions' ids, in the same order (error analysis finds the rows by them)."""
    segments: list[str | None] = field(default_factory=list)
    """Each row's :attr:`Prediction.segment` (empty when the backend keeps none)."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version and the schema it was registered with."""

    model: str
    version: str
    schema: dict[str, object]
    created_at: float


@dataclass(frozen=True)
class AlertRecord:
    """One alert of one rule and label set: when it fired, why, and when it resolved."""

    id: int
    model: str
    rule: str
    labels: Mapping[str, str]
    state: str
    started_at: float
    resolved_at: float | None
    evidence: Mapping[str, Any]


@dataclass(frozen=True)
class SilenceRecord:
    """Notifications of alerts whose labels match every matcher are held back until
    ``ends_at`` (epoch seconds)."""

    id: int
    matchers: Mapping[str, str]
    ends_at: float
    comment: str
    created_by: str
    created_at: float


@runtime_checkable
class Store(Protocol):
    """Where the monitor keeps what it learns; every method is safe to call concurrently
    from several processes writing to the same backend (partials merge on read)."""

    url: str

    def register_version(
        self, model: str, version: str, schema: Mapping[str, object], *, now: float
    ) -> None:
        """Record a model version and its schema (idempotent; the first schema is kept)."""

    def versions(self, model: str | None = None) -> list[VersionInfo]:
        """Registered versions, oldest first, optionally of one model."""

    def save_reference(self, model: str, version: str, profile: bytes, *, now: float) -> int:
        """Keep a reference profile; returns its id (increasing)."""

    def latest_reference(self, model: str, version: str) -> tuple[int, bytes] | None:
        """The newest reference of a version, or ``None``."""

    def reference(self, reference_id: int) -> bytes:
        """A reference profile by id; :class:`StoreError` when unknown."""

    def save_window(self, key: WindowKey, writer: str, blob: bytes, *, now: float) -> None:
        """Insert or replace this writer's partial state of a window."""

    def window_partials(self, key: WindowKey) -> dict[str, bytes]:
        """Every writer's partial of a window, ``{writer: blob}``."""

    def window_starts(
        self, model: str, version: str, seconds: float, since: float, until: float
    ) -> list[float]:
        """Starts of the stored windows of that size in ``[since, until)``, sorted."""

    def purge_windows(self, model: str, seconds: float, before: float) -> int:
        """Delete window states of one size that start before ``before`` (every version
        and writer); their metric points stay. Returns how many rows went."""

    def write_points(self, points: Sequence[MetricPoint], *, now: float) -> None:
        """Insert metric points, replacing any with the same series and window."""

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
        """Points matching every given filter (``labels``: each pair must match),
        ordered by window start, then name and labels."""

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
        """The points of several names as plain rows ``(name, version, labels as
        canonical JSON, window start, value or None for NaN)``, each series in time
        order: the fast path for charts (no object per point)."""

    def save_predictions(self, predictions: Sequence[Prediction]) -> None:
        """Keep predictions for the label join; an id already kept is left as it is."""

    def find_predictions(self, model: str, ids: Sequence[str]) -> dict[str, Prediction]:
        """The kept predictions among ``ids``."""

    def save_labels(self, model: str, labels: Sequence[tuple[str, str, float]]) -> list[str]:
        """Keep ``(id, label, timestamp)`` rows; returns the ids that were new (an id
        already labelled keeps its first label and is not returned)."""

    def labelled(self, model: str, version: str, start: float, end: float) -> Labelled:
        """Predictions in ``[start, end)`` of a version joined with their labels."""

    def count_predictions(self, model: str, version: str, start: float, end: float) -> int:
        """Kept predictions in ``[start, end)``."""

    def purge_predictions(self, model: str, before: float) -> int:
        """Delete predictions (and their labels) older than ``before``; returns how many."""

    def save_alert(
        self,
        model: str,
        rule: str,
        labels: Mapping[str, str],
        state: str,
        started_at: float,
        evidence: Mapping[str, Any],
    ) -> int:
        """Record a new alert; returns its id."""

    def update_alert(
        self,
        alert_id: int,
        *,
        state: str,
        resolved_at: float | None,
        evidence: Mapping[str, Any],
    ) -> None:
        """Change an alert's state (e.g. to ``resolved``) and evidence."""

    def alerts(self, model: str | None = None, state: str | None = None) -> list[AlertRecord]:
        """Alerts, newest first, optionally of one model and state."""

    def save_silence(
        self,
        matchers: Mapping[str, str],
        ends_at: float,
        *,
        comment: str,
        created_by: str,
        created_at: float,
    ) -> SilenceRecord:
        """Keep a silence; returns it with its id."""

    def silences(self) -> list[SilenceRecord]:
        """Every silence, oldest first (expired ones included)."""

    def close(self) -> None:
        """Release connections."""
