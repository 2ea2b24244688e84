"""Analysis of one closed window: its state in, metric points out.

Families and the point names they write (labels in brackets):

- software: ``requests``, ``throughput_per_second``, ``latency_seconds`` [quantile],
  ``latency_count``, ``latency_sum_seconds``,
  ``errors`` [kind], ``error_rate``, ``tagged_requests`` [tags…];
- inputs, per feature [feature]: ``missing_ratio``, ``type_errors``, ``mean``, ``std``,
  ``out_of_range_share``, ``new_category_share``, ``new_categories``, ``cardinality``,
  ``empty_ratio``; drift [feature, method]: ``feature_drift`` (the statistic),
  ``feature_drift_threshold``, ``feature_drifted`` (0/1), ``feature_drift_p_value``;
  ``dataset_drift_share``, ``dataset_drifted``, ``drifted_features``;
- outputs [output]: ``output_quantile`` [quantile], ``output_mean``, ``output_count``,
  ``class_frequency``
  [class], ``empty_output_ratio``, ``output_drift`` [method], ``output_drift_threshold``,
  ``output_drifted``; ``estimated_accuracy`` / ``_precision`` / ``_recall`` / ``_f1``
  from the score's distribution (binary classification with a score output);
- performance from labels: ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
  ``log_loss``, ``confusion`` [actual, predicted]; ``mae``, ``rmse``, ``mape``, ``r2``;
  ``labelled_rows`` and ``label_coverage``;
- custom: ``custom_metric`` [metric, stat, tags…], ``event_count`` [event];
  ``rejected_values`` [column, problem];
- saturation, per service instance [instance_id, stat]: the points of
  :data:`watchkeeper.metrics.SATURATION` (``process_cpu_utilisation``, …).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from watchkeeper.errors import WatchkeeperWarning
from watchkeeper.metrics import METRICS
from watchkeeper.monitor.window import WindowState, merged_state
from watchkeeper.profile import DatasetProfile
from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.numeric import NumericProfile
from watchkeeper.profile.quality import missing_ratio, new_categories, out_of_range_share
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.profile.text import TextProfile
from watchkeeper.stats import DriftDetector
from watchkeeper.stats.performance import (
    classification_metrics,
    estimate_binary,
    regression_metrics,
)
from watchkeeper.store.base import Labelled, MetricPoint, WindowKey

__all__ = [
    "LATENCY_QUANTILES",
    "OUTPUT_QUANTILES",
    "POINT_NAMES",
    "ReferenceContext",
    "Task",
    "analyse_window",
    "merged_state",
    "performance_points",
]

LATENCY_QUANTILES = (0.5, 0.95, 0.99)
OUTPUT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
POINT_NAMES = frozenset(spec.name for spec in METRICS)
"""Every metric point name the analysis writes: the catalogue's (:mod:`watchkeeper.metrics`)."""

MAX_CLASSES = 50
"""Classes reported per output (frequencies, confusion); the rest are summed as ``other``."""


@dataclass
class ReferenceContext:
    """A reference as the analysis uses it: its store id, profile and fitted detector."""

    id: int
    profile: DatasetProfile
    detector: DriftDetector
    sample: Reservoir | None = None
    """A uniform sample of the reference's rows (``None``: not kept)."""


@dataclass(frozen=True)
class Task:
    """What the model predicts, for performance: which output holds the prediction and
    which the positive-class score, and the kind of problem."""

    kind: Literal["classification", "regression"] | None = None
    prediction: str | None = None
    score: str | None = None
    positive: str | None = None
    classes: tuple[str, ...] = ()
    """Every class the model can predict (from the reference), so a window that sees
    only one class still scores it as a binary or multiclass problem."""


