"""Segments in the Monitor: per-segment profiles per window, drift and performance per
segment, and the weak-segment ranking, written as metric points.

With ``segments=["region", "channel"]`` every window keeps, beside its dataset profile,
a :class:`~watchkeeper.profile.segments.SegmentSet`: one profile per tracked value of
each column (the reference's ``segment_top_k`` most frequent, plus ``other``), updated
with the window's vectorised batch update, stored with the window and merged like it.
When the window is analysed:

- **drift per segment**: each segment's profile against the same segment of the
  reference (the reference's rows of that value), by
  :class:`~watchkeeper.stats.DriftDetector` with the settings of
  :func:`~watchkeeper.stats.segments.segment_drift_config`: a false-alarm rate divided by
  the number of segments of the column (Bonferroni), so that on stationary data the
  chance that any segment of a column is flagged stays at the configured rate, judged on
  the methods' analytic p-values (no simulation per segment);
- **performance per segment** (with labels): kept predictions carry their row's
  segments (``Prediction.segment``), so the labelled rows of a window split by segment:
  accuracy and confusion (classification) or mean absolute error (regression) per
  segment, and :func:`~watchkeeper.stats.segments.rank_segments` ranks them by the lower
  confidence bound of the drop against the same segment of the reference, when the
  reference's schema has a column of role ``label`` (its rows then carry their ground
  truth), else against the rest of the window's traffic.

Per-segment references are learnt from reference *data* (a data frame, mapping or data
file); a reference given only as a profile has no per-segment rows, so its segments get
profiles and performance but no drift verdict.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from watchkeeper._batch import Columns, to_columns
from watchkeeper.errors import ConfigError, WatchkeeperWarning
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analysis import Task
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile
from watchkeeper.profile.segments import OTHER_SEGMENT, SegmentSet
from watchkeeper.schema import Schema, ValidatedBatch
from watchkeeper.stats import DriftDetector
from watchkeeper.stats.segments import (
    SegmentMetric,
    SegmentOutcome,
    outcomes_by_segment,
    rank_segments,
    segment_drift_config,
)
from watchkeeper.store import Labelled, MetricPoint, WindowKey, labels_key

__all__ = ["MAX_SEGMENT_CLASSES", "MIN_REFERENCE_ROWS", "SegmentPart"]

MIN_REFERENCE_ROWS = 30
"""Reference rows a segment needs before its drift is judged."""
MAX_SEGMENT_CLASSES = 10
"""Classes in a segment's confusion matrix; a problem with more writes none per segment."""
MAX_VALUE_CHARS = 200
"""A segment value kept with a prediction is cut to this length."""


