"""How a window's performance compares with the model's normal: its realised metrics
from labels (with the standard errors the comparison needs), the baseline (the labelled
reference's performance, else a trailing mean of the labelled windows before it), and the
``performance_drop`` / ``performance_degraded`` [metric, basis] points that the default
rules of :mod:`watchkeeper.alerts.performance` read (and ``accuracy_degraded``, the same
verdict for the realised accuracy without labels, so ``LowAccuracy`` is one alert per
model).

The comparison itself is :func:`watchkeeper.stats.performance.relative.compare_to_baseline`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from watchkeeper.monitor.analysis import Task
from watchkeeper.stats.performance import (
    PerformanceEstimate,
    classification_metrics,
    regression_metrics,
)
from watchkeeper.stats.performance.relative import binomial_se, compare_to_baseline
from watchkeeper.store import Labelled, MetricPoint, Store, WindowKey

__all__ = [
    "MIN_LABELS",
    "TRAILING_WINDOWS",
    "FittedEstimator",
    "Judgement",
    "WindowPoints",
    "realised_metrics",
]

TRAILING_WINDOWS = 24
"""Labelled windows before a window that make its baseline without a labelled reference."""
MIN_LABELS = 30
"""Labels a window needs before its realised performance is judged."""


@dataclass(frozen=True)
class FittedEstimator:
    """What ``Monitor.fit_estimator`` learnt: the method, the reference rows and their
    realised performance (the baseline of the relative judgement)."""

    method: str
    n: int
    reference: Mapping[str, float]


class Judgement:
    """Judges windows of one model version against its normal.

    Parameters
    ----------
    store, model, version
        Where the points of earlier windows are read (the trailing baseline).
    """

    def __init__(self, store: Store, model: str, version: str) -> None:
        self.store = store
        self.model = model
        self.version = version

    def judge(
        self,
        key: WindowKey,
        realised: Mapping[str, float],
        estimate: PerformanceEstimate | None,
        fitted: FittedEstimator | None,
        reference_se: Mapping[str, float],
        out: WindowPoints,
    ) -> None:
        """Add ``performance_drop`` and ``performance_degraded`` [metric, basis] of a
        window to ``out``: from its realised metrics (with enough labels) against the
        fitted reference's, else the trailing baseline; from its estimate (with an
        estimator) against the fitted reference's."""
        n = int(realised.get("n", 0))
        names = ("mae", "rmse") if "mae" in realised else ("accuracy",)
        if n >= MIN_LABELS:
            for name in names:
                base = self._baseline(key, name, fitted)
                if base is None:
                    continue
                se = realised.get(f"{name}_se", math.nan)
                c = compare_to_baseline(
                    name, realised[name], base[0], current_se=se, baseline_se=base[1]
                )
                out.add("performance_drop", c.drop, metric=name, basis="realised")
                out.add("performance_degraded", float(c.degraded), metric=name, basis="realised")
                if name == "accuracy":  # the headline, one alert per model (LowAccuracy)
                    out.add("accuracy_degraded", float(c.degraded))
        if estimate is None or fitted is None:
            return
        z = float(norm.ppf(0.5 + estimate.confidence / 2))
        for name in ("mae", "rmse") if "mae" in estimate.metrics else ("accuracy", "f1"):
            interval = estimate.metrics[name]
            reference = fitted.reference.get(name, math.nan)
            c = compare_to_baseline(
                name,
                interval.value,
                reference,
                current_se=interval.width / (2 * z),
                baseline_se=reference_se.get(name, 0.0),
            )
            out.add("performance_drop", c.drop, metric=name, basis="estimated")
            out.add("performance_degraded", float(c.degraded), metric=name, basis="estimated")

    def _baseline(
        self, key: WindowKey, name: str, fitted: FittedEstimator | None
    ) -> tuple[float, float] | None:
        """The model's normal for ``name``: the labelled reference's value, else the
        label-weighted mean of the labelled windows before ``key`` not judged degraded
        (at least 3 of the last :data:`TRAILING_WINDOWS`); with its standard error
        (binomial for accuracy, none for error metrics of recent windows)."""
        if fitted is not None and name in fitted.reference:
            value = fitted.reference[name]
            se = binomial_se(value, fitted.n) if name == "accuracy" else 0.0
            return value, se
        since = key.start - TRAILING_WINDOWS * key.seconds
        query: Callable[[str], list[MetricPoint]] = lambda metric: self.store.query_points(  # noqa: E731
            self.model,
            metric,
            version=self.version,
            window_seconds=key.seconds,
            since=since,
            until=key.start,
        )
        values = {p.window_start: p.value for p in query(name) if p.window_start < key.start}
        counts = {p.window_start: p.value for p in query("labelled_rows")}
        # a degraded window is not normal: an incident that lasts stays judged against
        # the normal before it instead of becoming the new normal
        degraded = {
            p.window_start
            for p in query("performance_degraded")
            if p.value == 1.0 and p.labels == {"metric": name, "basis": "realised"}
        }
        pairs = [
            (v, counts.get(s, 0.0))
            for s, v in values.items()
            if math.isfinite(v) and counts.get(s, 0.0) >= MIN_LABELS and s not in degraded
        ]
        if len(pairs) < 3:
            return None
        total = sum(w for _, w in pairs)
        mean = sum(v * w for v, w in pairs) / total
        se = binomial_se(mean, int(total)) if name == "accuracy" else 0.0
        return mean, se