class _Points:
    def __init__(self, key: WindowKey, reference_id: int | None) -> None:
        self.key = key
        self.reference_id = reference_id
        self.out: list[MetricPoint] = []

    def add(self, name: str, value: float, uses_reference: bool = False, **labels: str) -> None:
        self.add_labels(name, value, labels, uses_reference)

    def add_labels(
        self, name: str, value: float, labels: dict[str, str], uses_reference: bool = False
    ) -> None:
        k = self.key
        self.out.append(
            MetricPoint(
                k.model,
                k.version,
                k.start,
                k.seconds,
                name,
                float(value),
                labels,
                self.reference_id if uses_reference else None,
            )
        )


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def analyse_window(
    state: WindowState,
    key: WindowKey,
    reference: ReferenceContext | None,
    task: Task,
) -> list[MetricPoint]:
    """Every metric point of a window except performance from labels."""
    pts = _Points(key, reference.id if reference else None)
    _software(state, key, pts)
    profile = state.profile
    ref_columns = reference.profile.columns if reference else {}
    for spec in profile.schema:
        col = profile.columns[spec.name]
        if spec.role == "feature":
            _feature(spec.name, col, ref_columns.get(spec.name), profile, pts)
        elif spec.role == "output":
            _output(spec.name, col, ref_columns.get(spec.name), pts)
    if reference is not None and profile.n_rows:
        _drift(profile, reference, pts)
    if task.kind == "classification" and task.score is not None:
        score = profile.columns.get(task.score)
        if isinstance(score, NumericProfile) and score.count:
            grid = score.quantiles(np.linspace(0.0025, 0.9975, 200))
            est = estimate_binary(np.clip(grid, 0.0, 1.0))
            for name in ("accuracy", "precision", "recall", "f1"):
                pts.add(f"estimated_{name}", getattr(est, name))
    for column, problems in state.issues.items():
        for problem, (count, _example) in problems.items():
            pts.add("rejected_values", count, column=column, problem=problem)
    for series, (count, total, low, high) in state.custom.items():
        labels = json.loads(series) if series != "other" else {"metric": "other"}
        for stat, value in (
            ("count", count),
            ("sum", total),
            ("mean", _ratio(total, count)),
            ("min", low),
            ("max", high),
        ):
            pts.add("custom_metric", value, stat=stat, **labels)
    for event, count in state.events.items():
        pts.add("event_count", count, event=event)
    for name, labels, value in state.resources.points():
        pts.add_labels(name, value, labels)
    return pts.out


def _software(state: WindowState, key: WindowKey, pts: _Points) -> None:
    pts.add("requests", state.requests)
    pts.add("throughput_per_second", state.requests / key.seconds if key.seconds else math.nan)
    for q, value in zip(LATENCY_QUANTILES, state.latency_quantiles(LATENCY_QUANTILES), strict=True):
        pts.add("latency_seconds", value, quantile=str(q))
    pts.add("latency_count", float(state.latency.n))
    pts.add("latency_sum_seconds", state.latency_sum)
    n_errors = sum(state.errors.values())
    pts.add("error_rate", _ratio(n_errors, state.requests) if state.requests else 0.0)
    for kind, count in state.errors.items():
        pts.add("errors", count, kind=kind)
    for tags, count in state.tagged.items():
        labels = json.loads(tags) if tags != "other" else {"tags": "other"}
        pts.add("tagged_requests", count, **labels)


def _feature(
    name: str,
    col: NumericProfile | CategoricalProfile | TextProfile,
    ref: NumericProfile | CategoricalProfile | TextProfile | None,
    profile: DatasetProfile,
    pts: _Points,
) -> None:
    pts.add("missing_ratio", missing_ratio(col), feature=name)
    pts.add("type_errors", profile.type_errors.get(name, 0), feature=name)
    if isinstance(col, NumericProfile):
        pts.add("mean", col.mean if col.count else math.nan, feature=name)
        pts.add("std", col.std, feature=name)
        if isinstance(ref, NumericProfile):
            pts.add("out_of_range_share", out_of_range_share(col, ref), True, feature=name)
    elif isinstance(col, CategoricalProfile):
        pts.add("cardinality", col.cardinality, feature=name)
        if isinstance(ref, CategoricalProfile):
            share, named = new_categories(col, ref)
            pts.add("new_category_share", share, True, feature=name)
            pts.add("new_categories", len(named), True, feature=name)
    else:
        pts.add("empty_ratio", col.empty_ratio, feature=name)
        pts.add("mean", col.lengths.mean if col.lengths.count else math.nan, feature=name)