class SegmentPart:
    """The segments of one monitor: their templates, references and analysis.

    Parameters
    ----------
    config
        ``segments``, ``segment_top_k``, the drift settings.

    Notes
    -----
    Called under the monitor's lock (``new_set``, ``fold``, ``row_segments``, ``learn``)
    and on its analyser thread (``points``); the caches it fills are keyed by reference
    id and written whole, so the analyser never sees one half-built.
    """

    def __init__(self, config: MonitorConfig) -> None:
        self.columns = tuple(config.segments)
        self.top_k = config.segment_top_k
        self.config = config
        self._templates: dict[int | None, SegmentSet] = {}
        self._references: dict[int, SegmentSet] = {}
        self._reference_outcomes: dict[int, dict[str, dict[str, SegmentOutcome]]] = {}
        self._detectors: dict[tuple[int, str, str], DriftDetector] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.columns)

    def check(self, schema: Schema | None) -> None:
        """Fail at load on a segment column the known schema lacks or cannot split by.

        Raises
        ------
        ConfigError
            A segment column is not in ``schema``, or is numeric or a datetime.
        """
        if schema is None:
            return
        for column in self.columns:
            if column not in schema:
                raise ConfigError(
                    f"segments: column {column!r} is not in the schema; expected one of: "
                    f"{', '.join(schema.names)}",
                    field="segments",
                    value=column,
                    expected=", ".join(schema.names),
                )
            if schema[column].kind in ("numeric", "datetime"):
                raise ConfigError(
                    f"segments: column {column!r} is {schema[column].kind}; expected a "
                    "categorical, boolean or text column",
                    field="segments",
                    value=column,
                    expected="a categorical, boolean or text column",
                )

    # -- windows --------------------------------------------------------------------

    def new_set(
        self, schema: Schema, reference: tuple[int, DatasetProfile] | None
    ) -> SegmentSet | None:
        """Empty per-segment profiles for a new window (``None`` without segments); the
        tracked values are the reference's most frequent, else first come. A configured
        column absent from the schema, or numeric, is left out."""
        if not self.columns:
            return None
        ref_id = None if reference is None else reference[0]
        template = self._templates.get(ref_id)
        if template is None:
            usable = [c for c in self.columns if c in schema and schema[c].kind != "numeric"]
            usable = [c for c in usable if schema[c].kind != "datetime"]
            if reference is None:
                template = SegmentSet.for_schema(usable, schema, top_k=self.top_k)
            else:
                template = SegmentSet.for_reference(usable, reference[1], top_k=self.top_k)
            self._templates[ref_id] = template
        return template.empty_like()

    @staticmethod
    def fold(state: WindowState, batch: ValidatedBatch, timestamps: Any) -> None:
        """Add a window's validated batch to its per-segment profiles (one sort and one
        vectorised update per segment present)."""
        if state.segments is not None:
            state.segments.update(batch, timestamps=timestamps)

    def row_segments(self, columns: Columns, n: int) -> list[str | None] | None:
        """Each row's segment values as :func:`labels_key` text, kept with its prediction
        (``None`` without segments); the value is mapped to its segment (or ``other``)
        when the window is analysed."""
        if not self.columns:
            return None
        per_column = [(c, _inputs.as_texts(columns.get(c), n)) for c in self.columns]
        keys: dict[tuple[str | None, ...], str | None] = {}
        out: list[str | None] = []
        # one JSON text per distinct combination of values, not per row
        for combo in zip(*(texts for _, texts in per_column), strict=True):
            key = keys.get(combo, "")
            if key == "":
                row = {
                    c: v[:MAX_VALUE_CHARS]
                    for (c, _), v in zip(per_column, combo, strict=True)
                    if v is not None
                }
                key = keys[combo] = labels_key(row) if row else None
            out.append(key)
        return out

    # -- references -----------------------------------------------------------------

    def learn(
        self,
        ref_id: int | None,
        reference: Any,
        profile: DatasetProfile | None,
        task: Task | None = None,
    ) -> None:
        """Profile the reference's rows per segment (``reference``: data, or a data file;
        a profile has no rows and is skipped). When the reference's schema has a column
        of role ``label`` beside the prediction, its performance per segment becomes the
        baseline of the weak-segment ranking (else each segment is compared with the rest
        of the window's traffic)."""
        if not self.columns or ref_id is None or profile is None or ref_id in self._references:
            return
        if isinstance(reference, DatasetProfile) or reference is None:
            return
        if isinstance(reference, str | Path):
            if Path(reference).suffix == ".wkprof":
                return
            from watchkeeper.tables import read_table

            reference = read_table(Path(reference))
        usable = [c for c in self.columns if c in profile.schema]
        usable = [c for c in usable if profile.schema[c].kind not in ("numeric", "datetime")]
        segments = SegmentSet.for_reference(usable, profile, top_k=self.top_k)
        self._references[ref_id] = segments.update_table(reference)
        if task is not None:
            outcomes = _reference_outcomes(segments, reference, profile.schema, task)
            if outcomes:
                self._reference_outcomes[ref_id] = outcomes

    def _detector(self, ref_id: int, column: str, segment: str, m: int) -> DriftDetector | None:
        key = (ref_id, column, segment)
        found = self._detectors.get(key)
        if found is not None:
            return found
        ref = self._references.get(ref_id)
        if ref is None or column not in ref.parts:
            return None
        profile = ref[column].profiles.get(segment)
        if profile is None or profile.n_rows < MIN_REFERENCE_ROWS:
            return None
        methods = dict(self.config.column_methods)
        drift = segment_drift_config(self.config.drift, m, methods)
        detector = DriftDetector(drift, column_methods=methods)
        self._detectors[key] = detector.fit(profile)
        return self._detectors[key]

    # -- analysis -------------------------------------------------------------------

    def drift_points(self, state: WindowState, key: WindowKey) -> list[MetricPoint]:
        """Rows and drift per segment of a window."""
        out: list[MetricPoint] = []
        if state.segments is None:
            return out
        ref_id = state.reference_id
        for part in state.segments:
            m = len(part.values) + 1
            for segment, profile in sorted(part.profiles.items()):
                labels = {"segment_column": part.column, "segment": segment}
                out.append(_point(key, "segment_rows", profile.n_rows, labels))
                detector = (
                    None if ref_id is None else self._detector(ref_id, part.column, segment, m)
                )
                if detector is None or not profile.n_rows:
                    continue
                with warnings.catch_warnings():
                    # small segments warn by design; the verdict accounts for sample size
                    warnings.simplefilter("ignore", WatchkeeperWarning)
                    result = detector.compare(profile)
                roles = {s.name: s.role for s in profile.schema}
                features = [
                    c
                    for c in result.columns
                    if roles.get(c.column) == "feature" and c.column != part.column
                ]
                drifted = sum(c.drifted for c in features)
                share = drifted / len(features) if features else 0.0
                for name, value in (
                    ("segment_drift_share", share),
                    ("segment_drifted_features", drifted),
                    ("segment_drifted", float(drifted > 0)),
                ):
                    out.append(_point(key, name, value, labels, ref_id))
        return out

    def performance_points(
        self, state: WindowState | None, key: WindowKey, labelled: Labelled, task: Task
    ) -> list[MetricPoint]:
        """Performance, confusion and the weak-segment ranking per segment of a window."""
        out: list[MetricPoint] = []
        if state is None or state.segments is None or task.kind is None:
            return out
        n = len(labelled.labels)
        if not n or len(labelled.segments) != n:
            return out
        rows = [json.loads(s) if s else {} for s in labelled.segments]
        if task.kind == "regression":
            y = np.array([_to_float(v) for v in labelled.labels])
            p = np.array([_to_float(v) for v in labelled.predictions])
            values = y - p
            metric, name = "mae", "segment_mae"
        else:
            values = np.array(
                [
                    p is not None and str(p) == lab
                    for p, lab in zip(labelled.predictions, labelled.labels, strict=True)
                ],
                dtype=np.float64,
            )
            metric, name = "accuracy", "segment_accuracy"
        for part in state.segments:
            tracked = set(part.values)
            segs = [_bucket(r.get(part.column), tracked) for r in rows]
            outcomes = outcomes_by_segment(segs, values, metric)  # type: ignore[arg-type]
            ref_id = state.reference_id
            reference = {} if ref_id is None else self._reference_outcomes.get(ref_id, {})
            ranking = rank_segments(
                outcomes,
                reference.get(part.column),
                column=part.column,
                metric=metric,  # type: ignore[arg-type]
                false_alarm_rate=self.config.drift.false_alarm_rate,
            )
            for rank, weak in enumerate(ranking, start=1):
                labels = {"segment_column": part.column, "segment": weak.segment}
                for point, value in (
                    ("segment_labelled_rows", weak.n_current),
                    (name, weak.current),
                    ("segment_performance_drop", weak.drop),
                    ("segment_performance_drop_low", weak.low),
                    ("segment_performance_drop_high", weak.high),
                    ("segment_flagged", float(weak.flagged)),
                    ("segment_rank", rank),
                ):
                    out.append(_point(key, point, value, labels))
            if task.kind == "classification":
                out += _confusion(key, part.column, segs, labelled, task)
        return out