class WindowPoints:
    """The metric points of one window, as they are added."""

    def __init__(self, key: WindowKey) -> None:
        self.key = key
        self.points: list[MetricPoint] = []

    def add(self, name: str, value: float, **labels: str) -> None:
        k = self.key
        self.points.append(
            MetricPoint(k.model, k.version, k.start, k.seconds, name, float(value), labels, None)
        )


def realised_metrics(labelled: Labelled, task: Task) -> dict[str, float]:
    """The realised metrics the estimates are checked against, with the standard errors
    the relative judgement uses; ``{}`` without labels."""
    if not labelled.labels or task.kind is None:
        return {}
    if task.kind == "regression":
        y = np.array([_float(v) for v in labelled.labels])
        p = np.array([_float(v) for v in labelled.predictions])
        ok = np.isfinite(y) & np.isfinite(p)
        y, p = y[ok], p[ok]
        if y.size < 2:
            return {}
        r = regression_metrics(y, p)
        err = p - y
        sq_se = float(np.std(err**2, ddof=1)) / math.sqrt(y.size)
        return {
            "n": float(r.n),
            "mae": r.mae,
            "rmse": r.rmse,
            "mae_se": float(np.std(np.abs(err), ddof=1)) / math.sqrt(y.size),
            "rmse_se": sq_se / (2 * r.rmse) if r.rmse > 0 else 0.0,
        }
    keep = [i for i, p in enumerate(labelled.predictions) if p is not None]
    if not keep:
        return {}
    y_true = [labelled.labels[i] for i in keep]
    y_pred = [str(labelled.predictions[i]) for i in keep]
    classes = sorted(set(task.classes) | set(y_true) | set(y_pred))
    binary = len(classes) == 2
    positive = task.positive if task.positive in classes else classes[-1]
    scores = [labelled.scores[i] for i in keep]
    with_scores = binary and task.score is not None and all(s is not None for s in scores)
    m = classification_metrics(
        y_true,
        y_pred,
        scores=np.array(scores, dtype=np.float64) if with_scores else None,
        classes=classes,
        positive=positive if binary else None,
    )
    out = {
        "n": float(m.n),
        "accuracy": m.accuracy,
        "precision": m.precision,
        "recall": m.recall,
        "f1": m.f1,
        "accuracy_se": binomial_se(m.accuracy, m.n),
    }
    if with_scores:
        out["roc_auc"] = m.roc_auc
    return out


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