def _output(
    name: str,
    col: NumericProfile | CategoricalProfile | TextProfile,
    ref: NumericProfile | CategoricalProfile | TextProfile | None,
    pts: _Points,
) -> None:
    empty = col.missing + (col.non_finite if isinstance(col, NumericProfile) else 0)
    if isinstance(col, TextProfile):
        empty += col.empty
    elif isinstance(col, CategoricalProfile):
        # an empty answer the reference never gave is counted among the new values
        empty += col.counts.get("", 0) + dict(col.top_other(MAX_CLASSES)).get("", 0)
    pts.add("empty_output_ratio", _ratio(empty, col.n_total), output=name)
    if isinstance(col, NumericProfile):
        for q, value in zip(
            OUTPUT_QUANTILES, col.quantiles(np.array(OUTPUT_QUANTILES)), strict=True
        ):
            pts.add("output_quantile", value, output=name, quantile=str(q))
        pts.add("output_mean", col.mean if col.count else math.nan, output=name)
        pts.add("output_count", col.count, output=name)
    elif isinstance(col, CategoricalProfile) and col.count:
        ranked = sorted(col.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:MAX_CLASSES]
        for cls, count in shown:
            pts.add_labels("class_frequency", count / col.count, {"output": name, "class": cls})
        rest = col.count - sum(n for _, n in shown)
        if rest:
            pts.add_labels("class_frequency", rest / col.count, {"output": name, "class": "other"})


def _drift(profile: DatasetProfile, reference: ReferenceContext, pts: _Points) -> None:
    with warnings.catch_warnings():
        # small windows warn by design; the verdict already accounts for sample size
        warnings.simplefilter("ignore", WatchkeeperWarning)
        result = reference.detector.compare(profile)
    roles = {spec.name: spec.role for spec in profile.schema}
    n_features = 0
    n_drifted = 0
    for col in result.columns:
        if roles.get(col.column) == "output":
            prefix, labels = "output_drift", {"output": col.column, "method": col.method}
        else:
            prefix, labels = "feature_drift", {"feature": col.column, "method": col.method}
            n_features += 1
            n_drifted += int(col.drifted)
        pts.add(prefix, col.statistic, True, **labels)
        pts.add(f"{prefix}_threshold", col.threshold, True, **labels)
        pts.add(f"{prefix}_p_value", col.p_value_adjusted, True, **labels)
        drifted = "output_drifted" if prefix == "output_drift" else "feature_drifted"
        pts.add(drifted, float(col.drifted), True, **labels)
    if n_features:
        share = n_drifted / n_features
        pts.add("dataset_drift_share", share, True)
        pts.add("drifted_features", n_drifted, True)
        pts.add("dataset_drifted", float(share >= result.drift_share_threshold), True)


def performance_points(
    key: WindowKey, labelled: Labelled, requests: int, task: Task
) -> list[MetricPoint]:
    """Performance of a window's labelled predictions, with the rows behind each figure."""
    pts = _Points(key, None)
    n = len(labelled.labels)
    pts.add("labelled_rows", n)
    pts.add("label_coverage", min(1.0, _ratio(n, requests)) if requests else math.nan)
    if n == 0 or task.kind is None:
        return pts.out
    if task.kind == "regression":
        y = np.array([_to_float(v) for v in labelled.labels])
        p = np.array([_to_float(v) for v in labelled.predictions])
        ok = np.isfinite(y) & np.isfinite(p)
        r = regression_metrics(y[ok], p[ok])
        for name in ("mae", "rmse", "mape", "r2"):
            pts.add(name, getattr(r, name))
        return pts.out
    keep = [i for i, p in enumerate(labelled.predictions) if p is not None]
    y_true = [labelled.labels[i] for i in keep]
    y_pred = [str(labelled.predictions[i]) for i in keep]
    scores = [labelled.scores[i] for i in keep]
    with_scores = task.score is not None and all(s is not None for s in scores)
    classes = sorted(set(task.classes) | set(y_true) | set(y_pred))
    binary = len(classes) == 2
    positive = task.positive if task.positive in classes else classes[-1]
    m = classification_metrics(
        y_true,
        y_pred,
        scores=np.array(scores, dtype=np.float64) if with_scores and binary else None,
        classes=classes,
        positive=positive if binary else None,
    )
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"):
        pts.add(name, getattr(m, name))
    shown = m.classes[:MAX_CLASSES]
    for i, actual in enumerate(shown):
        for j, predicted in enumerate(shown):
            pts.add("confusion", m.confusion[i][j], actual=actual, predicted=predicted)
    return pts.out


def _to_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