def _reference_outcomes(
    segments: SegmentSet, reference: Any, schema: Schema, task: Task
) -> dict[str, dict[str, SegmentOutcome]]:
    """Per segment column and segment, the reference's labelled outcomes (empty without
    a ``label`` column or a prediction)."""
    label = next((c.name for c in schema.columns if c.role == "label"), None)
    columns, n = to_columns(reference)
    if label is None or task.prediction is None or task.kind is None:
        return {}
    if label not in columns or task.prediction not in columns:
        return {}
    if task.kind == "regression":
        y = _inputs.as_floats(columns[label], n)
        values = y - _inputs.as_floats(columns[task.prediction], n)
        metric: SegmentMetric = "mae"
    else:
        truth = _inputs.as_texts(columns[label], n)
        pred = _inputs.as_texts(columns[task.prediction], n)
        values = np.array(
            [np.nan if t is None else float(t == p) for t, p in zip(truth, pred, strict=True)]
        )
        metric = "accuracy"
    out = {}
    for part in segments:
        tracked = set(part.values)
        segs = [_bucket(v, tracked) for v in _inputs.as_texts(columns.get(part.column), n)]
        out[part.column] = outcomes_by_segment(segs, values, metric)
    return out


def _bucket(value: str | None, tracked: set[str]) -> str:
    return value if value is not None and value in tracked else OTHER_SEGMENT


def _confusion(
    key: WindowKey, column: str, segs: Sequence[str], labelled: Labelled, task: Task
) -> list[MetricPoint]:
    preds = ["" if p is None else str(p) for p in labelled.predictions]
    classes = sorted(set(task.classes) | set(labelled.labels) | {p for p in preds if p})
    if len(classes) > MAX_SEGMENT_CLASSES:
        return []
    counts: dict[tuple[str, str, str], int] = {}
    for seg, actual, predicted in zip(segs, labelled.labels, preds, strict=True):
        if predicted:
            counts[(seg, actual, predicted)] = counts.get((seg, actual, predicted), 0) + 1
    out = []
    for seg in sorted(set(segs)):
        for actual in classes:
            for predicted in classes:
                labels = {
                    "segment_column": column,
                    "segment": seg,
                    "actual": actual,
                    "predicted": predicted,
                }
                value = counts.get((seg, actual, predicted), 0)
                out.append(_point(key, "segment_confusion", value, labels))
    return out


def _point(
    key: WindowKey,
    name: str,
    value: float,
    labels: Mapping[str, str],
    reference_id: int | None = None,
) -> MetricPoint:
    return MetricPoint(
        key.model,
        key.version,
        key.start,
        key.seconds,
        name,
        float(value),
        dict(labels),
        reference_id,
    )


def _to_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
